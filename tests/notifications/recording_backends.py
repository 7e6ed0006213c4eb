"""Email and SMS backends that record every accepted message as a file, safe between processes.

The real-worker tests start several Celery workers (each with pool processes) and kill them;
what the "server" accepted must survive the kill and be countable afterwards.  Each accepted
message is one JSON file in ``REMINDER_TEST_MAIL_DIR``, written to a hidden temporary name and
then renamed (or linked) into place, so a file is either whole or absent, whoever else writes at
the same moment.  The rename is the moment the server "accepts"; ``REMINDER_TEST_AFTER_ACCEPT_SECONDS``
pauses after it, widening the window between hand-over and the COMMIT that records "sent", and
``REMINDER_TEST_BUSY_DIR`` names the processes inside that window.

``KeyedRecordingSmsBackend`` is a provider that honours idempotency keys: a second text with a
key it has already accepted is recorded as a dropped copy and not delivered again.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from pathlib import Path
from typing import Any

from django.core.mail.backends.base import BaseEmailBackend

from notifications.sms import SmsMessage
from notifications.sms.backends.base import BaseSmsBackend


def _folder() -> Path:
    return Path(os.environ["REMINDER_TEST_MAIL_DIR"])


def _pause_after_accept() -> None:
    """Wait between the server's acceptance and the sender's COMMIT; while waiting, the process is
    listed in ``REMINDER_TEST_BUSY_DIR`` (if set), so a test can kill a worker right in that window."""
    seconds = float(os.environ.get("REMINDER_TEST_AFTER_ACCEPT_SECONDS", "0"))
    busy_dir = os.environ.get("REMINDER_TEST_BUSY_DIR")
    if not busy_dir:
        time.sleep(seconds)
        return
    marker = Path(busy_dir) / str(os.getpid())
    marker.write_text(str(os.getpgid(0)))
    try:
        time.sleep(seconds)
    finally:
        marker.unlink(missing_ok=True)


def _staged(record: dict[str, Any]) -> Path:
    """The record written whole under a hidden name (never counted until it is moved into place)."""
    staging = _folder() / f".staging-{uuid.uuid4().hex}"
    staging.write_text(json.dumps({**record, "pid": os.getpid(), "worker": os.getpgid(0)}))
    return staging


def deliveries(folder: Path) -> list[dict[str, Any]]:
    """Every message the recording backends accepted (dropped copies included, as ``sms-dropped``)."""
    return [json.loads(path.read_text()) for path in sorted(folder.glob("*.json"))]


class RecordingEmailBackend(BaseEmailBackend):
    def send_messages(self, email_messages):  # type: ignore[no-untyped-def]
        for message in email_messages:
            headers = message.extra_headers
            record = {"channel": "email", "key": headers["X-Clinic-Reminder"], "message_id": headers["Message-ID"]}
            os.replace(_staged(record), _folder() / f"email-{uuid.uuid4().hex}.json")
            _pause_after_accept()
        return len(email_messages)


class RecordingSmsBackend(BaseSmsBackend):
    """An SMS provider without idempotency keys: every request it accepts is a text on a phone."""

    supports_idempotency_key = False

    def _accept(self, message: SmsMessage, record: dict[str, Any]) -> None:
        os.replace(_staged(record), _folder() / f"sms-{uuid.uuid4().hex}.json")

    def send_messages(self, messages: list[SmsMessage]) -> int:
        for message in messages:
            record = {"channel": "sms", "idempotency_key": message.idempotency_key, "to": message.to}
            self._accept(message, record)
            message.provider_message_id = f"REC{uuid.uuid4().hex}"
            message.provider_status = "sent"
            _pause_after_accept()
        return len(messages)


class KeyedRecordingSmsBackend(RecordingSmsBackend):
    """An SMS provider that drops a second request with an idempotency key it already accepted."""

    supports_idempotency_key = True

    def _accept(self, message: SmsMessage, record: dict[str, Any]) -> None:
        staged = _staged(record)
        try:
            # A hard link fails if the name exists: create-if-absent, atomically, whole.
            os.link(staged, _folder() / f"sms-{message.idempotency_key}.json")
        except FileExistsError:
            os.replace(_staged({**record, "channel": "sms-dropped"}), _folder() / f"dropped-{uuid.uuid4().hex}.json")
        finally:
            staged.unlink()
