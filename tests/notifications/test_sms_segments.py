"""Texts fit one SMS segment (160 GSM-7 characters) where they can, and the segment count is right."""

from __future__ import annotations

import pytest
import time_machine
from hypothesis import given
from hypothesis import strategies as st

from bookings.services.reminders import BookingMessage
from clinic.models import Modality, Patient
from notifications.channels import SmsChannel
from notifications.models import Reminder
from notifications.services import reminder_content, reminder_plan
from notifications.sms.segments import GSM7_BASIC, is_gsm7, sms_length, sms_normalise, sms_segments
from screening.notifications import ScreeningMessage
from tests.factories import PatientFactory
from tests.reminders.factories import appointment_create, local

# A long but real clinic address, name and number: the templates must fit with them.
SITE_URL = "https://bookings.northside-backpain.co.uk"
CLINIC_NAME = "Northside Back Pain Clinic"
CLINIC_PHONE = "+44 20 7946 0000"


def test_segment_counts_follow_gsm_7_and_ucs_2():
    assert sms_segments("a" * 160) == 1
    assert sms_segments("a" * 161) == 2
    assert sms_segments("a" * 306) == 2
    assert sms_segments("a" * 307) == 3
    assert sms_length("€[]") == 6, "extension characters take two septets"
    assert sms_segments("€" * 80) == 1
    assert sms_segments("€" * 81) == 2
    assert not is_gsm7("Zoë ✓")
    assert sms_segments("ł" * 70) == 1
    assert sms_segments("ł" * 71) == 2


def test_typographic_quotes_and_dashes_do_not_turn_a_text_into_ucs_2():
    text = sms_normalise("Don\u2019t forget \u2013 it\u2019s at 09:00\u2026\n")
    assert text == "Don't forget - it's at 09:00..."
    assert is_gsm7(text)


@given(st.text(alphabet=sorted(GSM7_BASIC - {"\x1b"}), max_size=400))
def test_a_gsm_7_text_takes_one_segment_per_153_characters_past_the_first_160(text):
    expected = 1 if len(text) <= 160 else -(-len(text) // 153)
    assert sms_segments(text) == expected


@pytest.fixture
def clinic_settings(settings):
    settings.SITE_URL = SITE_URL
    settings.CLINIC_NAME = CLINIC_NAME
    settings.CLINIC_PHONE = CLINIC_PHONE


def _text(reminder: Reminder) -> str:
    message = SmsChannel().message(reminder=reminder, content=reminder_content(reminder=reminder))
    return message.body


@pytest.mark.django_db
@pytest.mark.parametrize(
    "kind",
    [
        BookingMessage.BOOKING_CONFIRMED,
        BookingMessage.UPCOMING_APPOINTMENT,
        BookingMessage.BOOKING_CHANGED,
        BookingMessage.BOOKING_CANCELLED,
    ],
)
def test_the_appointment_texts_fit_one_segment_for_every_modality(clinic_settings, practitioner, kind):
    patient = PatientFactory(message_channels=Patient.MessageChannels.SMS)
    longest = max(Modality.objects.all(), key=lambda modality: len(modality.name))
    with time_machine.travel(local(2026, 9, 1, 10), tick=False):
        appointment = appointment_create(
            patient=patient, practitioner=practitioner, modality=longest, starts_at=local(2026, 9, 30, 17, 45)
        )
    reminder = Reminder(
        kind=kind, key="k", channel="sms", patient=patient, about_at=appointment.starts_at,
        **Reminder.about_fields(appointment),
    )  # fmt: skip
    text = _text(reminder)
    assert is_gsm7(text)
    assert sms_segments(text) == 1, f"{len(text)} characters: {text}"
    assert longest.name not in text, "a text shows on a lock screen: no treatment, no health detail"
    assert "Wed 30 Sep at 17:45" in text


@pytest.mark.django_db
def test_the_rebooking_nudge_and_the_screening_texts_fit_one_segment(clinic_settings):
    patient = PatientFactory(message_channels=Patient.MessageChannels.SMS)
    longest = max(Modality.objects.all(), key=lambda modality: len(modality.name))
    nudge, _ = reminder_plan(
        key="nudge:1",
        kind=BookingMessage.REBOOKING_NUDGE,
        patient=patient,
        due_at=local(2026, 9, 1, 9),
        context={"modality_id": longest.pk, "due_on": "2026-09-01"},
    )
    expiring, _ = reminder_plan(
        key="expiring:1",
        kind=ScreeningMessage.SCREENING_EXPIRING,
        patient=patient,
        due_at=local(2026, 9, 1, 9),
        context={"expires_on": "2026-09-15"},
    )
    for reminder in (nudge, expiring):
        text = _text(reminder)
        assert is_gsm7(text)
        assert sms_segments(text) == 1, f"{len(text)} characters: {text}"
    assert "STOP to opt out" in _text(nudge)
