from __future__ import annotations

from types import TracebackType
from typing import Any, Self

from notifications.sms import SmsMessage


class BaseSmsBackend:
    """The shape of ``django.core.mail.backends.base.BaseEmailBackend``, for texts.

    ``supports_idempotency_key``: the provider drops a second message with the same
    ``idempotency_key``, so a text whose first hand-over has an unknown outcome may be sent again
    safely.  Without it, the outbox stops such a row for a person to decide.
    """

    supports_idempotency_key = False

    def __init__(self, *, fail_silently: bool = False, **kwargs: Any) -> None:
        self.fail_silently = fail_silently

    def open(self) -> bool | None:
        return None

    def close(self) -> None:
        return None

    def __enter__(self) -> Self:
        try:
            self.open()
        except Exception:
            self.close()
            raise
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.close()

    def send_messages(self, messages: list[SmsMessage]) -> int:
        """Hand the messages over; return how many were accepted."""
        raise NotImplementedError
