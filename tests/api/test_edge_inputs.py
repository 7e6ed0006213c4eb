"""Inputs at the edges of the calendar and of integers answer with a problem, never a server error."""

from __future__ import annotations

import pytest
import time_machine

from tests.api.conftest import bearer, token_for
from tests.bookings.conftest import NOW, cleared, working_hours

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(patient, practitioner):
    with time_machine.travel(NOW, tick=False):
        working_hours(practitioner)
        yield bearer(token_for(cleared(patient).user))


@pytest.mark.parametrize(
    "query",
    [
        {"start": "9999-12-31"},
        {"start": "0001-01-01"},
        {"start": "0001-01-01", "end": "0001-01-02"},
        {"start": "9999-12-30", "end": "9999-12-31"},
        {"practitioner": str(2**70)},
        {"start": "2027-02-30"},
    ],
)
def test_availability_at_the_ends_of_the_calendar(api, wbc, query):
    answer = api.get(f"/api/v1/modalities/{wbc.slug}/availability/", query)
    assert answer.status_code in (200, 400), answer.content
    assert answer.status_code == 200 or answer["Content-Type"] == "application/problem+json"


@pytest.mark.parametrize(
    "starts_at",
    [
        "9999-12-31T23:59:59-14:00",
        "9999-12-31T23:59:59+14:00",
        "0001-01-01T00:00:00+14:00",
        "0001-01-01T00:00:00-14:00",
        "0001-01-01T00:00:00",
        "9999-12-31T23:59:59",
        "2027-03-23T10:00:00+99:00",
    ],
)
def test_booking_at_the_ends_of_the_calendar(api, wbc, starts_at):
    answer = api.post("/api/v1/appointments/", {"modality": wbc.slug, "starts_at": starts_at}, "json")
    assert 400 <= answer.status_code < 500, answer.content
    assert answer["Content-Type"] == "application/problem+json"


@pytest.mark.parametrize(
    "path", [f"/api/v1/appointments/{2**70}/", "/api/v1/appointments/-1/", "/api/v1/appointments/0/"]
)
def test_out_of_range_ids_are_404(api, path):
    answer = api.get(path)
    assert answer.status_code == 404
    assert answer["Content-Type"] == "application/problem+json"


def test_booking_with_an_out_of_range_practitioner_is_a_400(api, wbc):
    body = {"modality": wbc.slug, "starts_at": "2027-03-23T10:00:00Z", "practitioner": 2**70}
    answer = api.post("/api/v1/appointments/", body, "json")
    assert answer.status_code == 400
    assert "practitioner" in answer.json()["errors"]


@pytest.mark.parametrize("modality", ["whole\x00body", "\x00", "a" * 500, 7, None])
def test_booking_an_impossible_modality_is_a_400(api, modality):
    answer = api.post("/api/v1/appointments/", {"modality": modality, "starts_at": "2027-03-23T10:00:00Z"}, "json")
    assert answer.status_code == 400
    assert "modality" in answer.json()["errors"]
