"""Mail backends that stand in for a misbehaving mail server (selected by settings or environment).

``SlowFileBackend`` is what the real-worker tests give the Celery worker: it waits
``REMINDER_TEST_SEND_SECONDS`` before "the server accepts" (writing the file) and
``REMINDER_TEST_AFTER_ACCEPT_SECONDS`` after, so a test can kill the worker before or after
the hand-over.  ``FailingBackend`` is a mail server that is down.
"""

from __future__ import annotations

import os
import smtplib
import time

from django.core.mail.backends.base import BaseEmailBackend
from django.core.mail.backends.filebased import EmailBackend as FileBackend
from django.core.mail.backends.locmem import EmailBackend as LocmemBackend


class SlowFileBackend(FileBackend):
    def send_messages(self, email_messages):  # type: ignore[no-untyped-def]
        if os.environ.get("REMINDER_TEST_SMTP_DOWN"):
            raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed (test mail server is down)")
        time.sleep(float(os.environ.get("REMINDER_TEST_SEND_SECONDS", "0")))
        sent = super().send_messages(email_messages)
        # The server has accepted the message; a worker killed during this pause dies between the
        # hand-over and recording the result (the window the outbox's "sending" state covers).
        time.sleep(float(os.environ.get("REMINDER_TEST_AFTER_ACCEPT_SECONDS", "0")))
        return sent


class FailingBackend(BaseEmailBackend):
    def send_messages(self, email_messages):  # type: ignore[no-untyped-def]
        raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")


class WorkerKilled(BaseException):
    """Stands for SIGKILL: not an ``Exception``, so no ``except Exception`` in the sender records it."""


# What the next hand-over does: None (send), "before" (die before the server accepts) or "after"
# (die after the server accepted, before the result is recorded).  Tests set and reset it.
CRASH: dict[str, str | None] = {"when": None}


class CrashingLocmemBackend(LocmemBackend):
    """The in-memory backend with a worker that may die around the hand-over of the next message."""

    def send_messages(self, email_messages):  # type: ignore[no-untyped-def]
        sent = 0
        for message in email_messages:
            when, CRASH["when"] = CRASH["when"], None
            if when == "before":
                raise WorkerKilled("killed before the mail server accepted the message")
            sent += super().send_messages([message])
            if when == "after":
                raise WorkerKilled("killed after the mail server accepted the message")
        return sent
