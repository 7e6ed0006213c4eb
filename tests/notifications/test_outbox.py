"""Sending from the outbox: at most once, retried on a failing mail server, visible in the admin."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.core.management import call_command
from django.urls import reverse
from django_celery_beat.models import PeriodicTask

from bookings.services.reminders import BookingMessage
from clinic.management.commands.beat_schedules_install import beat_schedules_declared
from notifications.models import Reminder
from notifications.services import reminder_deliver, reminder_plan
from notifications.tasks import reminder_send, reminders_send_due
from tests.factories import AdminFactory
from tests.reminders.factories import local

pytestmark = pytest.mark.django_db

NOON = local(2026, 5, 4, 12)


def _nudge(patient, key: str = "nudge:test:1", due_at=NOON) -> Reminder:
    reminder, _ = reminder_plan(key=key, kind=BookingMessage.REBOOKING_NUDGE, patient=patient, due_at=due_at)
    return reminder


def test_sending_a_reminder_many_times_delivers_it_once(patient):
    reminder = _nudge(patient)
    with time_machine.travel(NOON, tick=False):
        for _ in range(5):
            reminders_send_due()
            reminder_send.delay(reminder.pk)
    assert len(mail.outbox) == 1
    reminder.refresh_from_db()
    assert reminder.state == Reminder.State.SENT
    assert reminder.attempts == 1


def test_planning_the_same_key_twice_keeps_one_row(patient):
    first, created = reminder_plan(key="k", kind=BookingMessage.REBOOKING_NUDGE, patient=patient, due_at=NOON)
    second, created_again = reminder_plan(key="k", kind=BookingMessage.REBOOKING_NUDGE, patient=patient, due_at=NOON)
    assert (created, created_again) == (True, False)
    assert first.pk == second.pk
    assert Reminder.objects.count() == 1


def test_failing_mail_server_is_retried_with_backoff_then_marked_failed(patient, rules, settings):
    settings.EMAIL_BACKEND = "tests.notifications.email_backends.FailingBackend"
    rules.max_attempts = 3
    rules.retry_backoff_seconds = 60
    rules.save()
    reminder = _nudge(patient)
    with time_machine.travel(NOON, tick=False):
        reminders_send_due()  # must not raise: the failure is recorded on the row
    reminder.refresh_from_db()
    assert (reminder.state, reminder.attempts) == (Reminder.State.PENDING, 1)
    assert "SMTPServerDisconnected" in reminder.last_error
    assert reminder.next_attempt_at == NOON + timedelta(seconds=60)

    with time_machine.travel(NOON + timedelta(seconds=30), tick=False):
        assert reminder_deliver(reminder_id=reminder.pk).outcome == "skipped"  # backing off
    with time_machine.travel(NOON + timedelta(seconds=61), tick=False):
        reminder_send.delay(reminder.pk)
    reminder.refresh_from_db()
    assert (reminder.state, reminder.attempts) == (Reminder.State.PENDING, 2)
    assert reminder.next_attempt_at == NOON + timedelta(seconds=61 + 120)  # doubled
    with time_machine.travel(NOON + timedelta(minutes=10), tick=False):
        reminders_send_due()
    reminder.refresh_from_db()
    assert (reminder.state, reminder.attempts) == (Reminder.State.FAILED, 3)
    with time_machine.travel(NOON + timedelta(hours=2), tick=False):
        reminders_send_due()
    reminder.refresh_from_db()
    assert reminder.attempts == 3  # failed for good: no further tries
    assert mail.outbox == []


def test_admin_lists_reminders_by_kind_state_and_patient_email(client, patient, other_patient):
    _nudge(patient, key="a")
    _nudge(other_patient, key="b")
    client.force_login(AdminFactory(is_superuser=True))
    url = reverse("admin:notifications_reminder_changelist")
    response = client.get(url, {"q": patient.user.email, "kind": "nudge", "state": "pending"})
    assert response.status_code == 200
    assert list(response.context["cl"].result_list) == [Reminder.objects.get(key="a")]


def test_admin_send_again_requeues_the_same_row_without_a_duplicate(client, patient, rules, settings):
    settings.EMAIL_BACKEND = "tests.notifications.email_backends.FailingBackend"
    rules.max_attempts = 1
    rules.save()
    reminder = _nudge(patient)
    with time_machine.travel(NOON, tick=False):
        reminders_send_due()
    reminder.refresh_from_db()
    assert reminder.state == Reminder.State.FAILED

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    client.force_login(AdminFactory(is_superuser=True))
    # An hour later, still inside the day: a nudge would wait out the quiet hours.
    with time_machine.travel(NOON + timedelta(hours=1), tick=False):
        response = client.post(
            reverse("admin:notifications_reminder_changelist"),
            {"action": "send_again", "_selected_action": [reminder.pk]},
            follow=True,
        )
        assert response.status_code == 200
        reminders_send_due()
    assert Reminder.objects.count() == 1
    reminder.refresh_from_db()
    assert (reminder.state, reminder.attempts) == (Reminder.State.SENT, 2)
    assert len(mail.outbox) == 1


def test_beat_schedules_install_is_idempotent_and_keeps_the_admins_tuning():
    call_command("beat_schedules_install", verbosity=0)
    call_command("beat_schedules_install", verbosity=0)
    tasks = PeriodicTask.objects.filter(name__in=beat_schedules_declared())
    assert sorted(tasks.values_list("task", flat=True)) == [
        "api.tasks.webhooks_deliver_due",
        "bookings.tasks.reminders_plan_due",
        "bookings.tasks.waitlist_offers_advance",
        "notifications.tasks.reminders_send_due",
        "treatments.tasks.followups_plan",
    ]
    send = tasks.get(task="notifications.tasks.reminders_send_due")
    assert send.interval.every == 60
    send.enabled = False
    send.save()
    call_command("beat_schedules_install", verbosity=0)
    send.refresh_from_db()
    assert send.enabled is False
    assert PeriodicTask.objects.filter(name__in=beat_schedules_declared()).count() == len(beat_schedules_declared())


def test_clinic_admins_keep_the_message_log_and_the_reminder_settings_after_the_move(client, patient):
    _nudge(patient)
    client.force_login(AdminFactory())  # the clinic-admin role, not a superuser
    assert client.get(reverse("admin:notifications_reminder_changelist")).status_code == 200
    assert client.get(reverse("admin:notifications_remindersettings_changelist")).status_code == 200
