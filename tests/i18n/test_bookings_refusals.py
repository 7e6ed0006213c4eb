"""The booking refusals a patient reads are in Spanish when Spanish is chosen, and unchanged in English."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import translation

from bookings.forms import slot_value
from bookings.models import Appointment, ClinicClosure
from bookings.services.appointments import PASSED_MESSAGE, BookingRefused, appointment_book, appointment_cancel
from bookings.services.waitlist import WaitlistRefused
from tests.bookings.conftest import MONDAY, NOW, at, cleared, working_hours
from tests.bookings.test_waitlist import join

TUESDAY = MONDAY + timedelta(days=1)


@pytest.fixture
def scene(settings, practitioner, patient, other_patient):
    settings.TIME_ZONE = "Europe/London"
    with time_machine.travel(NOW, tick=False):
        working_hours(practitioner)
        cleared(patient)
        cleared(other_patient)
        yield


def refusal(language: str, patient, modality, starts_at) -> BookingRefused:
    with translation.override(language), pytest.raises(BookingRefused) as refused:
        appointment_book(patient=patient, modality=modality, starts_at=starts_at, booked_by=patient.user)
    return refused.value


@pytest.mark.parametrize(
    ("when", "spanish", "english"),
    [
        (at(MONDAY, 6), "Esa hora ya ha pasado; elija una hora posterior.", PASSED_MESSAGE),
        (
            at(MONDAY, 8, 45),
            "Las reservas necesitan al menos 2 horas de antelación; elija una hora posterior.",
            "Bookings need at least 2 hours' notice; please choose a later time.",
        ),
        (
            at(MONDAY + timedelta(days=60), 10),
            "Las reservas se abren con 8 semanas de antelación; elija una fecha anterior.",
            "Bookings open 8 weeks ahead; please choose an earlier date.",
        ),
    ],
)
def test_time_rules_refuse_in_the_patients_language(scene, patient, wbc, when, spanish, english):
    assert refusal("es", patient, wbc, when).message == spanish
    assert refusal("en-gb", patient, wbc, when).message == english
    assert not Appointment.objects.exists()


def test_a_taken_time_is_refused_in_spanish_with_the_nearest_free_times(scene, patient, other_patient, wbc):
    appointment_book(patient=other_patient, modality=wbc, starts_at=at(TUESDAY, 10), booked_by=other_patient.user)
    refused = refusal("es", patient, wbc, at(TUESDAY, 10))
    assert refused.message == "Lo sentimos, esta hora se acaba de ocupar. Elija otra hora."
    assert refused.alternatives
    assert Appointment.objects.count() == 1


def test_a_closed_day_is_named_the_spanish_way(scene, patient, wbc):
    ClinicClosure.objects.create(start_date=TUESDAY, end_date=TUESDAY, reason="Festivo")
    refused = refusal("es", patient, wbc, at(TUESDAY, 10))
    assert refused.message == "La clínica está cerrada el martes, 23 de marzo (Festivo)."


def test_the_confirm_page_explains_a_passed_time_in_spanish(client, scene, patient, wbc):
    client.force_login(patient.user)
    url = reverse("bookings:book_confirm", args=[wbc.slug])
    page = client.get(url, {"starts_at": slot_value(at(MONDAY, 6))}, HTTP_ACCEPT_LANGUAGE="es").content.decode()
    assert "Esa hora ya ha pasado; elija una hora posterior." in page
    assert "Reservar esta hora" not in page, "a refused time offers no button to book it"


def test_a_change_after_the_cut_off_is_refused_in_spanish(scene, patient, wbc):
    appointment = appointment_book(patient=patient, modality=wbc, starts_at=at(MONDAY, 16), booked_by=patient.user)
    with translation.override("es"), pytest.raises(BookingRefused) as refused:
        appointment_cancel(appointment=appointment, by=patient.user)
    assert refused.value.message == (
        "Los cambios en línea son posibles hasta 24 horas antes de la cita; llame a la clínica."
    )
    appointment.refresh_from_db()
    assert appointment.status == Appointment.Status.BOOKED


def test_waitlist_refusals_are_in_spanish(scene, patient, wbc):
    with translation.override("es"), pytest.raises(WaitlistRefused) as refused:
        join(patient, wbc, available_from=MONDAY - timedelta(days=1))
    assert refused.value.message == "El primer día no puede estar en el pasado."
    assert refused.value.field == "available_from"
