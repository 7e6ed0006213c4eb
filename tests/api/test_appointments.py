"""The patient's own appointments through the API: the same services, rules and words as the pages,
another patient's records answer 404, and every call leaves one audit row naming the token."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
import time_machine

from api.models import PersonalAccessToken
from bookings.models import Appointment
from bookings.services.appointments import appointment_book
from clinic.models import AuditEvent
from notifications.models import Reminder
from tests.api.conftest import bearer, token_for
from tests.bookings.conftest import MONDAY, NOW, at, cleared, working_hours
from tests.factories import PatientFactory

pytestmark = pytest.mark.django_db

APPOINTMENTS = "/api/v1/appointments/"
TUESDAY = MONDAY + timedelta(days=1)


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def working(practitioner):
    working_hours(practitioner)
    return practitioner


@pytest.fixture
def me(patient):
    return cleared(patient)


@pytest.fixture
def api(me):
    return bearer(token_for(me.user))


def _book(client, modality, starts_at, **extra):
    return client.post(APPOINTMENTS, {"modality": modality.slug, "starts_at": starts_at.isoformat(), **extra}, "json")


def test_patient_books_a_free_time_and_gets_the_confirmation_queued(api, me, working, wbc):
    answer = _book(api, wbc, at(TUESDAY, 10))
    assert answer.status_code == 201, answer.json()
    body = answer.json()
    appointment = Appointment.objects.get(pk=body["id"])
    assert appointment.patient == me
    assert appointment.starts_at == at(TUESDAY, 10)
    assert body["status"] == "booked"
    assert body["modality"]["slug"] == wbc.slug
    assert answer["Location"].endswith(f"{APPOINTMENTS}{appointment.pk}/")
    assert Reminder.objects.filter(key=f"booked:{appointment.pk}").exists()


def test_taken_time_is_a_409_with_the_pages_words_and_the_nearest_times(api, working, wbc):
    rival = cleared(PatientFactory())
    appointment_book(patient=rival, modality=wbc, starts_at=at(TUESDAY, 10), booked_by=rival.user)
    answer = _book(api, wbc, at(TUESDAY, 10))
    assert answer.status_code == 409
    assert answer["Content-Type"] == "application/problem+json"
    problem = answer.json()
    assert problem["type"].endswith("/api/problems/slot-taken")
    assert problem["detail"].startswith("Sorry, this time has just been taken")
    assert problem["nearest_times"], "free times nearby are offered"
    assert at(TUESDAY, 10) not in [datetime.fromisoformat(moment) for moment in problem["nearest_times"]]
    assert Appointment.objects.count() == 1


def test_screening_refusal_is_a_422_and_nothing_is_booked(working, wbc, other_patient):
    unscreened = bearer(token_for(other_patient.user))
    answer = _book(unscreened, wbc, at(TUESDAY, 10))
    assert answer.status_code == 422
    problem = answer.json()
    assert problem["type"].endswith("/api/problems/screening-refused")
    assert "screening" in problem["detail"].lower()
    assert not Appointment.objects.exists()


def test_time_in_the_past_is_a_422_with_nearest_times(api, working, wbc):
    answer = _book(api, wbc, NOW - timedelta(hours=1))
    assert answer.status_code == 422
    assert answer.json()["detail"] == "That time has passed; please choose a later time."


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"modality": "no-such-treatment", "starts_at": "2027-03-23T10:00:00Z"}, "modality"),
        ({"modality": "whole-body-cryotherapy", "starts_at": "next tuesday"}, "starts_at"),
        ({"modality": "whole-body-cryotherapy"}, "starts_at"),
        ({"modality": "whole-body-cryotherapy", "starts_at": "2027-03-23T10:00Z", "practitioner": "x"}, "practitioner"),
        ({"modality": ["a"], "starts_at": "2027-03-23T10:00Z"}, "modality"),
    ],
)
def test_invalid_body_is_a_400_with_errors_per_field(api, body, field):
    answer = api.post(APPOINTMENTS, body, "json")
    assert answer.status_code == 400
    problem = answer.json()
    assert problem["type"].endswith("/api/problems/validation-error")
    assert field in problem["errors"]
    assert not Appointment.objects.exists()


def test_body_that_is_not_json_is_a_400_problem(api):
    answer = api.post(APPOINTMENTS, "{not json", content_type="application/json")
    assert answer.status_code == 400
    assert answer.json()["type"].endswith("/api/problems/malformed-request")


def test_form_encoded_body_is_a_415_problem(api):
    answer = api.post(APPOINTMENTS, {"modality": "x"}, format="multipart")
    assert answer.status_code == 415
    assert answer["Content-Type"] == "application/problem+json"


def test_list_and_read_show_only_my_appointments(api, me, working, wbc):
    mine = appointment_book(patient=me, modality=wbc, starts_at=at(TUESDAY, 10), booked_by=me.user)
    other = cleared(PatientFactory())
    theirs = appointment_book(patient=other, modality=wbc, starts_at=at(TUESDAY, 11), booked_by=other.user)
    listing = api.get(APPOINTMENTS).json()
    assert [row["id"] for row in listing["results"]] == [mine.pk]
    assert api.get(f"{APPOINTMENTS}{mine.pk}/").status_code == 200
    answer = api.get(f"{APPOINTMENTS}{theirs.pk}/")
    assert answer.status_code == 404
    assert answer["Content-Type"] == "application/problem+json"


def test_another_patients_appointment_cannot_be_cancelled_or_moved(api, working, wbc):
    other = cleared(PatientFactory())
    theirs = appointment_book(patient=other, modality=wbc, starts_at=at(TUESDAY, 11), booked_by=other.user)
    assert api.post(f"{APPOINTMENTS}{theirs.pk}/cancel/", {}, "json").status_code == 404
    moved = api.post(f"{APPOINTMENTS}{theirs.pk}/reschedule/", {"starts_at": at(TUESDAY, 14).isoformat()}, "json")
    assert moved.status_code == 404
    theirs.refresh_from_db()
    assert (theirs.status, theirs.starts_at) == ("booked", at(TUESDAY, 11))


def test_cancel_and_reschedule_my_appointment(api, me, working, wbc):
    first = appointment_book(patient=me, modality=wbc, starts_at=at(TUESDAY, 10), booked_by=me.user)
    moved = api.post(f"{APPOINTMENTS}{first.pk}/reschedule/", {"starts_at": at(TUESDAY, 14).isoformat()}, "json")
    assert moved.status_code == 200, moved.json()
    first.refresh_from_db()
    assert first.starts_at == at(TUESDAY, 14)
    cancelled = api.post(f"{APPOINTMENTS}{first.pk}/cancel/", {"reason": "feeling better"}, "json")
    assert cancelled.status_code == 200
    assert cancelled.json()["status"] == "cancelled"
    again = api.post(f"{APPOINTMENTS}{first.pk}/cancel/", {}, "json")
    assert again.status_code == 422
    assert "cancelled" in again.json()["detail"]


def test_staff_token_gets_403_on_the_patients_endpoint(practitioner):
    answer = bearer(token_for(practitioner.user)).get(APPOINTMENTS)
    assert answer.status_code == 403
    assert answer.json()["detail"] == "Only patients have appointments of their own here."


# --- audit ----------------------------------------------------------------------------------


def test_each_call_leaves_one_audit_row_naming_the_actor_and_the_token(api, me, working, wbc):
    prefix = PersonalAccessToken.objects.get(user=me.user).prefix
    before = AuditEvent.objects.count()
    booked = _book(api, wbc, at(TUESDAY, 10)).json()
    api.get(APPOINTMENTS)
    api.get(f"{APPOINTMENTS}{booked['id']}/")
    # The booking service also records the care team it joined; the API adds one row per call.
    rows = [row for row in AuditEvent.objects.order_by("id")[before:] if row.description.startswith("API ")]
    assert [row.action for row in rows] == ["create", "view", "view"]
    assert all(row.actor == me.user and row.patient == me for row in rows)
    assert all(f"token {prefix}" in row.description for row in rows)
    assert rows[0].target_id == str(booked["id"])
    assert rows[0].path == APPOINTMENTS


def test_probing_another_patients_appointment_is_audited_as_denied(api, me, working, wbc):
    other = cleared(PatientFactory())
    theirs = appointment_book(patient=other, modality=wbc, starts_at=at(TUESDAY, 11), booked_by=other.user)
    before = AuditEvent.objects.count()
    api.get(f"{APPOINTMENTS}{theirs.pk}/")
    (row,) = AuditEvent.objects.order_by("id")[before:]
    assert row.action == "denied"
    assert row.actor == me.user
    assert row.patient is None  # the refusal does not say whose it was


def test_public_calls_and_refused_tokens_leave_no_audit_row(wbc):
    before = AuditEvent.objects.count()
    bearer("cpat_deadbeef_nope").get(APPOINTMENTS)
    bearer("").get(f"/api/v1/modalities/{wbc.slug}/availability/")
    assert AuditEvent.objects.count() == before


# --- public catalogue and availability ---------------------------------------------------------


def test_availability_lists_free_times_and_leaves_out_taken_ones(client, working, wbc):
    rival = cleared(PatientFactory())
    appointment_book(patient=rival, modality=wbc, starts_at=at(TUESDAY, 10), booked_by=rival.user)
    answer = client.get(f"/api/v1/modalities/{wbc.slug}/availability/", {"start": TUESDAY, "end": TUESDAY})
    assert answer.status_code == 200
    (day,) = answer.json()
    starts = [datetime.fromisoformat(slot["starts_at"]) for slot in day["slots"]]
    assert at(TUESDAY, 10, 30) in starts
    assert at(TUESDAY, 10) not in starts


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"start": "2027-03-23", "end": "2027-03-22"}, "end"),
        ({"start": "2027-03-01", "end": "2027-05-01"}, "end"),
        ({"start": "yesterday"}, "start"),
        ({"practitioner": "0"}, "practitioner"),
        ({"practitioner": "999999"}, "practitioner"),
    ],
)
def test_availability_refuses_a_bad_query_with_errors_per_field(client, wbc, query, field):
    answer = client.get(f"/api/v1/modalities/{wbc.slug}/availability/", query)
    assert answer.status_code == 400
    assert field in answer.json()["errors"]


def test_availability_of_an_unknown_treatment_is_a_404_problem(client):
    answer = client.get("/api/v1/modalities/no-such-thing/availability/")
    assert answer.status_code == 404
    assert answer["Content-Type"] == "application/problem+json"
