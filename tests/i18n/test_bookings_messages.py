"""Bookings' messages in Spanish: subject, text, HTML, SMS and the .ics, with dates as a Spanish reader
expects ("martes, 1 de diciembre") and texts that still fit one GSM-7 SMS segment."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import time_machine
from django.utils import translation
from icalendar import Calendar

from bookings.services.appointments import appointment_book, appointment_cancel
from bookings.services.reminders import BookingMessage
from bookings.services.waitlist import waitlist_slot_freed
from clinic.models import Modality, Patient, Practitioner
from notifications.models import Reminder
from notifications.services import reminder_content, reminder_plan
from notifications.sms.segments import is_gsm7, sms_segments
from tests.bookings.conftest import MONDAY, NOW, at, cleared, working_hours
from tests.bookings.test_waitlist import join
from tests.factories import PatientFactory
from tests.reminders.factories import appointment_create, local

# A long but real clinic address, name and number: the Spanish texts must fit with them too.
SITE_URL = "https://bookings.northside-backpain.co.uk"
CLINIC_NAME = "Northside Back Pain Clinic"
CLINIC_PHONE = "+44 20 7946 0000"
APPOINTMENT_KINDS = [
    BookingMessage.BOOKING_CONFIRMED,
    BookingMessage.UPCOMING_APPOINTMENT,
    BookingMessage.BOOKING_CHANGED,
    BookingMessage.BOOKING_CANCELLED,
]
# The English the bookings messages are written in; none of it may be left in a Spanish message.
ENGLISH = re.compile(
    r"\b(the|your|you|appointment|booked|booking|reminder|questions|call|dear|with|time|move|cancel|"
    r"calendar|session|waitlist|holding|book)\b",
    re.IGNORECASE,
)


@pytest.fixture
def clinic_settings(settings):
    settings.SITE_URL = SITE_URL
    settings.CLINIC_NAME = CLINIC_NAME
    settings.CLINIC_PHONE = CLINIC_PHONE
    settings.TIME_ZONE = "Europe/London"


# The HTML emails' frame (greeting and sign-off) is the notifications app's base template, not bookings'.
NOT_OURS = ("Dear", "Questions? Call us on")


def english_in(text: str, *data: str) -> list[str]:
    for value in sorted([*data, *NOT_OURS], key=len, reverse=True):
        text = text.replace(value, " ")
    text = re.sub(r"https?://\S+", " ", text)
    return sorted({match.group(0).lower() for match in ENGLISH.finditer(text)})


def spanish_name(modality: Modality) -> str:
    """The treatment's name as a Spanish reader sees it (names are translated data)."""
    with translation.override("es"):
        return modality.name


def reminder_content_all_channels(reminder: Reminder):
    """The email's parts and the text message's line of one reminder (each channel renders only its own)."""
    channel = reminder.channel
    # Messages are written in the patient's stored language: the one these tests make active.
    reminder.patient.user.language = translation.get_language()
    try:
        reminder.channel = "email"
        content = reminder_content(reminder=reminder)
        reminder.channel = "sms"
        content.sms = reminder_content(reminder=reminder).sms
    finally:
        reminder.channel = channel
    return content


def appointment_reminder(kind: str, starts_at) -> tuple[Reminder, Patient, Modality]:
    patient = PatientFactory(message_channels=Patient.MessageChannels.BOTH)
    longest = max(Modality.objects.all(), key=lambda modality: len(modality.name))
    practitioner = Practitioner.objects.first()
    with time_machine.travel(local(2026, 11, 20, 10), tick=False):
        appointment = appointment_create(
            patient=patient, practitioner=practitioner, modality=longest, starts_at=starts_at
        )
    reminder = Reminder(
        kind=kind, key="k", channel="sms", patient=patient, about_at=appointment.starts_at,
        **Reminder.about_fields(appointment),
    )  # fmt: skip
    return reminder, patient, longest


@pytest.mark.django_db
@pytest.mark.parametrize("kind", APPOINTMENT_KINDS)
def test_appointment_messages_read_in_spanish_with_spanish_dates(clinic_settings, practitioner, kind):
    reminder, patient, modality = appointment_reminder(kind, local(2026, 12, 1, 8, 30))
    with translation.override("es"):
        content = reminder_content_all_channels(reminder)
    data = (modality.name, modality.preparation, modality.description, patient.full_name, CLINIC_NAME)
    data += (patient.user.first_name, practitioner.full_name, spanish_name(modality))
    assert "martes, 1 de diciembre" in content.subject
    assert "08:30" in content.subject
    assert "martes, 1 de diciembre de 2026, 08:30-" in content.text
    assert content.text.startswith(f"Hola, {patient.user.first_name}:")
    assert "¿Preguntas? Llámenos al" in content.text
    for part in (content.subject, content.text, content.html, content.sms):
        assert not english_in(part, *data), part
    assert "1 Dic a las 08:30" in content.sms
    (_name, ics, _type) = content.attachments[0]
    event = Calendar.from_ical(ics).walk("VEVENT")[0]
    assert str(event["SUMMARY"]) == f"{spanish_name(modality)} en {CLINIC_NAME}"
    assert str(event["DESCRIPTION"]).startswith(f"Con {practitioner.full_name}.")


@pytest.mark.django_db
@pytest.mark.parametrize("kind", APPOINTMENT_KINDS)
def test_the_english_messages_are_unchanged(clinic_settings, practitioner, kind):
    reminder, patient, _modality = appointment_reminder(kind, local(2026, 12, 1, 8, 30))
    with translation.override("en-gb"):
        content = reminder_content_all_channels(reminder)
    assert "Tuesday 1 December at 08:30" in content.subject
    assert "Tuesday 1 December 2026, 08:30-" in content.text
    assert content.text.startswith(f"Dear {patient.user.first_name},")
    assert "Tue 1 Dec at 08:30" in content.sms


@pytest.mark.django_db
@pytest.mark.parametrize("kind", APPOINTMENT_KINDS)
@pytest.mark.parametrize("day", range(1, 8))
def test_spanish_texts_fit_one_gsm_7_segment_on_every_weekday(clinic_settings, practitioner, kind, day):
    """Saturday is "sábado" and its abbreviation "sáb" has an "á", which GSM-7 lacks: the texts name the
    date without the weekday, so no day of the week turns a text into UCS-2 (70 characters a segment)."""
    reminder, _patient, _modality = appointment_reminder(kind, local(2026, 12, day, 17, 45))
    with translation.override("es"):
        text = reminder_content(reminder=reminder).sms
    assert is_gsm7(text), text
    assert sms_segments(text) == 1, f"{len(text)} characters: {text}"


@pytest.mark.django_db
def test_the_rebooking_nudge_in_spanish(clinic_settings):
    patient = PatientFactory(message_channels=Patient.MessageChannels.BOTH)
    modality = max(Modality.objects.all(), key=lambda modality: len(modality.name))
    nudge, _ = reminder_plan(
        key="nudge:1",
        kind=BookingMessage.REBOOKING_NUDGE,
        patient=patient,
        due_at=local(2026, 11, 30, 9),
        context={"modality_id": modality.pk, "due_on": "2026-12-01"},
    )
    with translation.override("es"):
        content = reminder_content_all_channels(nudge)
    assert content.subject == f"Es hora de reservar su siguiente sesión de {spanish_name(modality)}"
    assert "a partir del martes, 1 de diciembre" in content.text
    assert "Desactívelos con un clic" in content.text
    assert is_gsm7(content.sms), content.sms
    assert sms_segments(content.sms) == 1, content.sms
    assert "STOP para darse de baja" in content.sms
    for part in (content.subject, content.text, content.html, content.sms):
        assert not english_in(part, spanish_name(modality), patient.user.first_name, CLINIC_NAME), part


@pytest.mark.django_db
def test_the_waitlist_offer_in_spanish(clinic_settings, practitioner, patient, other_patient, wbc):
    with time_machine.travel(NOW, tick=False):
        working_hours(practitioner)
        cleared(patient)
        cleared(other_patient)
        tuesday_ten = at(MONDAY + timedelta(days=1), 10)
        taken = appointment_book(
            patient=other_patient, modality=wbc, starts_at=tuesday_ten, booked_by=other_patient.user
        )
        join(patient, wbc)
        appointment_cancel(appointment=taken, by=other_patient.user)
        offer = waitlist_slot_freed(modality=wbc, starts_at=tuesday_ten, practitioner=practitioner)
        reminder = Reminder.objects.get(kind=BookingMessage.WAITLIST_OFFER, patient=patient)
        with translation.override("es"):
            content = reminder_content_all_channels(reminder)
    assert offer is not None
    assert content.subject == f"Ha quedado libre una hora: {spanish_name(wbc)} el martes, 23 de marzo a las 10:00"
    assert "martes, 23 de marzo de 2027, 10:00-" in content.text
    assert "Se la guardamos hasta las" in content.text
    for part in (content.subject, content.text, content.html):
        data = (spanish_name(wbc), patient.user.first_name, practitioner.full_name, CLINIC_NAME)
        assert not english_in(part, *data), part
