"""Bookings' pages read in Spanish when Spanish is chosen: no English sentence of the app is left.

A quick check per page, for the patient, the practitioner and the front desk.  What the page shows
as data (treatment names, people, the clinic's name) is English in the test data and is taken out
first; what is left must hold none of the English words the bookings templates are written in.
"""

from __future__ import annotations

import re
from datetime import timedelta
from html import unescape

import pytest
import time_machine
from django.urls import reverse

from bookings.forms import slot_value
from bookings.services.appointments import appointment_book
from bookings.services.waitlist import waitlist_join
from clinic.models import Modality
from tests.bookings.conftest import MONDAY, NOW, at, cleared, working_hours
from tests.factories import FrontDeskFactory, care_team_join

TUESDAY = MONDAY + timedelta(days=1)

# Words the bookings pages are written with in English and that no Spanish sentence contains.
ENGLISH_WORDS = [
    "the", "and", "your", "you", "with", "appointment", "appointments", "book", "booked", "booking",
    "session", "sessions", "week", "free", "times", "waitlist", "cancel", "move", "today", "nothing",
    "please", "treatment", "when", "where", "status", "calendar", "patient", "show", "day", "back",
    "care", "team", "link", "time", "none", "join", "next", "previous", "block", "who", "why",
]  # fmt: skip
# Texts other apps put on these pages (their owners translate them): the print header of the base
# template, the screening's status word, the treatments' "Log session" link, the care team's kinds and
# the clinic's patient picker.
NOT_OURS = [
    "printed", "cleared", "Log session", "Booked with the patient", "Assigned by the front desk or an admin",
    "Find the patient", "Name, date of birth (dd/mm/yyyy), phone number or email address.", "Patient search",
    "Search",
]  # fmt: skip
ENGLISH = re.compile(r"\b(" + "|".join(ENGLISH_WORDS) + r")\b", re.IGNORECASE)
SHOWN_ATTRIBUTES = re.compile(r'\b(?:aria-label|title|alt|placeholder)="([^"]*)"')


def visible_words(html: str, data: list[str]) -> str:
    """The text of the page's <main> a person reads or hears (with labels), data values removed."""
    main = html.split('<main id="main"', 1)[1].split("</main>", 1)[0]
    main = re.sub(r"<(script|style)\b.*?</\1>", " ", main, flags=re.S)
    labels = " ".join(SHOWN_ATTRIBUTES.findall(main))
    buttons = " ".join(re.findall(r'<input[^>]*type="submit"[^>]*value="([^"]*)"', main))
    text = unescape(re.sub(r"<[^>]+>", " ", main) + " " + labels + " " + buttons)
    for value in sorted([*data, *NOT_OURS], key=len, reverse=True):
        text = text.replace(value, " ")
    return " ".join(text.split())


@pytest.fixture
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def scene(clock, settings, practitioner, patient, wbc):
    """A practitioner who works every day, a screened patient with a booking and a waitlist entry."""
    settings.TIME_ZONE = "Europe/London"
    working_hours(practitioner)
    cleared(patient)
    care_team_join(patient=patient, practitioner=practitioner)
    appointment = appointment_book(patient=patient, modality=wbc, starts_at=at(TUESDAY, 10), booked_by=patient.user)
    waitlist_join(
        patient=patient,
        modality=wbc,
        weekdays=[1, 3],
        earliest_time=at(MONDAY, 9).time(),
        latest_time=at(MONDAY, 13).time(),
        available_from=MONDAY,
        available_until=MONDAY + timedelta(days=14),
        actor=patient.user,
    )
    data = [settings.CLINIC_NAME, settings.CLINIC_PHONE, patient.full_name, practitioner.full_name]
    for modality in Modality.objects.all():
        data += [modality.name, modality.description, modality.preparation]
    return {"appointment": appointment, "data": [value for value in data if value]}


def english_left(client, url: str, data: list[str]) -> str:
    """The English words left on the page at ``url`` in Spanish, with the page's text to see them in context."""
    response = client.get(url, HTTP_ACCEPT_LANGUAGE="es")
    assert response.status_code == 200, url
    text = visible_words(response.content.decode(), data)
    words = sorted({match.group(0).lower() for match in ENGLISH.finditer(text)})
    return f"{words}: {text}" if words else ""


def test_the_patients_booking_pages_are_in_spanish(client, scene, patient, wbc):
    appointment = scene["appointment"]
    client.force_login(patient.user)
    urls = [
        reverse("bookings:appointment_list"),
        reverse("bookings:appointment_detail", args=[appointment.pk]),
        reverse("bookings:appointment_cancel", args=[appointment.pk]),
        reverse("bookings:appointment_reschedule", args=[appointment.pk]),
        reverse("bookings:book"),
        reverse("bookings:book_times", args=[wbc.slug]),
        reverse("bookings:book_confirm", args=[wbc.slug]) + f"?starts_at={slot_value(at(TUESDAY, 14))}",
        reverse("bookings:waitlist"),
        reverse("bookings:waitlist_join"),
        reverse("bookings:my_plans"),
        reverse("bookings:calendar_feed"),
    ]
    left = {url: english_left(client, url, scene["data"]) for url in urls}
    assert not {url: text for url, text in left.items() if text}


def test_the_practitioners_booking_pages_are_in_spanish(client, scene, practitioner, patient):
    appointment = scene["appointment"]
    client.force_login(practitioner.user)
    urls = [
        reverse("bookings:practitioner_day") + f"?date={TUESDAY.isoformat()}",
        reverse("bookings:practitioner_week"),
        reverse("bookings:staff_calendar") + f"?date={TUESDAY.isoformat()}",
        reverse("bookings:staff_calendar_week"),
        reverse("bookings:staff_book") + f"?patient={patient.pk}",
        reverse("bookings:staff_appointment_move", args=[appointment.pk]),
        reverse("bookings:staff_waitlist"),
        reverse("bookings:plan_list"),
        reverse("bookings:care_team", args=[patient.pk]),
        reverse("bookings:time_off_create"),
    ]
    left = {url: english_left(client, url, scene["data"]) for url in urls}
    assert not {url: text for url, text in left.items() if text}


def test_the_front_desks_booking_pages_are_in_spanish(client, scene):
    client.force_login(FrontDeskFactory())
    urls = [
        reverse("bookings:staff_book"),
        reverse("bookings:desk_patient_register"),
        reverse("bookings:staff_waitlist"),
    ]
    left = {url: english_left(client, url, scene["data"]) for url in urls}
    assert not {url: text for url, text in left.items() if text}


def test_the_same_pages_stay_english_for_an_english_browser(client, scene, patient):
    client.force_login(patient.user)
    page = client.get(reverse("bookings:appointment_list"), HTTP_ACCEPT_LANGUAGE="en-GB").content.decode()
    assert "My appointments" in page
    assert "Tue 23 Mar 2027, 10:00" in page
    spanish = client.get(reverse("bookings:appointment_list"), HTTP_ACCEPT_LANGUAGE="es").content.decode()
    assert "Mis citas" in spanish
    assert "mar 23 Mar 2027, 10:00" in spanish
