from __future__ import annotations

import uuid
from typing import Any

from notifications import sms
from notifications.sms import SmsMessage
from notifications.sms.backends.base import BaseSmsBackend


class SmsBackend(BaseSmsBackend):
    """Keeps the texts in ``notifications.sms.outbox`` (tests); drops a repeated idempotency key as a
    provider that honours one would."""

    supports_idempotency_key = True

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if not hasattr(sms, "outbox"):
            sms.outbox = []

    def send_messages(self, messages: list[SmsMessage]) -> int:
        seen = {message.idempotency_key for message in sms.outbox if message.idempotency_key}
        for message in messages:
            if message.idempotency_key and message.idempotency_key in seen:
                continue
            message.provider_message_id = message.provider_message_id or f"LM{uuid.uuid4().hex}"
            message.provider_status = "sent"
            sms.outbox.append(message)
            seen.add(message.idempotency_key)
        return len(messages)
