"""Mail backends that stand in for a misbehaving mail server (selected by settings or environment).

``SlowFileBackend`` is what the real-worker tests give the Celery worker: it waits
``REMINDER_TEST_SEND_SECONDS`` before "the server accepts" (writing the file), so a test
can kill the worker in the middle of a send.  ``FailingBackend`` is a mail server that is down.
"""

from __future__ import annotations

import os
import smtplib
import time

from django.core.mail.backends.base import BaseEmailBackend
from django.core.mail.backends.filebased import EmailBackend as FileBackend


class SlowFileBackend(FileBackend):
    def send_messages(self, email_messages):  # type: ignore[no-untyped-def]
        if os.environ.get("REMINDER_TEST_SMTP_DOWN"):
            raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed (test mail server is down)")
        time.sleep(float(os.environ.get("REMINDER_TEST_SEND_SECONDS", "0")))
        return super().send_messages(email_messages)


class FailingBackend(BaseEmailBackend):
    def send_messages(self, email_messages):  # type: ignore[no-untyped-def]
        raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")
