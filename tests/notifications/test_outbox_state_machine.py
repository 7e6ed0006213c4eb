"""The outbox as a state machine: plan, claim, hand over, die at any point, let leases run out, resend.

Whatever the sequence: one key never goes out under two Message-IDs, a message without a
recognisable resend never goes out twice, attempts only grow, an email goes out again only
after a death after its hand-over, and once the workers are left alone nothing due is lost:
every row ends sent, or "unknown" for a person to decide.
"""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.db import transaction
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test

from bookings.services.reminders import BookingMessage
from clinic.models import Patient
from notifications.channels import CHANNELS, message_id
from notifications.models import Reminder, ReminderSettings
from notifications.services import reminder_plan, reminders_send_batch
from notifications.tasks import reminders_send_due
from tests.notifications.email_backends import CRASH, WorkerKilled
from tests.notifications.test_exactly_once import NOON, FakeTextChannel

LEASE = 120
KEYS = range(4)


def _channel(n: int) -> str:
    return "faketext" if n % 3 == 0 else "email"


class OutboxMachine(RuleBasedStateMachine):
    patient: Patient
    text: FakeTextChannel

    def __init__(self) -> None:
        super().__init__()
        self._atomic = transaction.atomic()
        self._atomic.__enter__()
        mail.outbox = []
        self.text.sent = []
        self.text.die_after_hand_over = False
        CRASH["when"] = None
        self.now = NOON
        self.attempts: dict[str, int] = {}
        self.deaths_after_hand_over: Counter = Counter()

    def teardown(self) -> None:
        try:
            self.workers_left_alone()
        finally:
            CRASH["when"] = None
            transaction.set_rollback(True)
            self._atomic.__exit__(None, None, None)

    def _travel(self) -> time_machine.travel:
        return time_machine.travel(self.now, tick=False)

    @rule(n=st.sampled_from(KEYS))
    def plan(self, n: int) -> None:
        with self._travel():
            reminder_plan(
                key=f"nudge:sm:{n}",
                kind=BookingMessage.REBOOKING_NUDGE,
                patient=self.patient,
                due_at=self.now,
                channel=_channel(n),
            )

    @rule(death=st.sampled_from([None, "before", "after"]), limit=st.integers(1, 4), text=st.booleans())
    def worker_sends(self, death: str | None, limit: int, text: bool) -> None:
        """A worker claims a batch; it may die before or after handing a message over."""
        if text:
            self.text.die_after_hand_over = death == "after"
        else:
            CRASH["when"] = death
        sent_before, text_before = len(mail.outbox), len(self.text.sent)
        try:
            with self._travel():
                reminders_send_batch(limit=limit)
        except WorkerKilled:
            if len(mail.outbox) > sent_before and death == "after" and not text:
                self.deaths_after_hand_over[mail.outbox[-1].extra_headers["X-Clinic-Reminder"]] += 1
            if len(self.text.sent) > text_before and death == "after" and text:
                self.deaths_after_hand_over[self.text.sent[-1]] += 1
        finally:
            CRASH["when"] = None
            self.text.die_after_hand_over = False

    @rule()
    def beat_dispatches(self) -> None:
        with self._travel():
            reminders_send_due()

    @rule(seconds=st.sampled_from([1, 30, LEASE + 1]))
    def time_passes(self, seconds: int) -> None:
        self.now += timedelta(seconds=seconds)

    def workers_left_alone(self) -> None:
        """Nothing due is lost: with the leases run out and the workers undisturbed, every row ends."""
        for _ in range(3):
            self.now += timedelta(seconds=LEASE + 1)
            with self._travel():
                reminders_send_due()
        self.attempts_only_grow()
        self.once_per_key()
        states = Counter(Reminder.objects.values_list("state", flat=True))
        assert set(states) <= {Reminder.State.SENT, Reminder.State.UNKNOWN}, states
        for reminder in Reminder.objects.filter(state=Reminder.State.SENT):
            copies = self._copies(reminder)
            assert copies >= 1, reminder.key
        for reminder in Reminder.objects.filter(state=Reminder.State.UNKNOWN):
            assert (
                self.deaths_after_hand_over[reminder.key] or reminder.attempts >= ReminderSettings.load().max_attempts
            )

    def _copies(self, reminder: Reminder) -> int:
        if reminder.channel == "faketext":
            return self.text.sent.count(reminder.key)
        return sum(1 for m in mail.outbox if m.extra_headers["X-Clinic-Reminder"] == reminder.key)

    @invariant()
    def attempts_only_grow(self) -> None:
        for key, attempts in Reminder.objects.values_list("key", "attempts"):
            assert attempts >= self.attempts.get(key, 0), key
            self.attempts[key] = attempts

    @invariant()
    def once_per_key(self) -> None:
        ids: dict[str, set[str]] = {}
        for message in mail.outbox:
            ids.setdefault(message.extra_headers["X-Clinic-Reminder"], set()).add(message.extra_headers["Message-ID"])
        for reminder in Reminder.objects.filter(key__in=ids):
            assert ids[reminder.key] == {message_id(reminder)}, "one key, two Message-IDs"
            assert self._copies(reminder) <= 1 + self.deaths_after_hand_over[reminder.key], reminder.key
        for key, copies in Counter(self.text.sent).items():
            assert copies == 1, f"{key} went out {copies} times on a channel whose resend nobody recognises"


@pytest.mark.django_db
def test_outbox_state_machine(patient, rules, settings, monkeypatch) -> None:
    settings.EMAIL_BACKEND = "tests.notifications.email_backends.CrashingLocmemBackend"
    rules.requeue_after_seconds = LEASE
    rules.max_attempts = 6
    rules.save()
    text = FakeTextChannel()
    monkeypatch.setitem(CHANNELS, "faketext", text)
    OutboxMachine.patient = patient
    OutboxMachine.text = text
    run_state_machine_as_test(
        OutboxMachine,
        settings=hypothesis_settings(
            max_examples=40,
            stateful_step_count=30,
            deadline=None,
            suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
        ),
    )
