"""Booking confirmed / cancelled / changed emails and the upcoming-appointment reminder."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import icalendar
import pytest
import time_machine
from django.core import mail

from bookings.models import Appointment
from bookings.notifications import appointment_notify
from bookings.services.reminders import BookingMessage, reminders_plan_due
from notifications.models import Reminder
from notifications.tasks import reminders_send_due
from screening.notifications import ScreeningMessage
from tests.reminders.factories import appointment_create, local

pytestmark = pytest.mark.django_db


def _ics_event(message) -> icalendar.Event:
    attachments = [a for a in message.attachments if a[0].endswith(".ics")]
    assert len(attachments) == 1
    calendar = icalendar.Calendar.from_ical(attachments[0][1])
    events = list(calendar.walk("VEVENT"))
    assert len(events) == 1
    return events[0]


def test_booking_confirmation_is_emailed_after_commit_with_a_calendar_file(
    patient, practitioner, wbc, django_capture_on_commit_callbacks
):
    with time_machine.travel(local(2026, 6, 1, 10), tick=False):
        appointment = appointment_create(
            patient=patient, practitioner=practitioner, modality=wbc, starts_at=local(2026, 6, 3, 9, 30)
        )
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            appointment_notify(appointment=appointment, event="booked")
        assert mail.outbox == []  # nothing leaves before the booking commits
        for callback in callbacks:
            callback()

    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [patient.user.email]
    assert "09:30" in message.subject
    event = _ics_event(message)
    assert event.decoded("dtstart") == datetime(2026, 6, 3, 8, 30, tzinfo=UTC)
    assert Reminder.objects.get(kind=BookingMessage.BOOKING_CONFIRMED).state == Reminder.State.SENT


def test_notifying_the_same_booking_twice_sends_one_confirmation(
    patient, practitioner, wbc, django_capture_on_commit_callbacks
):
    appointment = appointment_create(
        patient=patient, practitioner=practitioner, modality=wbc, starts_at=local(2030, 6, 3, 9, 30)
    )
    with django_capture_on_commit_callbacks(execute=True):
        appointment_notify(appointment=appointment, event="booked")
        appointment_notify(appointment=appointment, event="booked")
    assert len(mail.outbox) == 1
    assert Reminder.objects.filter(kind=BookingMessage.BOOKING_CONFIRMED).count() == 1


def test_unknown_event_is_refused(patient, practitioner, wbc):
    appointment = appointment_create(
        patient=patient, practitioner=practitioner, modality=wbc, starts_at=local(2030, 6, 3, 9, 30)
    )
    with pytest.raises(ValueError, match="Unknown appointment event"):
        appointment_notify(appointment=appointment, event="teleported")


def test_upcoming_reminder_shows_clinic_time_preparation_and_a_valid_calendar_file(
    patient, practitioner, wbc, settings
):
    settings.SITE_URL = "https://clinic.example.org"
    with time_machine.travel(local(2026, 6, 20, 12), tick=False):
        appointment = appointment_create(
            patient=patient, practitioner=practitioner, modality=wbc, starts_at=local(2026, 7, 1, 9, 0)
        )
    with time_machine.travel(local(2026, 6, 30, 8, 59), tick=False):
        reminders_plan_due()
        reminders_send_due()
        assert mail.outbox == []  # not due yet
    with time_machine.travel(local(2026, 6, 30, 9, 1), tick=False):
        reminders_plan_due()
        reminders_send_due()

    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert "09:00" in message.subject  # London summer time, not the 08:00 UTC stored
    assert "09:00-09:15" in message.body
    assert "socks and gloves" in message.body  # the modality's preparation
    assert "https://clinic.example.org/" in message.body
    html = message.alternatives[0][0]
    assert "09:00" in html
    event = _ics_event(message)
    assert event.decoded("dtstart") == datetime(2026, 7, 1, 8, 0, tzinfo=UTC)
    assert event.decoded("dtend") == datetime(2026, 7, 1, 8, 15, tzinfo=UTC)
    assert str(event["uid"]) == f"appointment-{appointment.pk}@clinic.example.org"


def test_no_upcoming_reminder_when_the_patient_turned_them_off(patient, practitioner, wbc):
    patient.appointment_reminders = False
    patient.save()
    with time_machine.travel(local(2026, 6, 20, 12), tick=False):
        appointment_create(patient=patient, practitioner=practitioner, modality=wbc, starts_at=local(2026, 7, 1, 9))
    with time_machine.travel(local(2026, 6, 30, 10), tick=False):
        reminders_plan_due()
        reminders_send_due()
    assert mail.outbox == []


def test_cancelling_an_appointment_cancels_its_reminder(patient, practitioner, wbc, django_capture_on_commit_callbacks):
    with time_machine.travel(local(2026, 6, 20, 12), tick=False):
        appointment = appointment_create(
            patient=patient, practitioner=practitioner, modality=wbc, starts_at=local(2026, 7, 1, 9)
        )
    with time_machine.travel(local(2026, 6, 29, 12), tick=False):
        reminders_plan_due()
        upcoming = Reminder.objects.get(kind=BookingMessage.UPCOMING_APPOINTMENT)
        appointment.status = Appointment.Status.CANCELLED
        appointment.save()
        with django_capture_on_commit_callbacks(execute=True):
            appointment_notify(appointment=appointment, event="cancelled")
    with time_machine.travel(local(2026, 6, 30, 10), tick=False):
        reminders_plan_due()
        reminders_send_due()

    upcoming.refresh_from_db()
    assert upcoming.state == Reminder.State.CANCELLED
    assert [m.subject.split(":")[0] for m in mail.outbox] == ["Cancelled"]


def test_moving_an_appointment_sends_a_change_and_reminds_for_the_new_time_only(
    patient, practitioner, wbc, django_capture_on_commit_callbacks
):
    with time_machine.travel(local(2026, 6, 20, 12), tick=False):
        appointment = appointment_create(
            patient=patient, practitioner=practitioner, modality=wbc, starts_at=local(2026, 7, 1, 9)
        )
    with time_machine.travel(local(2026, 6, 29, 12), tick=False):
        reminders_plan_due()
        appointment.place(modality=wbc, starts_at=local(2026, 7, 2, 14))
        appointment.save()
        with django_capture_on_commit_callbacks(execute=True):
            appointment_notify(appointment=appointment, event="changed")
    assert [m.subject.split(":")[0] for m in mail.outbox] == ["Changed"]
    assert "14:00" in mail.outbox[0].subject
    for hour in range(8, 24):
        with time_machine.travel(local(2026, 6, 30, hour), tick=False):
            reminders_plan_due()
            reminders_send_due()
    with time_machine.travel(local(2026, 7, 1, 14, 5), tick=False):
        reminders_plan_due()
        reminders_send_due()

    subjects = [m.subject for m in mail.outbox]
    assert len(subjects) == 2
    assert subjects[1].startswith("Reminder:")
    assert "14:00" in subjects[1]
    states = dict(Reminder.objects.filter(kind="upcoming").values_list("about_at", "state"))
    assert states == {local(2026, 7, 1, 9): "cancelled", local(2026, 7, 2, 14): "sent"}


def test_a_reminder_due_in_quiet_hours_waits_for_the_morning(patient, practitioner, wbc):
    with time_machine.travel(local(2026, 6, 20, 12), tick=False):
        appointment_create(patient=patient, practitioner=practitioner, modality=wbc, starts_at=local(2026, 7, 1, 22))
    with time_machine.travel(local(2026, 6, 30, 12), tick=False):
        reminders_plan_due()
    reminder = Reminder.objects.get()
    assert reminder.due_at == local(2026, 7, 1, 8)  # 22:00 the day before is quiet; next morning instead
    for moment in (local(2026, 6, 30, 22, 1), local(2026, 7, 1, 7, 59)):
        with time_machine.travel(moment, tick=False):
            reminders_send_due()
    assert mail.outbox == []
    with time_machine.travel(local(2026, 7, 1, 8, 1), tick=False):
        reminders_send_due()
    assert len(mail.outbox) == 1


def test_booking_made_after_the_reminder_time_gets_only_the_confirmation(
    patient, practitioner, wbc, django_capture_on_commit_callbacks
):
    with time_machine.travel(local(2026, 6, 30, 15), tick=False):
        appointment = appointment_create(
            patient=patient, practitioner=practitioner, modality=wbc, starts_at=local(2026, 7, 1, 10)
        )
        with django_capture_on_commit_callbacks(execute=True):
            appointment_notify(appointment=appointment, event="booked")
    for hours in range(1, 19):
        with time_machine.travel(local(2026, 6, 30, 15) + timedelta(hours=hours), tick=False):
            reminders_plan_due()
            reminders_send_due()
    assert [m.subject.split(":")[0] for m in mail.outbox] == ["Booked"]


def test_screening_expiry_notice_goes_out_fourteen_days_ahead_once(patient):
    from tests.screening.factories import submission_with_answers

    with time_machine.travel(local(2026, 1, 10, 12), tick=False):
        submission = submission_with_answers(patient=patient)
    expires_on = submission.expires_on
    notice_day = expires_on - timedelta(days=14)
    day = notice_day - timedelta(days=3)
    while day <= expires_on:
        for hour in (7, 9, 13, 22):
            with time_machine.travel(local(day.year, day.month, day.day, hour), tick=False):
                reminders_plan_due()
                reminders_send_due()
        day += timedelta(days=1)

    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.subject == f"Your health screening expires on {expires_on:%A} {expires_on.day} {expires_on:%B %Y}"
    reminder = Reminder.objects.get(kind=ScreeningMessage.SCREENING_EXPIRING)
    assert reminder.sent_at == local(notice_day.year, notice_day.month, notice_day.day, 9)


def test_no_expiry_notice_once_the_patient_has_renewed_the_screening(patient):
    from tests.screening.factories import submission_with_answers

    with time_machine.travel(local(2026, 1, 10, 12), tick=False):
        submission = submission_with_answers(patient=patient)
    notice_day = submission.expires_on - timedelta(days=14)
    with time_machine.travel(local(notice_day.year, notice_day.month, notice_day.day, 7), tick=False):
        reminders_plan_due()  # planned for 09:00 ...
        submission_with_answers(patient=patient)  # ... but the patient renews first
    with time_machine.travel(local(notice_day.year, notice_day.month, notice_day.day, 9, 30), tick=False):
        reminders_send_due()
    assert mail.outbox == []
    assert Reminder.objects.get().state == Reminder.State.CANCELLED
