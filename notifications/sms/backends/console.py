from __future__ import annotations

import sys
import threading
from typing import Any, TextIO

from notifications.sms import SmsMessage
from notifications.sms.backends.base import BaseSmsBackend


class SmsBackend(BaseSmsBackend):
    """Writes each text to a stream (stdout unless ``stream`` is given): development."""

    def __init__(self, *, stream: TextIO | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.stream = stream or sys.stdout
        self._lock = threading.RLock()

    def write_message(self, message: SmsMessage) -> None:
        self.stream.write(f"SMS to: {message.to}\nFrom: {message.from_number or '(default)'}\n")
        if message.idempotency_key:
            self.stream.write(f"Idempotency-Key: {message.idempotency_key}\n")
        self.stream.write(f"\n{message.body}\n{'-' * 79}\n")

    def send_messages(self, messages: list[SmsMessage]) -> int:
        with self._lock:
            for message in messages:
                self.write_message(message)
                message.provider_status = "sent"
            self.stream.flush()
        return len(messages)
