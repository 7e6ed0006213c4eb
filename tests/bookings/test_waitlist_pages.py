"""The waitlist pages: a patient joins, leaves and answers an offer; staff see the list within the care-team rule."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse

from bookings.models import Appointment, WaitlistEntry, WaitlistOffer
from bookings.services.appointments import appointment_book, appointment_cancel
from bookings.services.waitlist import waitlist_slot_freed
from tests.bookings.conftest import MONDAY, at, cleared
from tests.bookings.test_waitlist import join
from tests.factories import FrontDeskFactory, PatientFactory, PractitionerFactory, care_team_join
from tests.screening.factories import submission_with_answers

TUESDAY = MONDAY + timedelta(days=1)


def join_data(treatment, **overrides) -> dict:
    return {
        "modality": treatment.pk,
        "weekdays": ["1", "3"],
        "earliest_time": "09:00",
        "latest_time": "13:00",
        "available_from": MONDAY.isoformat(),
        "available_until": (MONDAY + timedelta(days=14)).isoformat(),
    } | overrides


@pytest.fixture
def offered(working_practitioner, screened_patient, screened_other_patient, wbc) -> WaitlistOffer:
    """The other patient's Tuesday 10:00 chamber slot, freed and offered to the (waiting) patient."""
    appointment = appointment_book(
        patient=screened_other_patient, modality=wbc, starts_at=at(TUESDAY, 10), booked_by=screened_other_patient.user
    )
    join(screened_patient, wbc)
    appointment_cancel(appointment=appointment, by=screened_other_patient.user)
    return waitlist_slot_freed(modality=wbc, starts_at=at(TUESDAY, 10), practitioner=working_practitioner)


def test_patient_joins_from_the_form_and_sees_the_entry(client, screened_patient, wbc):
    client.force_login(screened_patient.user)
    page = client.get(reverse("bookings:waitlist_join") + f"?modality={wbc.slug}")
    assert page.status_code == 200
    assert "30 minutes" in page.content.decode()
    response = client.post(reverse("bookings:waitlist_join"), join_data(wbc), follow=True)
    assert response.redirect_chain[-1][0] == reverse("bookings:waitlist")
    body = response.content.decode()
    assert "You are on the waitlist for Whole-body cryotherapy" in body
    assert "Tuesday, Thursday" in body
    assert WaitlistEntry.objects.get().weekdays == [1, 3]


def test_join_with_a_past_first_day_is_a_field_error(client, screened_patient, wbc):
    client.force_login(screened_patient.user)
    response = client.post(
        reverse("bookings:waitlist_join"), join_data(wbc, available_from=(MONDAY - timedelta(days=2)).isoformat())
    )
    assert response.status_code == 409
    assert response.context["form"].errors["available_from"] == ["The first day cannot be in the past."]
    assert not WaitlistEntry.objects.exists()


def test_join_with_no_weekday_or_a_backwards_window_is_a_form_error(client, screened_patient, wbc):
    client.force_login(screened_patient.user)
    response = client.post(
        reverse("bookings:waitlist_join"), join_data(wbc, weekdays=[], earliest_time="14:00", latest_time="10:00")
    )
    assert response.status_code == 400
    assert set(response.context["form"].errors) == {"weekdays", "latest_time"}


def test_join_refused_by_screening_shows_the_gate_page(client, clock, patient, wbc):
    submission_with_answers(patient=patient, yes=["raynauds"])
    client.force_login(patient.user)
    response = client.post(reverse("bookings:waitlist_join"), join_data(wbc))
    assert response.status_code == 409
    assert "Raynaud" in response.content.decode()
    assert not WaitlistEntry.objects.exists()


def test_hostile_input_is_a_form_error_never_a_500(client, screened_patient, wbc):
    client.force_login(screened_patient.user)
    response = client.post(
        reverse("bookings:waitlist_join"),
        join_data(wbc, weekdays=["9", "x"], available_until="99999-01-01", modality="nope"),
    )
    assert response.status_code == 400


def test_patient_leaves_the_list(client, screened_patient, wbc):
    entry = join(screened_patient, wbc)
    client.force_login(screened_patient.user)
    response = client.post(reverse("bookings:waitlist_leave", args=[entry.pk]), follow=True)
    assert "You have left the waitlist" in response.content.decode()
    entry.refresh_from_db()
    assert entry.status == WaitlistEntry.Status.LEFT


def test_offer_page_books_the_time(client, offered, screened_patient):
    client.force_login(screened_patient.user)
    page = client.get(reverse("bookings:waitlist_offer", args=[offered.pk]))
    assert "Book this time" in page.content.decode()
    response = client.post(reverse("bookings:waitlist_offer", args=[offered.pk]), {"answer": "accept"})
    appointment = Appointment.objects.get(patient=screened_patient)
    assert response.url == reverse("bookings:appointment_detail", args=[appointment.pk])


def test_offer_page_tells_kindly_when_the_time_has_gone(client, offered, screened_patient, wbc):
    someone = cleared(PatientFactory())
    appointment_book(patient=someone, modality=wbc, starts_at=at(TUESDAY, 10), booked_by=someone.user)
    client.force_login(screened_patient.user)
    response = client.post(reverse("bookings:waitlist_offer", args=[offered.pk]), {"answer": "accept"})
    assert response.status_code == 409
    body = response.content.decode()
    assert "gone to someone else" in body
    assert "still on the waitlist" in body
    assert "See other free times" in body


def test_offer_page_decline_keeps_the_patient_on_the_list(client, offered, screened_patient):
    client.force_login(screened_patient.user)
    response = client.post(reverse("bookings:waitlist_offer", args=[offered.pk]), {"answer": "decline"}, follow=True)
    assert "You stay on the waitlist" in response.content.decode()
    offered.refresh_from_db()
    assert offered.status == WaitlistOffer.Status.DECLINED


def test_another_patient_cannot_open_my_offer(client, offered, screened_other_patient):
    client.force_login(screened_other_patient.user)
    assert client.get(reverse("bookings:waitlist_offer", args=[offered.pk])).status_code == 404


def test_desk_adds_a_patient_and_sees_who_was_offered_what(client, offered, screened_other_patient, wbc):
    desk = FrontDeskFactory()
    client.force_login(desk)
    response = client.post(
        reverse("bookings:staff_waitlist_join"),
        join_data(wbc, patient=screened_other_patient.pk, note="call after 5"),
        follow=True,
    )
    body = response.content.decode()
    assert f"{screened_other_patient.full_name} is on the waitlist" in body
    assert offered.patient.full_name in body
    assert "Open (holding)" in body  # the offer to the first patient, with its times
    assert "call after 5" in body


def test_practitioner_sees_only_their_care_team_on_the_list(client, screened_patient, wbc):
    join(screened_patient, wbc)
    stranger, member = PractitionerFactory(), PractitionerFactory()
    care_team_join(patient=screened_patient, practitioner=member)
    client.force_login(stranger.user)
    assert screened_patient.full_name not in client.get(reverse("bookings:staff_waitlist")).content.decode()
    client.force_login(member.user)
    assert screened_patient.full_name in client.get(reverse("bookings:staff_waitlist")).content.decode()
