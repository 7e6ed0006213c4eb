"""Issue 15, "Done when", first bullet, second half: random kills, a Redis restart and two
dispatchers still give each reminder once and lose none.

Real Celery workers on this test's PostgreSQL database and a private redis-server; a few hundred
reminders (email, and SMS through a provider without idempotency keys) fall due over the run while

* workers are SIGKILLed (with their pool processes) at seeded random moments, each time one that
  is between handing a message over and recording it "sent" (the test backend names those
  processes), and replaced at once;
* the redis-server is killed in the middle (no persistence: every queued message is lost) and
  started again on the same port;
* two dispatchers run ``reminders_send_due`` in their own processes every half second and a
  third queues it for the workers as beat does, so dispatches overlap in several processes.

Then every row must end "sent" (an SMS may end "unknown": a text whose worker died after the
hand-over is never sent again without an idempotency key), every email key must have arrived
with exactly one Message-ID (copies only after a kill, never more than the kills could cause),
every text at most once, and no row may show fewer attempts than hand-overs.

The plain PostgreSQL pass runs the short version (300 reminders, 4 kills, 1 Redis restart). The
long one: ``CLINIC_SLOW_TESTS=1 DATABASE_URL=postgres://... REDIS_URL=redis://...
.venv/bin/python -m pytest tests/notifications/test_outbox_soak.py -m slow -s`` (``-s`` prints the
summary; ``OUTBOX_SOAK_SEED`` changes the seed).
"""

from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import time as dt_time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.utils import timezone

from bookings.services.reminders import BookingMessage
from notifications.channels import message_id, sms_idempotency_key
from notifications.models import Channel, Reminder, ReminderSettings
from notifications.services import SENT_GROUP_SIZE, reminders_plan_many
from tests.factories import PatientFactory
from tests.notifications.real_workers import PYTHON, RedisServer, worker_kill, worker_start, worker_stop
from tests.notifications.recording_backends import deliveries

pytestmark = [
    pytest.mark.redis,
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not shutil.which("redis-server"), reason="needs the redis-server binary"),
]

RUN_SLOW = bool(os.environ.get("CLINIC_SLOW_TESTS"))
SEED = int(os.environ.get("OUTBOX_SOAK_SEED", "15"))
LEASE_SECONDS = 4  # requeue_after_seconds: how long a lost queue message or a dead worker's claim holds a row
State = Reminder.State


@dataclass(frozen=True)
class SoakPlan:
    reminders: int
    kills: int
    redis_restarts: int
    due_over_seconds: float  # the rows fall due evenly over this time, and the faults happen within it
    sms_share: float = 0.15
    workers: int = 2
    concurrency: int = 2  # pool processes per worker: one kill interrupts at most this many hand-overs
    dispatchers: tuple[str, ...] = ("inline", "inline", "beat")
    redis_down_seconds: float = 1.5
    pause_after_accept_seconds: float = 0.03  # the hand-over-to-COMMIT window a kill can land in
    drain_timeout_seconds: float = 90


@dataclass
class SoakRun:
    """The faults and what the processes said: kept for the assertions' messages and the summary."""

    seed: int
    kills: list[dict[str, Any]] = field(default_factory=list)
    redis_restarts: list[dict[str, Any]] = field(default_factory=list)
    workers_died_by_themselves: list[int] = field(default_factory=list)
    dispatchers: list[dict[str, Any]] = field(default_factory=list)
    log_alarms: list[str] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)


class Soak:
    def __init__(self, plan: SoakPlan, *, redis: RedisServer, env: dict[str, str], folder: Path) -> None:
        self.plan, self.redis, self.folder = plan, redis, folder
        self.mail_dir = folder / "mail"
        self.log_dir = folder / "logs"
        self.busy_dir = folder / "busy"
        for made in (self.mail_dir, self.log_dir, self.busy_dir):
            made.mkdir()
        self.env = {
            **env,
            "REMINDER_TEST_MAIL_DIR": str(self.mail_dir),
            "REMINDER_TEST_EMAIL_BACKEND": "tests.notifications.recording_backends.RecordingEmailBackend",
            "REMINDER_TEST_SMS_BACKEND": "tests.notifications.recording_backends.RecordingSmsBackend",
            "REMINDER_TEST_AFTER_ACCEPT_SECONDS": str(plan.pause_after_accept_seconds),
            "REMINDER_TEST_BUSY_DIR": str(self.busy_dir),
        }
        self.stop_file = folder / "stop-dispatchers"
        self.rng = random.Random(SEED)
        self.run = SoakRun(seed=SEED)
        self.workers: list[subprocess.Popen] = []
        self.logs: dict[int, Path] = {}
        self.stopped = False
        self.dispatchers: list[subprocess.Popen] = []
        self.started = 0

    # --- processes ---------------------------------------------------------------------------

    def start_worker(self) -> subprocess.Popen:
        self.started += 1
        log = self.log_dir / f"worker-{self.started}.log"
        worker = worker_start(env=self.env, concurrency=self.plan.concurrency, log=log)
        self.logs[worker.pid] = log
        self.workers.append(worker)
        return worker

    def wait_ready(self, worker: subprocess.Popen, timeout: float = 90) -> None:
        log = self.logs[worker.pid]
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if b" ready." in log.read_bytes():
                return
            assert worker.poll() is None, f"worker exited at start: {log.read_text()[-2000:]}"
            time.sleep(0.2)
        raise AssertionError(f"worker not ready after {timeout:.0f} s: {log.read_text()[-2000:]}")

    def start_dispatchers(self) -> None:
        for number, mode in enumerate(self.plan.dispatchers):
            output = (self.log_dir / f"dispatcher-{number}.out").open("wb")
            self.dispatchers.append(
                subprocess.Popen(  # noqa: S603
                    [PYTHON, "-m", "tests.notifications.dispatch_loop", "--mode", mode, *self._every_half_second()],
                    cwd=settings.BASE_DIR,
                    env=self.env,
                    stdout=output,
                    stderr=subprocess.STDOUT,
                )
            )
            output.close()

    def _every_half_second(self) -> list[str]:
        return ["--interval", "0.5", "--stop-file", str(self.stop_file)]

    def stop_everything(self) -> None:
        if self.stopped:
            return
        self.stopped = True
        self.stop_file.touch()
        for number, dispatcher in enumerate(self.dispatchers):
            try:
                dispatcher.wait(timeout=30)
            except subprocess.TimeoutExpired:
                dispatcher.kill()
                dispatcher.wait()
            lines = (self.log_dir / f"dispatcher-{number}.out").read_text().strip().splitlines()
            try:
                self.run.dispatchers.append(json.loads(lines[-1]))
            except (IndexError, json.JSONDecodeError):
                self.run.dispatchers.append({"exit": dispatcher.returncode, "output": lines[-20:]})
        self.dispatchers = []
        for worker in self.workers:
            worker_stop(worker)
        for log in sorted(self.log_dir.glob("worker-*.log")):
            self.run.log_alarms += [
                f"{log.name}: {line}"
                for line in log.read_text(errors="replace").splitlines()
                if "Unrecoverable error" in line
            ]

    # --- faults ------------------------------------------------------------------------------

    def _workers_in_the_window(self) -> set[int]:
        """Workers (process groups) with a pool process between a hand-over and its COMMIT right now."""
        groups = set()
        for marker in self.busy_dir.iterdir():
            try:
                groups.add(int(marker.read_text()))
            except (FileNotFoundError, ValueError):  # the pause ended meanwhile, or is being written
                continue
        return groups

    def kill_a_sending_worker(self, at: float) -> None:
        """SIGKILL a worker while one of its processes is between hand-over and COMMIT (waiting up to
        3 s for one to be); failing that, a random one.  Then start a replacement."""
        alive = {worker.pid: worker for worker in self.workers if worker.poll() is None}
        assert alive, f"seed {SEED}: every worker had stopped by itself before the kill at {at:.1f} s; {self.run}"
        deadline = time.monotonic() + 3
        in_window: list[int] = []
        while not in_window and time.monotonic() < deadline:
            in_window = sorted(self._workers_in_the_window() & set(alive))
            if not in_window:
                time.sleep(0.005)
        victim = alive[self.rng.choice(in_window or sorted(alive))]
        worker_kill(victim)
        self.workers.remove(victim)
        for marker in self.busy_dir.iterdir():  # the dead processes' markers
            if marker.read_text() == str(victim.pid):
                marker.unlink(missing_ok=True)
        self.run.kills.append(
            {
                "at_s": round(at, 1),
                "in_hand_over_window": bool(in_window),
                "rows_sending_after": Reminder.objects.filter(state=State.SENDING).count(),
            }
        )
        self.start_worker()  # as runlocal or systemd would; its claims are taken once their lease runs out

    def note_workers_that_stopped(self) -> None:
        for worker in self.workers:
            if worker.poll() is not None and worker.pid not in self.run.workers_died_by_themselves:
                self.run.workers_died_by_themselves.append(worker.pid)

    def restart_redis(self, at: float) -> None:
        queued, taken = self.redis.queued(), self.redis.unacknowledged()
        self.redis.stop()
        time.sleep(self.plan.redis_down_seconds)
        self.redis.start()
        self.run.redis_restarts.append({"at_s": round(at, 1), "lost_queued": queued, "lost_unacknowledged": taken})

    def schedule(self) -> list[tuple[float, str]]:
        span = self.plan.due_over_seconds
        kills = [(self.rng.uniform(1, span), "kill") for _ in range(self.plan.kills)]
        restarts = [(self.rng.uniform(0.3 * span, 0.8 * span), "redis") for _ in range(self.plan.redis_restarts)]
        return sorted(kills + restarts)

    # --- the run -----------------------------------------------------------------------------

    def plan_reminders(self) -> None:
        patients = [PatientFactory() for _ in range(10)]
        start = timezone.now() + timedelta(seconds=1)
        count = self.plan.reminders
        plans = [
            {
                "key": f"nudge:soak:{number}",
                "kind": BookingMessage.REBOOKING_NUDGE,
                "patient": patients[number % len(patients)],
                "due_at": start + timedelta(seconds=self.plan.due_over_seconds * number / count),
                "channel": Channel.SMS if self.rng.random() < self.plan.sms_share else Channel.EMAIL,
            }
            for number in range(count)
        ]
        assert reminders_plan_many(plans=plans) == count

    def execute(self) -> None:
        setup_began = time.monotonic()
        first = [self.start_worker() for _ in range(self.plan.workers)]
        for worker in first:
            self.wait_ready(worker)
        self.start_dispatchers()
        schedule = self.schedule()
        self.plan_reminders()
        began = time.monotonic()
        self.run.seconds["start"] = round(began - setup_began, 1)
        for at, fault in schedule:
            time.sleep(max(0.0, began + at - time.monotonic()))
            self.note_workers_that_stopped()
            if fault == "kill":
                self.kill_a_sending_worker(at)
            else:
                self.restart_redis(at)
        self.run.seconds["faults"] = round(time.monotonic() - began, 1)
        self.drain(began)
        self.run.seconds["all_done"] = round(time.monotonic() - began, 1)
        self.note_workers_that_stopped()

    def drain(self, began: float) -> None:
        deadline = began + self.plan.due_over_seconds + self.plan.drain_timeout_seconds
        open_states = [State.PENDING, State.SENDING]
        while Reminder.objects.filter(state__in=open_states).exists():
            if time.monotonic() > deadline:
                stuck = list(
                    Reminder.objects.filter(state__in=open_states).values_list(
                        "key", "state", "attempts", "next_attempt_at", "enqueued_at", "lease_expires_at"
                    )[:10]
                )
                self.stop_everything()
                raise AssertionError(
                    f"seed {SEED}: rows still open {self.plan.drain_timeout_seconds:.0f} s after the last was due: "
                    f"{Counter(Reminder.objects.values_list('state', flat=True))}, e.g. {stuck}; {self.run}"
                )
            time.sleep(0.5)


def _rules() -> None:
    # No quiet hours (the workers read the real clock; the test must not depend on the time of day),
    # a short lease so lost work comes back within seconds, attempts enough for several kills.
    ReminderSettings.objects.update_or_create(
        pk=1,
        defaults={
            "quiet_hours_start": dt_time(0),
            "quiet_hours_end": dt_time(0),
            "requeue_after_seconds": LEASE_SECONDS,
            "max_attempts": 20,
        },
    )


def _soak(plan: SoakPlan, *, redis_server: RedisServer, worker_env: dict[str, str], tmp_path: Path) -> None:
    _rules()
    (tmp_path / "soak").mkdir()
    soak = Soak(plan, redis=redis_server, env=worker_env, folder=tmp_path / "soak")
    try:
        soak.execute()
    finally:
        soak.stop_everything()
    run = soak.run
    context = f"seed {SEED}; {run}"

    rows = {row.key: row for row in Reminder.objects.all()}
    assert len(rows) == plan.reminders
    records = deliveries(soak.mail_dir)
    email_rows = {key: row for key, row in rows.items() if row.channel == Channel.EMAIL}
    sms_rows = {sms_idempotency_key(row): row for row in rows.values() if row.channel == Channel.SMS}
    emails = Counter(record["key"] for record in records if record["channel"] == "email")
    message_ids: dict[str, set[str]] = {}
    for record in records:
        if record["channel"] == "email":
            message_ids.setdefault(record["key"], set()).add(record["message_id"])
    texts = Counter(record["idempotency_key"] for record in records if record["channel"] == "sms")

    # Every row ends sent; a text whose hand-over may have happened stops as "unknown" instead.
    email_states = Counter(row.state for row in email_rows.values())
    sms_states = Counter(row.state for row in sms_rows.values())
    assert email_states == Counter({State.SENT: len(email_rows)}), (email_states, context)
    assert set(sms_states) <= {State.SENT, State.UNKNOWN}, (sms_states, context)

    # Email: none lost, each key with exactly one Message-ID (its own), copies only from kills.
    assert set(emails) == set(email_rows), (set(email_rows) ^ set(emails), context)
    wrong_ids = {key: ids for key, ids in message_ids.items() if ids != {message_id(email_rows[key])}}
    assert wrong_ids == {}, context
    copies = sum(emails.values()) - len(emails)
    # A killed pool process loses the marks it had not yet written: the message in its hand-over and
    # at most one group of "sent" marks (the sender records emails in groups of SENT_GROUP_SIZE).
    assert copies <= len(run.kills) * plan.concurrency * (SENT_GROUP_SIZE + 1), (copies, context)

    # SMS without idempotency keys: at most once; "sent" means it went exactly once.
    assert set(texts) <= set(sms_rows)
    assert max(texts.values(), default=1) == 1, ({k: n for k, n in texts.items() if n > 1}, context)
    assert all(texts[key] == 1 for key, row in sms_rows.items() if row.state == State.SENT), context
    unknown = sms_states[State.UNKNOWN]
    assert unknown <= len(run.kills) * plan.concurrency, context
    assert all("unknown" in row.last_error for row in sms_rows.values() if row.state == State.UNKNOWN)

    # Attempts are never rolled back: no row shows fewer attempts than the hand-overs it had.
    handed_over = emails + Counter({row.key: texts[key] for key, row in sms_rows.items()})
    assert [key for key, row in rows.items() if row.attempts < max(1, handed_over[key])] == [], context

    # The faults happened as planned and hit workers while they sent.
    assert len(run.kills) == plan.kills
    assert len(run.redis_restarts) == plan.redis_restarts
    assert any(kill["in_hand_over_window"] for kill in run.kills), f"no kill landed in a hand-over; {context}"
    assert sum(row.attempts for row in rows.values()) > len(rows), f"no kill interrupted a claimed batch; {context}"
    assert run.workers_died_by_themselves == [], context
    assert run.log_alarms == [], context
    assert all(dispatcher.get("rounds", 0) > 0 for dispatcher in run.dispatchers), context

    summary = {
        "seed": SEED,
        "reminders": len(rows),
        "email": len(email_rows),
        "sms": len(sms_rows),
        "kills": len(run.kills),
        "kills_in_hand_over_window": sum(kill["in_hand_over_window"] for kill in run.kills),
        "kill_details": run.kills,
        "redis_restarts": run.redis_restarts,
        "email_copies_same_message_id": copies,
        "sms_sent": sms_states[State.SENT],
        "sms_unknown": unknown,
        "rows_claimed_again": sum(1 for row in rows.values() if row.attempts > 1),
        "dispatchers": run.dispatchers,
        "seconds": run.seconds,
    }
    print("outbox soak:", json.dumps(summary, default=str))


def test_random_kills_a_redis_restart_and_overlapping_dispatchers_send_each_reminder_once(
    redis_server, worker_env, tmp_path
):
    plan = SoakPlan(reminders=300, kills=4, redis_restarts=1, due_over_seconds=15)
    _soak(plan, redis_server=redis_server, worker_env=worker_env, tmp_path=tmp_path)


@pytest.mark.slow
@pytest.mark.skipif(not RUN_SLOW, reason="about 5 minutes: set CLINIC_SLOW_TESTS=1 to run it")
def test_a_longer_soak_with_many_kills_and_redis_restarts_sends_each_reminder_once(redis_server, worker_env, tmp_path):
    plan = SoakPlan(reminders=2000, kills=20, redis_restarts=3, due_over_seconds=150, drain_timeout_seconds=180)
    _soak(plan, redis_server=redis_server, worker_env=worker_env, tmp_path=tmp_path)
