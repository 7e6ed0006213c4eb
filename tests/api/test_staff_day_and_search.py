"""The day's appointments and the patient search through the API: what the calendar and the search page show."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine

from clinic.models import AuditEvent
from tests.api.staff_world import NOON, TODAY, StaffWorld, staff_world_build

pytestmark = pytest.mark.django_db
CLINICAL_KEYS = {"subjective", "assessment", "answers", "reasons", "staff_reasons", "notes", "pain_before"}


@pytest.fixture
def world() -> StaffWorld:
    with time_machine.travel(NOON, tick=False):
        yield staff_world_build()


def _day(world: StaffWorld, role: str, query: str = "") -> dict:
    with time_machine.travel(NOON, tick=False):
        response = world.client(role).get(f"/api/v1/staff/appointments/?date={TODAY.isoformat()}{query}")
    assert response.status_code == 200, response.content
    return response.json()


def _keys(value: object) -> set[str]:
    if isinstance(value, dict):
        return set(value) | {key for inner in value.values() for key in _keys(inner)}
    if isinstance(value, list):
        return {key for inner in value for key in _keys(inner)}
    return set()


def test_desk_sees_every_practitioners_day_with_names_and_screening_as_a_word(world: StaffWorld) -> None:
    body = _day(world, "desk")
    rows = {row["id"]: row for row in body["appointments"]}
    assert body["practitioner"] is None
    assert rows[world.today_a.pk]["patient"] == {"id": world.patient_a.pk, "name": "Ada Quill"}
    assert rows[world.today_a.pk]["screening_status"] == "eligible"
    assert rows[world.today_b.pk]["patient"]["name"] == "Bram Stoke"
    assert not _keys(body) & CLINICAL_KEYS


def test_desk_narrows_the_day_to_one_practitioner(world: StaffWorld) -> None:
    body = _day(world, "desk", f"&practitioner={world.unrelated.pk}")
    assert body["practitioner"] == world.unrelated.pk
    assert {row["practitioner"]["id"] for row in body["appointments"]} == {world.unrelated.pk}


def test_practitioner_sees_their_own_column_and_names_only_of_their_care_team(world: StaffWorld) -> None:
    """B's 11:00 is in ``related``'s column, but their membership was ended: only 'booked'."""
    body = _day(world, "related")
    rows = {row["id"]: row for row in body["appointments"]}
    assert set(rows) == {world.today_a.pk, world.today_b.pk}
    assert rows[world.today_a.pk]["patient"]["name"] == "Ada Quill"
    assert rows[world.today_b.pk]["patient"] is None
    assert rows[world.today_b.pk]["screening_status"] is None
    assert "Bram" not in str(body)


def test_a_practitioner_cannot_open_a_colleagues_day(world: StaffWorld) -> None:
    with time_machine.travel(NOON, tick=False):
        response = world.client("unrelated").get(f"/api/v1/staff/appointments/?practitioner={world.related.pk}")
    assert response.status_code == 403
    assert response["Content-Type"] == "application/problem+json"


@pytest.mark.parametrize("role", ["patient_a", "patient_b"])
def test_patients_have_no_day_list(world: StaffWorld, role: str) -> None:
    assert world.client(role).get("/api/v1/staff/appointments/").status_code == 403


def test_without_a_token_the_day_list_is_a_401(world: StaffWorld) -> None:
    from django.test import Client

    response = Client().get("/api/v1/staff/appointments/")
    assert response.status_code == 401
    assert response["Content-Type"] == "application/problem+json"


@pytest.mark.parametrize(
    ("query", "field"),
    [("?date=22-03-2027", "date"), ("?date=1890-01-01", "date"), ("?practitioner=abc", "practitioner")],
)
def test_a_date_or_practitioner_that_is_not_one_is_a_400_naming_the_field(
    world: StaffWorld, query: str, field: str
) -> None:
    response = world.client("desk").get(f"/api/v1/staff/appointments/{query}")
    assert response.status_code == 400
    assert field in response.json()["errors"]


def test_the_day_list_is_audited_with_the_token(world: StaffWorld) -> None:
    before = AuditEvent.objects.count()
    _day(world, "desk")
    row = AuditEvent.objects.order_by("pk")[before:].get()
    assert row.action == AuditEvent.Action.VIEW
    assert row.actor == world.desk
    assert "day list" in row.description
    assert "token" in row.description


def test_no_day_is_refused_for_being_another_day(world: StaffWorld) -> None:
    with time_machine.travel(NOON, tick=False):
        body = world.client("desk").get(f"/api/v1/staff/appointments/?date={TODAY + timedelta(days=1)}").json()
    assert body["appointments"] == []


# --- patient search -----------------------------------------------------------------------


def _found(world: StaffWorld, role: str, query: str) -> list[str]:
    response = world.client(role).get("/api/v1/patients/", {"q": query})
    assert response.status_code == 200, response.content
    return [f"{row['first_name']} {row['last_name']}" for row in response.json()["results"]]


def test_desk_finds_any_active_patient_with_contact_details_only(world: StaffWorld) -> None:
    response = world.client("desk").get("/api/v1/patients/", {"q": "Stoke"})
    (row,) = response.json()["results"]
    assert row["id"] == world.patient_b.pk
    assert set(row) == {"id", "first_name", "last_name", "date_of_birth", "phone", "email"}


def test_a_practitioner_finds_only_their_care_teams_patients(world: StaffWorld) -> None:
    assert _found(world, "related", "Quill") == ["Ada Quill"]
    assert _found(world, "related", "Stoke") == []  # membership ended
    assert _found(world, "unrelated", "Quill") == []
    assert _found(world, "unrelated", "Stoke") == ["Bram Stoke"]


@pytest.mark.parametrize("role", ["patient_a", "patient_b"])
def test_patients_cannot_search_patients(world: StaffWorld, role: str) -> None:
    assert world.client(role).get("/api/v1/patients/", {"q": "Quill"}).status_code == 403


@pytest.mark.parametrize("query", ["", "a", "   "])
def test_an_empty_search_is_a_400_that_says_what_to_type(world: StaffWorld, query: str) -> None:
    response = world.client("desk").get("/api/v1/patients/", {"q": query})
    assert response.status_code == 400
    assert "Type at least two letters" in response.json()["errors"]["q"][0]


def test_a_search_is_in_the_audit_trail_without_the_date_of_birth_typed(world: StaffWorld) -> None:
    world.client("desk").get("/api/v1/patients/", {"q": "15/06/1980"})
    search = AuditEvent.objects.filter(action=AuditEvent.Action.SEARCH).latest("pk")
    assert "a date of birth" in search.description
    assert "1980" not in search.description
    assert AuditEvent.objects.filter(action=AuditEvent.Action.VIEW, description__contains="patient search").exists()


def test_search_pages_are_numbered(world: StaffWorld) -> None:
    response = world.client("desk").get("/api/v1/patients/", {"q": "Quill", "page": 2})
    assert response.json() == {"query": "Quill", "page": 2, "has_next": False, "results": []}
    assert world.client("desk").get("/api/v1/patients/", {"q": "Quill", "page": 0}).status_code == 400
