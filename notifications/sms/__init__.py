"""Text messages, shaped like ``django.core.mail``: a message, backends, and ``get_sms_connection``.

``SMS_BACKEND`` names the backend class as ``EMAIL_BACKEND`` does:

* ``notifications.sms.backends.console.SmsBackend`` prints each text (development default);
* ``notifications.sms.backends.file.SmsBackend`` appends them to a file under ``SMS_FILE_PATH``;
* ``notifications.sms.backends.locmem.SmsBackend`` keeps them in ``notifications.sms.outbox``
  (the test default; the test fixtures empty it);
* ``notifications.sms.backends.twilio.SmsBackend`` posts them to Twilio's Messages API.

A backend raises ``SmsTransientError`` when trying later may succeed (provider down, rate limit)
and ``SmsRefused`` when it never will (the number cannot receive texts).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.utils.module_loading import import_string

__all__ = [
    "SmsError",
    "SmsMessage",
    "SmsOutcomeUnknown",
    "SmsRefused",
    "SmsTransientError",
    "get_sms_connection",
    "outbox",
]

# Filled by the locmem backend, like ``django.core.mail.outbox``.
outbox: list[SmsMessage] = []


class SmsError(Exception):
    """A text was not handed over."""


class SmsTransientError(SmsError):
    """The provider could not take the text now; trying again later may succeed."""


class SmsOutcomeUnknown(SmsError):
    """The request reached the provider, but no answer came back: the text may or may not be on its way."""


class SmsRefused(SmsError):
    """The provider refused the text for good (e.g. the number cannot receive texts)."""


@dataclass
class SmsMessage:
    """One text to one number (E.164)."""

    to: str
    body: str
    from_number: str = ""
    # Sent to providers that de-duplicate by it; the same for every copy of one outbox row.
    idempotency_key: str = ""
    # Where the provider posts the delivery status (an absolute URL), if anywhere.
    status_callback: str = ""
    # Filled in by the backend: the provider's id for the message and its first status.
    provider_message_id: str = ""
    provider_status: str = ""


def get_sms_connection(backend: str | None = None, *, fail_silently: bool = False, **kwargs: Any) -> Any:
    """An instance of the configured (or the named) SMS backend, as ``django.core.mail.get_connection``."""
    backend_class = import_string(backend or settings.SMS_BACKEND)
    return backend_class(fail_silently=fail_silently, **kwargs)
