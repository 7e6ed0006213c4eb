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
from notifications.models import Reminder, ReminderSettings
from notifications.services import reminder_plan
from tests.notifications.real_workers import PYTHON, wait_for

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
