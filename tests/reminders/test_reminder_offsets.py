"""Reminder times are admin data per modality: any number of offsets, each with its channel."""

from __future__ import annotations

from datetime import UTC, timedelta

import pytest
import time_machine
from django.core import mail
from django.urls import reverse

from bookings.models import AppointmentReminderOffset
from bookings.notifications import appointment_notify
from bookings.services.reminders import BookingMessage, reminders_plan_due
from clinic.models import Modality, Patient
from notifications import sms
from notifications.models import Channel, Reminder
from notifications.tasks import reminders_send_due
from tests.factories import AdminFactory, PatientFactory
from tests.reminders.factories import appointment_create, local

pytestmark = pytest.mark.django_db

BOOKED_AT = local(2026, 6, 1, 10)
STARTS_AT = local(2026, 6, 5, 10)
# The planner looks a day past the longest reminder time ahead; this run is within it and before any is due.
PLAN_AT = local(2026, 6, 3, 7)


@pytest.fixture
def wbc_48h_email_2h_sms(wbc: Modality) -> Modality:
    wbc.reminder_offsets.all().delete()
    AppointmentReminderOffset.objects.create(modality=wbc, hours_before=48, channel="email")
    AppointmentReminderOffset.objects.create(modality=wbc, hours_before=2, channel="sms")
    return wbc


def _book(patient: Patient, practitioner, modality: Modality, starts_at=STARTS_AT):
    with time_machine.travel(BOOKED_AT, tick=False):
        return appointment_create(patient=patient, practitioner=practitioner, modality=modality, starts_at=starts_at)


def _upcoming() -> list[tuple[str, str, object]]:
    rows = Reminder.objects.filter(kind=BookingMessage.UPCOMING_APPOINTMENT).order_by("due_at")
    return [(row.key.rsplit(":", 1)[-1], row.channel, row.due_at) for row in rows]


def test_every_modality_starts_with_todays_reminder_time(wbc, acupuncture_initial):
    for modality in (wbc, acupuncture_initial):
        assert list(modality.reminder_offsets.values_list("hours_before", "channel")) == [(24, "")]


def test_each_offset_is_planned_once_with_its_channel_and_wall_clock_time(practitioner, wbc_48h_email_2h_sms):
    patient = PatientFactory(message_channels=Patient.MessageChannels.BOTH)
    _book(patient, practitioner, wbc_48h_email_2h_sms)

    for hour in (0, 1):  # the planner runs again an hour later: nothing new
        with time_machine.travel(PLAN_AT + timedelta(hours=hour), tick=False):
            reminders_plan_due()

    assert _upcoming() == [
        ("48h", Channel.EMAIL, local(2026, 6, 3, 10)),
        ("2h|sms", Channel.SMS, local(2026, 6, 5, 8)),
    ]


def test_a_fixed_channel_reaches_only_patients_who_chose_it(practitioner, wbc_48h_email_2h_sms):
    email_only = PatientFactory(message_channels=Patient.MessageChannels.EMAIL)
    sms_only = PatientFactory(message_channels=Patient.MessageChannels.SMS)
    _book(email_only, practitioner, wbc_48h_email_2h_sms)
    _book(sms_only, practitioner, wbc_48h_email_2h_sms, starts_at=STARTS_AT + timedelta(hours=2))
    with time_machine.travel(PLAN_AT, tick=False):
        reminders_plan_due()
    assert list(Reminder.objects.filter(patient=email_only).values_list("channel", flat=True)) == [Channel.EMAIL]
    assert list(Reminder.objects.filter(patient=sms_only).values_list("channel", flat=True)) == [Channel.SMS]


def test_the_patients_choice_offset_goes_by_each_channel_they_chose(practitioner, wbc):
    patient = PatientFactory(message_channels=Patient.MessageChannels.BOTH)
    _book(patient, practitioner, wbc)
    with time_machine.travel(PLAN_AT + timedelta(days=1), tick=False):
        reminders_plan_due()
    assert sorted((key, channel) for key, channel, _ in _upcoming()) == [("24h", "email"), ("24h|sms", "sms")]


def test_a_modality_without_offsets_uses_the_clinic_wide_setting(practitioner, wbc, rules):
    wbc.reminder_offsets.all().delete()
    rules.upcoming_hours_before = 50
    rules.save()
    appointment = _book(PatientFactory(), practitioner, wbc)
    with time_machine.travel(PLAN_AT, tick=False):
        reminders_plan_due()
    [reminder] = Reminder.objects.filter(kind=BookingMessage.UPCOMING_APPOINTMENT)
    assert reminder.key == f"upcoming:{appointment.pk}:{appointment.starts_at.astimezone(UTC).isoformat()}"
    assert reminder.due_at == local(2026, 6, 3, 8)


def test_an_offset_already_past_when_booking_is_left_to_the_confirmation(practitioner, wbc_48h_email_2h_sms):
    patient = PatientFactory(message_channels=Patient.MessageChannels.BOTH)
    late_booking = BOOKED_AT + timedelta(days=3)  # 24 h before the session: the 48 h reminder is past
    with time_machine.travel(late_booking, tick=False):
        appointment = appointment_create(
            patient=patient, practitioner=practitioner, modality=wbc_48h_email_2h_sms, starts_at=STARTS_AT
        )
        appointment_notify(appointment=appointment, event="booked")
    assert [(key, channel) for key, channel, _ in _upcoming()] == [("2h|sms", "sms")]


def test_each_reminder_goes_out_at_its_time_by_its_channel(practitioner, wbc_48h_email_2h_sms):
    patient = PatientFactory(phone="+447911123456", message_channels=Patient.MessageChannels.BOTH)
    _book(patient, practitioner, wbc_48h_email_2h_sms)
    with time_machine.travel(PLAN_AT, tick=False):
        reminders_plan_due()
    with time_machine.travel(local(2026, 6, 3, 10), tick=False):
        reminders_send_due()
    assert (len(mail.outbox), len(sms.outbox)) == (1, 0)
    with time_machine.travel(local(2026, 6, 5, 8), tick=False):
        reminders_send_due()
    assert (len(mail.outbox), len(sms.outbox)) == (1, 1)
    [text] = sms.outbox
    assert text.to == "+447911123456"
    assert "10:00" in text.body
    assert wbc_48h_email_2h_sms.name not in text.body, "a lock screen shows no treatment"


def test_an_early_morning_sms_waits_for_the_end_of_the_quiet_hours(practitioner, wbc_48h_email_2h_sms):
    patient = PatientFactory(message_channels=Patient.MessageChannels.SMS)
    _book(patient, practitioner, wbc_48h_email_2h_sms, starts_at=local(2026, 6, 5, 8, 30))
    with time_machine.travel(PLAN_AT, tick=False):
        reminders_plan_due()
    assert _upcoming() == [("2h|sms", Channel.SMS, local(2026, 6, 5, 8))]


def test_the_admin_lists_and_adds_reminder_times(client, wbc):
    client.force_login(AdminFactory(is_superuser=True))
    changelist = reverse("admin:bookings_appointmentreminderoffset_changelist")
    assert client.get(changelist).status_code == 200
    response = client.post(
        reverse("admin:bookings_appointmentreminderoffset_add"),
        {"modality": wbc.pk, "hours_before": 2, "channel": "sms"},
    )
    assert response.status_code == 302
    assert sorted(wbc.reminder_offsets.values_list("hours_before", "channel")) == [(2, "sms"), (24, "")]
    refused = client.post(
        reverse("admin:bookings_appointmentreminderoffset_add"),
        {"modality": wbc.pk, "hours_before": 0, "channel": "sms"},
    )
    assert refused.status_code == 200
    assert "Ensure this value is greater than or equal to 1." in refused.content.decode()
