"""Sending once when a worker dies: the claim is committed before the hand-over, the result after.

A worker's death is ``WorkerKilled`` (a ``BaseException``, as uncatchable by the sender as
SIGKILL) raised by the mail backend before or after the server "accepts" the message.
"""

from __future__ import annotations

import contextlib
from collections import Counter
from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from bookings.services.reminders import BookingMessage
from clinic.models import AuditEvent
from notifications.channels import CHANNELS
from notifications.models import Reminder
from notifications.services import reminder_mark_sent, reminder_plan, reminders_send_batch
from notifications.tasks import reminders_send_due
from tests.factories import AdminFactory, FrontDeskFactory
from tests.notifications.email_backends import CRASH, WorkerKilled
from tests.reminders.factories import local

pytestmark = pytest.mark.django_db

NOON = local(2026, 5, 4, 12)
LEASE = 300


@pytest.fixture(autouse=True)
def crashing_mail(settings, rules):
    settings.EMAIL_BACKEND = "tests.notifications.email_backends.CrashingLocmemBackend"
    rules.requeue_after_seconds = LEASE
    rules.save()
    CRASH["when"] = None
    yield
    CRASH["when"] = None


class FakeTextChannel:
    """A channel whose resend nobody can recognise (like SMS without an idempotency key)."""

    resend_is_recognisable = False

    def __init__(self) -> None:
        self.sent: list[str] = []
        self.die_after_hand_over = False

    def connection(self):  # type: ignore[no-untyped-def]
        return contextlib.nullcontext()

    def send(self, *, reminder, content, connection) -> None:  # type: ignore[no-untyped-def]
        self.sent.append(reminder.key)
        if self.die_after_hand_over:
            self.die_after_hand_over = False
            raise WorkerKilled("killed after the provider accepted the message")

    def is_transient(self, error: Exception) -> bool:
        return False

    def is_outcome_unknown(self, error: Exception) -> bool:
        return False

    def why_unreachable(self, patient) -> str:  # type: ignore[no-untyped-def]
        return ""


@pytest.fixture
def text_channel(monkeypatch) -> FakeTextChannel:
    channel = FakeTextChannel()
    monkeypatch.setitem(CHANNELS, "faketext", channel)
    return channel


def _nudge(patient, key: str = "nudge:once:1", channel: str = "email") -> Reminder:
    reminder, _ = reminder_plan(
        key=key, kind=BookingMessage.REBOOKING_NUDGE, patient=patient, due_at=NOON, channel=channel
    )
    return reminder


def _message_ids() -> Counter:
    return Counter((m.extra_headers["X-Clinic-Reminder"], m.extra_headers["Message-ID"]) for m in mail.outbox)


def test_a_worker_killed_after_hand_over_leaves_a_committed_sending_row_with_its_attempt(patient):
    reminder = _nudge(patient)
    CRASH["when"] = "after"
    with time_machine.travel(NOON, tick=False), pytest.raises(WorkerKilled):
        reminders_send_batch()
    reminder.refresh_from_db()
    assert (reminder.state, reminder.attempts) == (Reminder.State.SENDING, 1)
    assert reminder.lease_expires_at == NOON + timedelta(seconds=LEASE)
    assert len(mail.outbox) == 1

    # Within the lease nobody touches it: its worker may still be recording the result.
    with time_machine.travel(NOON + timedelta(seconds=LEASE - 1), tick=False):
        reminders_send_due()
    assert len(mail.outbox) == 1


def test_an_email_of_unknown_outcome_goes_again_with_the_same_message_id(patient):
    reminder = _nudge(patient)
    CRASH["when"] = "after"
    with time_machine.travel(NOON, tick=False), pytest.raises(WorkerKilled):
        reminders_send_batch()
    with time_machine.travel(NOON + timedelta(seconds=LEASE + 1), tick=False):
        reminders_send_due()
        reminders_send_due()
    reminder.refresh_from_db()
    assert (reminder.state, reminder.attempts) == (Reminder.State.SENT, 2)
    assert _message_ids() == Counter({(reminder.key, mail.outbox[0].extra_headers["Message-ID"]): 2})


def test_a_worker_killed_before_hand_over_sends_the_message_once_after_the_lease(patient):
    reminder = _nudge(patient)
    CRASH["when"] = "before"
    with time_machine.travel(NOON, tick=False), pytest.raises(WorkerKilled):
        reminders_send_batch()
    assert mail.outbox == []
    with time_machine.travel(NOON + timedelta(seconds=LEASE + 1), tick=False):
        reminders_send_due()
    reminder.refresh_from_db()
    assert (reminder.state, reminder.attempts) == (Reminder.State.SENT, 2)  # the lost attempt still counts
    assert len(mail.outbox) == 1


def test_a_crash_loop_stops_as_unknown_once_the_attempts_are_used_up(patient, rules):
    rules.max_attempts = 2
    rules.save()
    reminder = _nudge(patient)
    for lease in range(2):
        CRASH["when"] = "after"
        with time_machine.travel(NOON + lease * timedelta(seconds=LEASE + 1), tick=False), pytest.raises(WorkerKilled):
            reminders_send_batch()
    with time_machine.travel(NOON + 2 * timedelta(seconds=LEASE + 1), tick=False):
        reminders_send_due()
    reminder.refresh_from_db()
    assert (reminder.state, reminder.attempts) == (Reminder.State.UNKNOWN, 2)
    assert len(mail.outbox) == 2


def test_a_message_on_a_channel_without_recognisable_resend_stops_as_unknown(patient, text_channel):
    reminder = _nudge(patient, channel="faketext")
    text_channel.die_after_hand_over = True
    with time_machine.travel(NOON, tick=False), pytest.raises(WorkerKilled):
        reminders_send_batch()
    with time_machine.travel(NOON + timedelta(seconds=LEASE + 1), tick=False):
        reminders_send_due()
        reminders_send_due()
    reminder.refresh_from_db()
    assert reminder.state == Reminder.State.UNKNOWN
    assert "unknown" in reminder.last_error
    assert text_channel.sent == [reminder.key]  # never a second copy nobody could tell apart


def test_messages_without_recognisable_resend_are_claimed_one_at_a_time(patient, text_channel):
    """A crash leaves at most one such message unknown; those not yet handed over stay pending."""
    first = _nudge(patient, key="nudge:once:a", channel="faketext")
    second = _nudge(patient, key="nudge:once:b", channel="faketext")
    text_channel.die_after_hand_over = True
    with time_machine.travel(NOON, tick=False), pytest.raises(WorkerKilled):
        reminders_send_batch()
    states = dict(Reminder.objects.values_list("key", "state"))
    assert sorted(states.values()) == [Reminder.State.PENDING, Reminder.State.SENDING]
    with time_machine.travel(NOON + timedelta(seconds=LEASE + 1), tick=False):
        reminders_send_due()
    first.refresh_from_db()
    second.refresh_from_db()
    assert sorted([first.state, second.state]) == [Reminder.State.SENT, Reminder.State.UNKNOWN]
    assert sorted(text_channel.sent) == [first.key, second.key]


def _unknown(patient, text_channel) -> Reminder:
    reminder = _nudge(patient, channel="faketext")
    text_channel.die_after_hand_over = True
    with time_machine.travel(NOON, tick=False), pytest.raises(WorkerKilled):
        reminders_send_batch()
    with time_machine.travel(NOON + timedelta(seconds=LEASE + 1), tick=False):
        reminders_send_due()
    reminder.refresh_from_db()
    assert reminder.state == Reminder.State.UNKNOWN
    return reminder


def test_admin_marks_an_unknown_message_sent_and_the_audit_trail_names_them(client, patient, text_channel):
    reminder = _unknown(patient, text_channel)
    admin = AdminFactory()
    client.force_login(admin)
    response = client.post(
        reverse("admin:notifications_reminder_changelist"),
        {"action": "mark_sent", "_selected_action": [reminder.pk]},
        follow=True,
    )
    assert response.status_code == 200
    assert "1 message(s) marked sent" in response.content.decode()
    reminder.refresh_from_db()
    assert reminder.state == Reminder.State.SENT
    assert reminder.attempts == 1
    event = AuditEvent.objects.get(description__startswith="Message of unknown outcome marked sent")
    assert event.actor == admin
    assert text_channel.sent == [reminder.key]


def test_admin_sends_an_unknown_message_again_once(client, patient, text_channel):
    reminder = _unknown(patient, text_channel)
    client.force_login(AdminFactory())
    with time_machine.travel(NOON + timedelta(seconds=LEASE + 2), tick=False):
        client.post(
            reverse("admin:notifications_reminder_changelist"),
            {"action": "send_again", "_selected_action": [reminder.pk]},
        )
        reminders_send_due()
        reminders_send_due()
    reminder.refresh_from_db()
    assert (reminder.state, reminder.attempts) == (Reminder.State.SENT, 2)
    assert text_channel.sent == [reminder.key, reminder.key]
    assert AuditEvent.objects.filter(description__startswith="Message sent again (Unknown").exists()


def test_only_clinic_admins_decide_about_an_unknown_message(client, patient, text_channel):
    reminder = _unknown(patient, text_channel)
    clerk = FrontDeskFactory()
    with pytest.raises(PermissionDenied):
        reminder_mark_sent(reminder=reminder, actor=clerk)
    reminder.refresh_from_db()
    assert reminder.state == Reminder.State.UNKNOWN
    assert not AuditEvent.objects.filter(description__contains="unknown outcome").exists()
