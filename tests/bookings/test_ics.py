"""The .ics the clinic writes itself is what the icalendar library writes for the same appointment.

Every appointment email carries an .ics, so it is written directly (``bookings.ics``) instead of
through the library's object model; these tests hold the two to the same bytes over random
names, preparation notes and clinic names (commas, semicolons, backslashes, line breaks, accents,
emoji and long lines that must be folded), and check that a calendar reading it gets the event back.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import icalendar
import time_machine
from django.conf import settings
from django.test import override_settings
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from bookings.ics import appointment_ics, appointment_uid, appointments_feed_ics
from bookings.models import Appointment
from clinic.models import Modality, Patient, Practitioner, User

NOW = datetime(2026, 11, 30, 1, 30, 52, 123456, tzinfo=UTC)
# Printable text of any script, with the characters iCalendar escapes made likely.
TEXT = st.text(
    alphabet=st.one_of(
        st.sampled_from(list(",;\\\n:\"'^ Né🙂")), st.characters(blacklist_categories=("Cs", "Cc", "Zl", "Zp"))
    ),
    max_size=160,
)
NAME = TEXT.filter(lambda text: "\r" not in text)


def _appointment(*, modality_name: str, preparation: str, first: str, last: str, cancelled: bool) -> Appointment:
    starts_at = datetime(2026, 12, 3, 9, 15, tzinfo=UTC)
    practitioner = Practitioner(user=User(first_name=first, last_name=last))
    patient_user = User(first_name="Pat", last_name=last)
    appointment = Appointment(
        pk=42,
        modality=Modality(name=modality_name, preparation=preparation),
        practitioner=practitioner,
        starts_at=starts_at,
        ends_at=starts_at + timedelta(minutes=15),
        status=Appointment.Status.CANCELLED if cancelled else Appointment.Status.BOOKED,
        created_at=NOW - timedelta(days=2),
        updated_at=NOW - timedelta(days=1, seconds=7),
    )
    appointment.patient = Patient(user=patient_user)
    return appointment


def _library_event(appointment: Appointment, *, for_practitioner: bool = False) -> icalendar.Event:
    """The event as the icalendar library builds it (what bookings.ics wrote before it was rewritten)."""
    event = icalendar.Event()
    event.add("uid", appointment_uid(appointment=appointment))
    event.add("dtstamp", NOW)
    event.add("dtstart", appointment.starts_at.astimezone(UTC))
    event.add("dtend", appointment.ends_at.astimezone(UTC))
    if for_practitioner:
        event.add("summary", f"{appointment.modality.name}: {appointment.patient.full_name}")
    else:
        event.add("summary", f"{appointment.modality.name} at {settings.CLINIC_NAME}")
    event.add("sequence", int((appointment.updated_at - appointment.created_at).total_seconds()))
    event.add("status", "CANCELLED" if appointment.status == Appointment.Status.CANCELLED else "CONFIRMED")
    description = [f"With {appointment.practitioner.full_name}."]
    if appointment.modality.preparation and not for_practitioner:
        description.append(f"How to prepare: {appointment.modality.preparation}")
    description.append(f"Questions? Call {settings.CLINIC_PHONE}.")
    event.add("description", "\n".join(description))
    event.add("location", settings.CLINIC_NAME)
    return event


def _library_calendar(name: str = "") -> icalendar.Calendar:
    calendar = icalendar.Calendar()
    calendar.add("prodid", f"-//{settings.CLINIC_NAME}//Bookings//EN")
    calendar.add("version", "2.0")
    calendar.add("method", "PUBLISH")
    if name:
        calendar.add("x-wr-calname", name)
    return calendar


@hypothesis_settings(max_examples=150, deadline=None)
@given(modality_name=NAME, preparation=TEXT, first=NAME, last=NAME, clinic=NAME.filter(bool), cancelled=st.booleans())
def test_an_appointment_ics_is_byte_for_byte_what_the_icalendar_library_writes(
    modality_name, preparation, first, last, clinic, cancelled
):
    appointment = _appointment(
        modality_name=modality_name, preparation=preparation, first=first, last=last, cancelled=cancelled
    )
    with time_machine.travel(NOW, tick=False), override_settings(CLINIC_NAME=clinic):
        ours = appointment_ics(appointment=appointment)
        calendar = _library_calendar()
        calendar.add_component(_library_event(appointment))
        assert ours == calendar.to_ical()
    assert all(len(line) <= 75 for line in ours.split(b"\r\n")), "every line folded to 75 octets"
    event = icalendar.Calendar.from_ical(ours).walk("VEVENT")[0]
    assert str(event["summary"]) == f"{modality_name} at {clinic}"
    assert event["dtstart"].dt == appointment.starts_at
    assert str(event["status"]) == ("CANCELLED" if cancelled else "CONFIRMED")


@hypothesis_settings(max_examples=50, deadline=None)
@given(name=NAME, last=NAME, for_practitioner=st.booleans())
def test_a_feed_is_what_the_icalendar_library_writes_and_its_name_cannot_break_the_file(name, last, for_practitioner):
    appointments = [
        _appointment(modality_name=f"Acupuncture {n}", preparation="Eat first; wear loose clothing.", first="Ada",
                     last=last, cancelled=n == 1)
        for n in range(3)
    ]  # fmt: skip
    with time_machine.travel(NOW, tick=False):
        ours = appointments_feed_ics(appointments=appointments, name=name, for_practitioner=for_practitioner)
        calendar = _library_calendar(name)
        for appointment in appointments:
            calendar.add_component(_library_event(appointment, for_practitioner=for_practitioner))
        if not set(name) & set(",;\\\n"):
            assert ours == calendar.to_ical()
        # The library writes X-WR-CALNAME unescaped (a name with a line break makes it fail); ours escapes it.
        parsed = icalendar.Calendar.from_ical(ours)
    assert all(len(line) <= 75 for line in ours.split(b"\r\n"))
    assert [str(event["summary"]).split(":")[0] for event in parsed.walk("VEVENT")] == [
        (f"Acupuncture {n}" if for_practitioner else f"Acupuncture {n} at {settings.CLINIC_NAME}") for n in range(3)
    ]
