"""Dates and times in query strings: any value, however extreme, gets a page or a clear refusal, never a 500.

The probe found ``?starts_at=0001-01-01T00:00Z`` on the booking confirm page and
``?date=9999-12-31`` on the staff week page answering with a server error.  These are
every page that reads a date or time from ``request.GET``.
"""

from __future__ import annotations

import pytest
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.factories import verified_login
from tests.security.url_catalogue import RULES, Access, url_for
from tests.security.world import build_world

pytestmark = pytest.mark.django_db

PAGES_WITH_DATES = {
    "bookings:book_times": ["week"],
    "bookings:book_confirm": ["starts_at"],
    "bookings:appointment_reschedule": ["week", "starts_at"],
    "bookings:practitioner_day": ["date"],
    "bookings:practitioner_week": ["date"],
    "bookings:staff_book": ["week"],
    "treatments:report": ["date_from", "date_to"],
    "treatments:report_csv": ["date_from", "date_to"],
}

EXTREMES = st.sampled_from(
    [
        "0001-01-01",
        "0001-01-01T00:00Z",
        "0001-01-03",
        "9999-12-31",
        "9999-12-31T23:59Z",
        "9999-12-25",
        "10000-01-01",
        "2026-02-30",
        "2026-13-01T00:00Z",
        "",
        "x",
    ]
)
VALUES = st.one_of(
    EXTREMES,
    st.dates().map(lambda day: day.isoformat()),
    st.datetimes().map(lambda moment: moment.strftime("%Y-%m-%dT%H:%MZ")),
    st.text(max_size=40),
)


def _client(world, access: Access) -> Client:
    client = Client()
    if access in (Access.STAFF, Access.STAFF_OBJECT):
        verified_login(client, world.admin)
    else:
        client.force_login(world.patient_a.user)
    return client


def test_the_probes_extreme_dates_get_a_clear_answer_not_a_server_error():
    world = build_world()
    patient = _client(world, Access.PATIENT)
    staff = _client(world, Access.STAFF)

    confirm = patient.get(url_for("bookings:book_confirm", world), {"starts_at": "0001-01-01T00:00Z"})
    week = staff.get(url_for("bookings:practitioner_week", world), {"date": "9999-12-31"})

    assert confirm.status_code == 400  # said on the confirm page itself, not after a silent redirect
    assert "That start time is not valid" in confirm.content.decode()
    assert week.status_code == 400
    assert "outside the calendar" in week.content.decode()


@pytest.mark.parametrize("name", sorted(PAGES_WITH_DATES))
def test_any_date_in_the_query_string_never_gives_a_server_error(name: str) -> None:
    world = build_world()
    url = url_for(name, world)
    client = _client(world, RULES[name].access)
    fields = PAGES_WITH_DATES[name]

    @settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(query=st.fixed_dictionaries(dict.fromkeys(fields, VALUES)))
    def get_with(query: dict[str, str]) -> None:
        if name == "bookings:staff_book":
            query = {**query, "patient": world.patient_a.pk, "modality": world.modality.pk}
        if name.startswith("treatments:report"):
            query = {**query, "group_by": "modality"}
        response = client.get(url, query)
        assert response.status_code < 500, f"GET {url} {query!r} -> {response.status_code}"

    get_with()
