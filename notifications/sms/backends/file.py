from __future__ import annotations

import datetime
import os
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from notifications.sms import SmsMessage
from notifications.sms.backends.console import SmsBackend as ConsoleSmsBackend


class SmsBackend(ConsoleSmsBackend):
    """Appends the texts of one connection to a new ``.log`` file under ``SMS_FILE_PATH``."""

    def __init__(self, *, file_path: str | None = None, **kwargs: Any) -> None:
        self.file_path = Path(file_path or settings.SMS_FILE_PATH).expanduser().resolve()
        try:
            self.file_path.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise ImproperlyConfigured(f"Could not create the SMS folder {self.file_path}: {error}") from error
        if not os.access(self.file_path, os.W_OK):
            raise ImproperlyConfigured(f"The SMS folder {self.file_path} is not writable.")
        super().__init__(stream=None, **kwargs)
        self.stream = None  # opened per connection
        self._name: Path | None = None

    def _file_name(self) -> Path:
        if self._name is None:
            stamp = datetime.datetime.now(tz=datetime.UTC).strftime("%Y%m%d-%H%M%S")
            self._name = self.file_path / f"{stamp}-{abs(id(self))}.log"
        return self._name

    def open(self) -> bool:
        if self.stream is None:
            self.stream = self._file_name().open("a", encoding="utf-8")
            return True
        return False

    def close(self) -> None:
        try:
            if self.stream is not None:
                self.stream.close()
        finally:
            self.stream = None

    def send_messages(self, messages: list[SmsMessage]) -> int:
        opened = self.open()
        try:
            return super().send_messages(messages)
        finally:
            if opened:
                self.close()
