"""Invariant 4 against a real Redis and real Celery worker processes.

Each test starts its own throwaway redis-server (so restarting it disturbs nobody) and
workers that use this test's PostgreSQL database and write mail to a folder, one file
per message, tagged with the reminder's key (fixtures in ``conftest.py``, machinery in
``real_workers.py``).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from collections import Counter
from collections.abc import Callable
from datetime import time as dt_time
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import timezone

from bookings.services.reminders import BookingMessage
from clinic.models import Patient
from notifications.channels import sms_idempotency_key
from notifications.models import Channel, Reminder, ReminderSettings
from notifications.services import reminder_plan
from tests.factories import PatientFactory
from tests.notifications.real_workers import PYTHON, wait_for
from tests.notifications.recording_backends import deliveries

pytestmark = [
    pytest.mark.redis,
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not shutil.which("redis-server"), reason="needs the redis-server binary"),
]

MARKER = "X-Clinic-Reminder: "


def _rules(**values: int) -> None:
    # No quiet hours: the workers read the real clock, and these tests must not depend on the time of day.
    ReminderSettings.objects.update_or_create(
        pk=1, defaults={"quiet_hours_start": dt_time(0), "quiet_hours_end": dt_time(0), **values}
    )


def _due_reminders(patient, count: int) -> list[Reminder]:
    now = timezone.now()
    return [
        reminder_plan(key=f"nudge:worker-test:{n}", kind=BookingMessage.REBOOKING_NUDGE, patient=patient, due_at=now)[0]
        for n in range(count)
    ]


def _sent_keys(mail_dir: Path) -> Counter:
    keys: Counter = Counter()
    for path in mail_dir.iterdir():
        for line in path.read_text().splitlines():
            if line.startswith(MARKER):
                keys[line.removeprefix(MARKER).strip()] += 1
    return keys


_wait_for = wait_for


def _all_in_state(state: str) -> Callable[[], bool]:
    return lambda: not Reminder.objects.exclude(state=state).exists()


def test_five_dispatchers_at_once_send_each_due_reminder_once(patient, start_worker, dispatch, mail_dir):
    _rules(requeue_after_seconds=300)
    reminders = _due_reminders(patient, 12)
    start_worker()
    dispatch(times=5)
    _wait_for(_all_in_state(Reminder.State.SENT))
    assert _sent_keys(mail_dir) == Counter({reminder.key: 1 for reminder in reminders})


def test_duplicate_messages_for_one_reminder_still_send_it_once(patient, start_worker, worker_env, mail_dir):
    """Even with the dispatcher's lease out of the way, five messages per row send one email."""
    _rules()
    reminders = _due_reminders(patient, 6)
    ids = ",".join(str(reminder.pk) for reminder in reminders)
    code = (
        "import django; django.setup(); from notifications.tasks import reminder_send\n"
        f"for _ in range(5):\n    for pk in ({ids},): reminder_send.delay(pk)"
    )
    subprocess.run([PYTHON, "-c", code], cwd=settings.BASE_DIR, env=worker_env, check=True, timeout=60)  # noqa: S603
    start_worker(REMINDER_TEST_SEND_SECONDS="0.3")
    _wait_for(_all_in_state(Reminder.State.SENT))
    time.sleep(1)  # let the duplicate messages run out
    assert _sent_keys(mail_dir) == Counter({reminder.key: 1 for reminder in reminders})


def _states() -> Counter:
    return Counter(Reminder.objects.values_list("state", flat=True))


def _message_ids(mail_dir: Path) -> dict[str, set[str]]:
    ids: dict[str, set[str]] = {}
    for path in mail_dir.iterdir():
        for message in path.read_text().split("-" * 79):  # the file backend's separator between messages
            headers = dict(line.split(": ", 1) for line in message.strip().splitlines() if ": " in line)
            if "X-Clinic-Reminder" in headers:
                ids.setdefault(headers["X-Clinic-Reminder"].strip(), set()).add(headers["Message-ID"].strip())
    return ids


def test_worker_killed_before_hand_over_sends_each_reminder_once(patient, start_worker, dispatch, mail_dir):
    _rules(requeue_after_seconds=2)
    reminders = _due_reminders(patient, 3)
    slow = start_worker(REMINDER_TEST_SEND_SECONDS="30")
    dispatch()
    # The batch is claimed and committed before the first hand-over: every row shows "sending".
    _wait_for(lambda: _states() == Counter({Reminder.State.SENDING: 3}), timeout=30)
    os.killpg(slow.pid, signal.SIGKILL)
    slow.wait(timeout=10)
    assert _sent_keys(mail_dir) == Counter()
    assert set(Reminder.objects.values_list("attempts", flat=True)) == {1}  # committed, never rolled back

    start_worker()
    time.sleep(2.5)  # the killed worker's lease runs out
    dispatch()
    _wait_for(_all_in_state(Reminder.State.SENT))
    assert _sent_keys(mail_dir) == Counter({reminder.key: 1 for reminder in reminders})
    assert set(Reminder.objects.values_list("attempts", flat=True)) == {2}


def test_worker_killed_between_hand_over_and_commit_never_sends_a_new_message_id(
    patient, start_worker, dispatch, mail_dir
):
    """The issue's outside test: kills timed after the mail server accepted, before the row says sent."""
    _rules(requeue_after_seconds=2)
    reminders = _due_reminders(patient, 4)
    for _ in range(3):  # three kills, each after at least one hand-over
        accepted = sum(_sent_keys(mail_dir).values())
        worker = start_worker(REMINDER_TEST_AFTER_ACCEPT_SECONDS="30")
        dispatch()
        _wait_for(lambda accepted=accepted: sum(_sent_keys(mail_dir).values()) > accepted, timeout=30)
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(timeout=10)
        time.sleep(2.5)  # its lease runs out

    start_worker()
    dispatch()
    _wait_for(lambda: not Reminder.objects.filter(state__in=["pending", "sending"]).exists(), timeout=60)
    assert set(_states()) <= {Reminder.State.SENT, Reminder.State.UNKNOWN}
    message_ids = _message_ids(mail_dir)
    rows = list(Reminder.objects.values_list("key", "state", "attempts", "last_error"))
    assert set(message_ids) == {reminder.key for reminder in reminders}, rows
    assert all(len(ids) == 1 for ids in message_ids.values()), message_ids  # copies, never a new Message-ID
    for reminder in Reminder.objects.all():
        assert reminder.attempts >= 1


def test_restarting_redis_loses_no_reminder(patient, redis_server, start_worker, dispatch, mail_dir):
    _rules(requeue_after_seconds=2)
    reminders = _due_reminders(patient, 5)
    dispatch()  # no worker yet: the messages wait in Redis ...
    assert redis_server.queued() == 1  # one batch of five
    redis_server.stop()  # ... and die with it (no persistence)
    redis_server.start()
    assert redis_server.queued() == 0

    start_worker()
    time.sleep(2.5)
    dispatch()
    _wait_for(_all_in_state(Reminder.State.SENT))
    assert _sent_keys(mail_dir) == Counter({reminder.key: 1 for reminder in reminders})


def test_failing_mail_server_leads_to_retries_then_a_failed_row_not_a_crash(patient, start_worker, dispatch, mail_dir):
    _rules(max_attempts=3, retry_backoff_seconds=1, requeue_after_seconds=300)
    (reminder,) = _due_reminders(patient, 1)
    worker = start_worker(REMINDER_TEST_SMTP_DOWN="1")
    dispatch()
    _wait_for(_all_in_state(Reminder.State.FAILED), timeout=60)
    reminder.refresh_from_db()
    assert reminder.attempts == 3
    assert "SMTPServerDisconnected" in reminder.last_error
    assert worker.poll() is None  # the worker is still running
    assert _sent_keys(mail_dir) == Counter()


# --- SMS: a worker killed after the provider accepted a text -----------------------------------


@pytest.mark.parametrize(
    ("backend", "killed_text_ends", "copies_the_provider_dropped"),
    [
        # Without idempotency keys a copy would be a second text on the phone: "unknown", never re-sent.
        ("RecordingSmsBackend", Reminder.State.UNKNOWN, 0),
        # With them the copy is sent, the provider recognises and drops it, and the row ends "sent".
        ("KeyedRecordingSmsBackend", Reminder.State.SENT, 1),
    ],
)
def test_a_text_whose_worker_died_after_the_provider_accepted_it_reaches_the_phone_once(
    backend, killed_text_ends, copies_the_provider_dropped, start_worker, dispatch, mail_dir
):
    _rules(requeue_after_seconds=2)
    patient = PatientFactory(phone="07911 123456", message_channels=Patient.MessageChannels.SMS)
    now = timezone.now()
    texts = [
        reminder_plan(
            key=f"nudge:text-test:{n}", kind=BookingMessage.REBOOKING_NUDGE, patient=patient, due_at=now, channel="sms"
        )[0]
        for n in range(2)
    ]
    assert {text.channel for text in texts} == {Channel.SMS}
    backend_env = {"REMINDER_TEST_SMS_BACKEND": f"tests.notifications.recording_backends.{backend}"}

    worker = start_worker(REMINDER_TEST_AFTER_ACCEPT_SECONDS="30", **backend_env)
    dispatch()
    wait_for(lambda: len(deliveries(mail_dir)) == 1, timeout=30, what="the provider to accept the first text")
    (killed,) = Reminder.objects.filter(pk=texts[0].pk, state=Reminder.State.SENDING)
    os.killpg(worker.pid, signal.SIGKILL)
    worker.wait(timeout=10)
    time.sleep(2.5)  # its lease runs out

    start_worker(**backend_env)
    dispatch()
    wait_for(lambda: not Reminder.objects.filter(state__in=["pending", "sending"]).exists(), what="the texts to end")
    received = deliveries(mail_dir)
    on_the_phone = Counter(record["idempotency_key"] for record in received if record["channel"] == "sms")
    assert on_the_phone == Counter({sms_idempotency_key(text): 1 for text in texts})
    assert sum(record["channel"] == "sms-dropped" for record in received) == copies_the_provider_dropped
    states = dict(Reminder.objects.values_list("pk", "state"))
    assert states == {killed.pk: killed_text_ends, texts[1].pk: Reminder.State.SENT}
    killed.refresh_from_db()
    assert killed.attempts == 1 + copies_the_provider_dropped  # every hand-over counted, none rolled back
    if killed_text_ends == Reminder.State.UNKNOWN:
        assert "unknown" in killed.last_error


def test_a_worker_busy_sending_survives_a_redis_restart_and_sends_what_comes_after(
    patient, redis_server, start_worker, dispatch, mail_dir
):
    """Celery 5.7 with kombu 5.7 stopped with "Unrecoverable error: AttributeError('NoneType' object has
    no attribute 'hostname')" when the broker went away while it held an unacknowledged message."""
    _rules(requeue_after_seconds=2)
    (first,) = _due_reminders(patient, 1)
    worker = start_worker(REMINDER_TEST_SEND_SECONDS="3")
    dispatch()
    _wait_for(lambda: _states() == Counter({Reminder.State.SENDING: 1}), timeout=30)
    assert redis_server.unacknowledged() == 1  # the worker holds the batch's message while it sends
    redis_server.stop()
    time.sleep(1)
    redis_server.start()

    _wait_for(_all_in_state(Reminder.State.SENT))
    time.sleep(3)  # the worker reconnects (or, before the fix, has exited)
    assert worker.poll() is None, "the worker stopped when Redis restarted"
    later = reminder_plan(
        key="nudge:worker-test:later", kind=BookingMessage.REBOOKING_NUDGE, patient=patient, due_at=timezone.now()
    )[0]
    dispatch()
    _wait_for(_all_in_state(Reminder.State.SENT), what="the worker to send a reminder after the restart")
    assert _sent_keys(mail_dir) == Counter({first.key: 1, later.key: 1})
