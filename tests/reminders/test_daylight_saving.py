"""Daylight-saving changes neither duplicate nor drop a reminder (Europe/London, 2026)."""

from __future__ import annotations

from datetime import UTC, timedelta

import pytest
import time_machine
from django.core import mail
from django.utils import timezone

from bookings.services.reminders import BookingMessage
from bookings.tasks import reminders_plan_due
from notifications.models import Reminder
from notifications.tasks import reminders_send_due
from tests.reminders.factories import appointment_create, local

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("change_day", "label"),
    [((2026, 3, 29), "clocks go forward"), ((2026, 10, 25), "clocks go back")],
)
def test_upcoming_reminders_around_a_clock_change_go_out_once_at_the_same_clinic_time(
    patient, practitioner, wbc, change_day, label
):
    year, month, day = change_day
    starts = [local(year, month, day, 9) + timedelta(days=offset) for offset in (-1, 0, 1)]
    with time_machine.travel(local(year, month, day) - timedelta(days=5), tick=False):
        appointments = [
            appointment_create(patient=patient, practitioner=practitioner, modality=wbc, starts_at=starts_at)
            for starts_at in starts
        ]
    # Beat every 20 real (UTC) minutes from three days before: the repeated or skipped hour included.
    moment = (local(year, month, day) - timedelta(days=3)).astimezone(UTC)
    end = starts[-1].astimezone(UTC)
    while moment < end:
        with time_machine.travel(moment, tick=False):
            reminders_plan_due()
            reminders_send_due()
        moment += timedelta(minutes=20)

    upcoming = Reminder.objects.filter(kind=BookingMessage.UPCOMING_APPOINTMENT)
    assert sorted(upcoming.values_list("about_id", flat=True)) == [a.pk for a in appointments], label
    assert set(upcoming.values_list("state", flat=True)) == {Reminder.State.SENT}
    for reminder in upcoming:
        sent = timezone.localtime(reminder.sent_at)
        assert sent.hour == 9, label  # 09:00 the day before, on the clinic's clock
        assert sent.minute == 0, label
        assert sent.date() == timezone.localtime(reminder.about.starts_at).date() - timedelta(days=1)
    assert len(mail.outbox) == 3
