"""Twilio's Messages API over HTTPS: a form-encoded POST with HTTP basic auth, one connection per ``with``.

Settings: ``TWILIO_ACCOUNT_SID``, ``TWILIO_AUTH_TOKEN``, and ``SMS_FROM`` (a number or sender id)
or ``TWILIO_MESSAGING_SERVICE_SID``; ``TWILIO_API_BASE_URL`` points tests at a local fake server.

Twilio's Messages API has no idempotency key, so ``supports_idempotency_key`` is False: a text
whose hand-over has an unknown outcome (the connection dropped after the request was written)
raises ``SmsOutcomeUnknown`` and is not sent again automatically.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import http.client
import json
import logging
from typing import Any
from urllib.parse import urlencode, urlsplit

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from notifications.sms import SmsMessage, SmsOutcomeUnknown, SmsRefused, SmsTransientError
from notifications.sms.backends.base import BaseSmsBackend

logger = logging.getLogger(__name__)

# Twilio answers these when trying later may help: rate limit and server trouble.
TRANSIENT_STATUSES = {408, 429, 500, 502, 503, 504}


def twilio_signature(*, url: str, params: dict[str, str], auth_token: str) -> str:
    """Twilio's X-Twilio-Signature: base64 HMAC-SHA1 of the URL followed by each POST parameter's
    name and value, sorted by name, keyed with the account's auth token."""
    payload = url + "".join(f"{name}{params[name]}" for name in sorted(params))
    digest = hmac.new(auth_token.encode(), payload.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def twilio_signature_valid(*, url: str, params: dict[str, str], signature: str, auth_token: str) -> bool:
    if not auth_token or not signature:
        return False
    expected = twilio_signature(url=url, params=params, auth_token=auth_token)
    return hmac.compare_digest(expected, signature)


class SmsBackend(BaseSmsBackend):
    supports_idempotency_key = False

    def __init__(
        self,
        *,
        account_sid: str | None = None,
        auth_token: str | None = None,
        base_url: str | None = None,
        timeout: float | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.account_sid = account_sid or settings.TWILIO_ACCOUNT_SID
        self.auth_token = auth_token or settings.TWILIO_AUTH_TOKEN
        if not (self.account_sid and self.auth_token):
            raise ImproperlyConfigured("The Twilio SMS backend needs TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN.")
        url = urlsplit(base_url or settings.TWILIO_API_BASE_URL)
        self.scheme, self.host, self.port = url.scheme, url.hostname or "", url.port
        self.path_prefix = url.path.rstrip("/")
        self.timeout = timeout if timeout is not None else settings.SMS_TIMEOUT_SECONDS
        self.connection: http.client.HTTPConnection | None = None

    def open(self) -> bool:
        if self.connection is not None:
            return False
        connection_class = http.client.HTTPSConnection if self.scheme == "https" else http.client.HTTPConnection
        self.connection = connection_class(self.host, self.port, timeout=self.timeout)
        return True

    def close(self) -> None:
        if self.connection is not None:
            self.connection.close()
            self.connection = None

    def _form(self, message: SmsMessage) -> dict[str, str]:
        form = {"To": message.to, "Body": message.body}
        sender = message.from_number or settings.SMS_FROM
        if settings.TWILIO_MESSAGING_SERVICE_SID and not message.from_number:
            form["MessagingServiceSid"] = settings.TWILIO_MESSAGING_SERVICE_SID
        elif sender:
            form["From"] = sender
        else:
            raise ImproperlyConfigured("Set SMS_FROM or TWILIO_MESSAGING_SERVICE_SID to send texts through Twilio.")
        if message.status_callback:
            form["StatusCallback"] = message.status_callback
        return form

    def _post(self, message: SmsMessage) -> None:
        credentials = base64.b64encode(f"{self.account_sid}:{self.auth_token}".encode()).decode()
        body = urlencode(self._form(message))
        path = f"{self.path_prefix}/2010-04-01/Accounts/{self.account_sid}/Messages.json"
        headers = {
            "Authorization": f"Basic {credentials}",
            "Content-Type": "application/x-www-form-urlencoded",
            "Accept": "application/json",
        }
        self.open()
        assert self.connection is not None
        try:
            self.connection.request("POST", path, body=body, headers=headers)
        except OSError as error:
            # Nothing reached the provider: safe to try again.
            self.close()
            raise SmsTransientError(f"Could not reach the SMS provider: {error}") from error
        try:
            response = self.connection.getresponse()
            raw = response.read()
        except (OSError, http.client.HTTPException) as error:
            # The request was written; whether the provider took it is unknown.
            self.close()
            raise SmsOutcomeUnknown(f"No answer from the SMS provider after the request was sent: {error}") from error
        try:
            data = json.loads(raw or b"{}")
        except ValueError:
            data = {}
        if response.status in TRANSIENT_STATUSES:
            raise SmsTransientError(f"The SMS provider answered {response.status}: {data.get('message', '')}".strip())
        if response.status >= 400:
            raise SmsRefused(
                f"The SMS provider refused the text ({response.status}, code {data.get('code', '?')}): "
                f"{data.get('message', '')}".strip()
            )
        message.provider_message_id = str(data.get("sid", ""))
        message.provider_status = str(data.get("status", ""))

    def send_messages(self, messages: list[SmsMessage]) -> int:
        sent = 0
        for message in messages:
            try:
                self._post(message)
            except Exception:
                if not self.fail_silently:
                    raise
                logger.exception("Text to %s not sent", message.to)
            else:
                sent += 1
        return sent
