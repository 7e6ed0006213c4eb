"""Channels: how a written message reaches the patient.

A channel turns a ``MessageContent`` into what its backend sends.  Email goes through
Django's email backends (console or file in development, SMTP in production).  Another
channel (SMS) is a class with the same three methods, registered in ``CHANNELS`` under a
``Channel`` value, with a backend chosen in settings the way ``EMAIL_BACKEND`` is.
"""

from __future__ import annotations

import hashlib
import smtplib
from contextlib import AbstractContextManager
from typing import Any, Protocol

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection

from notifications.kinds import MessageContent
from notifications.models import Channel, Reminder

SMTP_TIMEOUT_SECONDS = 30


class MessageChannel(Protocol):
    #: Whether a second copy of one message is recognisable as the same message by whoever receives it
    #: (email: the same Message-ID, built from the row's key).  The outbox sends such a message again
    #: when its worker died between hand-over and recording the result; a message on a channel without
    #: it stops as "unknown" for a person to decide, and is claimed one at a time (see services).
    resend_is_recognisable: bool

    def connection(self) -> AbstractContextManager[Any]:
        """One connection to the backend, opened and closed around a send."""

    def send(self, *, reminder: Reminder, content: MessageContent, connection: Any) -> None:
        """Hand one message to the backend; raise when it is refused."""

    def is_transient(self, error: Exception) -> bool:
        """Whether trying again later may succeed (server down) rather than never (address refused)."""


def message_id(reminder: Reminder) -> str:
    """The same Message-ID for every copy of one outbox row, so a receiver can tell a re-send apart."""
    digest = hashlib.sha256(reminder.key.encode()).hexdigest()[:32]
    domain = settings.DEFAULT_FROM_EMAIL.rsplit("@", 1)[-1].strip(" >") or "localhost"
    return f"<reminder-{digest}@{domain}>"


class EmailChannel:
    resend_is_recognisable = True

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


CHANNELS: dict[str, MessageChannel] = {Channel.EMAIL: EmailChannel()}


def channel_get(name: str) -> MessageChannel:
    return CHANNELS[name]
