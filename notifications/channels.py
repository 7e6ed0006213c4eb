"""Channels: how a written message reaches the patient.

A channel turns a ``MessageContent`` into what its backend sends.  Email goes through
Django's email backends (console or file in development, SMTP in production); SMS through
the backends of ``notifications.sms`` (``SMS_BACKEND``: console, file, locmem, Twilio).
Each is registered in ``CHANNELS`` under a ``Channel`` value.

``resend_is_recognisable`` is the capability the outbox needs after a hand-over whose outcome is
unknown (the worker died before recording it, or the provider never answered): a copy sent again
can be recognised by the receiver as the same message.  Email: always (the same Message-ID, from
the row's key).  SMS: only when the backend passes an idempotency key the provider honours;
otherwise such a row stops as "unknown" for a person to decide, and the outbox claims such rows
one at a time (``notifications.services``).
"""

from __future__ import annotations

import hashlib
import smtplib
from contextlib import AbstractContextManager
from typing import Any, Protocol

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.mail import EmailMultiAlternatives, get_connection
from django.urls import reverse
from django.utils.module_loading import import_string

from clinic.models import Patient
from notifications.kinds import MessageContent
from notifications.models import Channel, Reminder
from notifications.sms import SmsMessage, SmsOutcomeUnknown, SmsRefused, SmsTransientError, get_sms_connection
from notifications.sms.segments import sms_normalise

SMTP_TIMEOUT_SECONDS = 30


class MessageChannel(Protocol):
    #: Whether a second copy of one message is recognisable as the same message by whoever receives it.
    resend_is_recognisable: bool

    def why_unreachable(self, patient: Patient) -> str:
        """Why this channel cannot reach the patient ("" when it can)."""

    def connection(self) -> AbstractContextManager[Any]:
        """One connection to the backend, opened and closed around a send."""

    def send(self, *, reminder: Reminder, content: MessageContent, connection: Any) -> None:
        """Hand one message to the backend; raise when it is refused."""

    def is_transient(self, error: Exception) -> bool:
        """Whether trying again later may succeed (server down) rather than never (address refused)."""

    def is_outcome_unknown(self, error: Exception) -> bool:
        """Whether the backend cannot tell if the message went out (it timed out after sending)."""


def message_id(reminder: Reminder) -> str:
    """The same Message-ID for every copy of one outbox row, so a receiver can tell a re-send apart."""
    digest = hashlib.sha256(reminder.key.encode()).hexdigest()[:32]
    domain = settings.DEFAULT_FROM_EMAIL.rsplit("@", 1)[-1].strip(" >") or "localhost"
    return f"<reminder-{digest}@{domain}>"


class EmailChannel:
    resend_is_recognisable = True

    def why_unreachable(self, patient: Patient) -> str:
        return "" if patient.email_reachable else "The patient has no email address."

    def connection(self) -> AbstractContextManager[Any]:
        return get_connection(timeout=SMTP_TIMEOUT_SECONDS)

    def message(self, *, reminder: Reminder, content: MessageContent, connection: Any = None) -> EmailMultiAlternatives:
        message = EmailMultiAlternatives(
            subject=" ".join(content.subject.split()),
            body=content.text,
            to=[reminder.patient.user.email],
            connection=connection,
            headers={"X-Clinic-Reminder": reminder.key, "Message-ID": message_id(reminder), **content.headers},
        )
        if content.html:
            message.attach_alternative(content.html, "text/html")
        for filename, data, mimetype in content.attachments:
            message.attach(filename, data, mimetype)
        return message

    def send(self, *, reminder: Reminder, content: MessageContent, connection: Any) -> None:
        self.message(reminder=reminder, content=content, connection=connection).send()

    def is_transient(self, error: Exception) -> bool:
        if isinstance(error, smtplib.SMTPRecipientsRefused):
            return False
        if isinstance(error, smtplib.SMTPResponseException) and 500 <= error.smtp_code < 600:
            return False
        return isinstance(error, smtplib.SMTPException | OSError)

    def is_outcome_unknown(self, error: Exception) -> bool:
        return False  # an SMTP server answers, or the message was not accepted


def sms_idempotency_key(reminder: Reminder) -> str:
    """The same key for every copy of one outbox row (the provider drops a repeat, if it honours keys)."""
    return "reminder-" + hashlib.sha256(reminder.key.encode()).hexdigest()[:32]


def sms_status_callback_url(reminder: Reminder) -> str:
    return settings.SITE_URL + reverse("notifications:sms_status", kwargs={"reminder_id": reminder.pk})


class SmsChannel:
    @property
    def resend_is_recognisable(self) -> bool:
        return bool(getattr(import_string(settings.SMS_BACKEND), "supports_idempotency_key", False))

    def why_unreachable(self, patient: Patient) -> str:
        if patient.sms_stopped_at is not None:
            return "The patient's number replied STOP to our texts."
        if not patient.phone or not patient.phone.is_valid():
            return "The patient has no valid mobile number."
        return ""

    def connection(self) -> AbstractContextManager[Any]:
        return get_sms_connection()

    def message(self, *, reminder: Reminder, content: MessageContent) -> SmsMessage:
        body = content.sms or f"{settings.CLINIC_NAME}: {content.subject}"
        return SmsMessage(
            to=reminder.patient.phone.as_e164,
            body=sms_normalise(body),
            idempotency_key=sms_idempotency_key(reminder),
            status_callback=sms_status_callback_url(reminder) if reminder.pk else "",
        )

    def send(self, *, reminder: Reminder, content: MessageContent, connection: Any) -> None:
        message = self.message(reminder=reminder, content=content)
        connection.send_messages([message])
        reminder.provider_message_id = message.provider_message_id[:64]
        reminder.provider_status = message.provider_status[:24]

    def is_transient(self, error: Exception) -> bool:
        if isinstance(error, SmsOutcomeUnknown):
            # Sending again is safe only when the provider can drop the copy.
            return self.resend_is_recognisable
        if isinstance(error, SmsRefused | ImproperlyConfigured):
            return False
        return isinstance(error, SmsTransientError | OSError)

    def is_outcome_unknown(self, error: Exception) -> bool:
        return isinstance(error, SmsOutcomeUnknown)


CHANNELS: dict[str, MessageChannel] = {Channel.EMAIL: EmailChannel(), Channel.SMS: SmsChannel()}


def channel_get(name: str) -> MessageChannel:
    return CHANNELS[name]
