"""Random and hostile POSTs to every URL of the project never cause a server error or a stored row.

Patterns come from the URL resolver (as in test_url_walk), each posted to as the
person it is meant for (patient A, A's practitioner, or nobody for public pages),
with field names the project's forms use and values from long strings, markup and
script, SQL-ish text, wrong types, unknown ids and missing fields.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.apps import apps
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.factories import verified_login
from tests.security.url_catalogue import RULES, Access, project_patterns, url_for
from tests.security.world import World, build_world

pytestmark = pytest.mark.django_db

CLINICAL_MODELS = [
    "screening.Submission",
    "screening.Answer",
    "screening.Review",
    "screening.Consent",
    "bookings.Appointment",
    "bookings.CarePlan",
    "bookings.PlanSeries",
    "treatments.SessionLog",
    "treatments.AdverseEvent",
    "treatments.Amendment",
]

FIELD_NAMES = [
    "patient", "modality", "practitioner", "starts_at", "slot", "week", "date", "start_time", "end_time",
    "reason", "outcome", "password", "understood", "code", "typed_name", "agreed", "notes", "date_of_birth",
    "decision", "note", "template", "start_date", "phase", "first_date", "weekday", "local_time", "count",
    "interval_days", "pain_before", "pain_after", "duration_minutes", "pain_location", "temperature_c",
    "exposure_seconds", "bp_systolic", "bp_diastolic", "resource", "needle_count", "points_used", "subjective",
    "sign", "next", "email", "first_name", "last_name", "phone", "password1", "password2", "username",
    "old_password", "new_password1", "new_password2", "date_from", "date_to", "group_by",
    "events-TOTAL_FORMS", "events-INITIAL_FORMS", "events-0-kind", "events-0-severity", "events-0-description",
]  # fmt: skip

HOSTILE_TEXT = st.sampled_from(
    [
        "<script>alert(1)</script>",
        '"><img src=x onerror=alert(1)>',
        "' OR 1=1 --",
        "999999999",
        "-1",
        "0",
        "1e309",
        "NaN",
        "2026-02-30",
        "25:61",
        "",
        " ",
        "null",
        "[]",
        "{}",
        "../../etc/passwd",
        "\u202e\u0000",
        "x" * 5000,
    ]
)
VALUES = st.one_of(
    HOSTILE_TEXT,
    st.text(max_size=300),
    st.integers(min_value=-(2**63), max_value=2**63).map(str),
    st.lists(HOSTILE_TEXT, min_size=2, max_size=3),
)
PAYLOADS = st.dictionaries(st.sampled_from(FIELD_NAMES) | st.text(min_size=1, max_size=20), VALUES, max_size=12)


def _counts() -> dict[str, int]:
    return {label: apps.get_model(label).objects.count() for label in CLINICAL_MODELS}


def _client(world: World, access: Access) -> Client:
    client = Client()
    if access in (Access.STAFF, Access.STAFF_OBJECT):
        verified_login(client, world.related.user)
    elif access in (Access.PATIENT, Access.PATIENT_OBJECT, Access.ACCOUNT):
        client.force_login(world.patient_a.user)
    return client


def _form_names() -> list[str]:
    return sorted(pattern.name for pattern in project_patterns() if pattern.name in RULES)


@pytest.mark.parametrize("name", _form_names())
def test_hostile_posts_never_fail_or_store_anything(name: str) -> None:
    world = build_world()
    access = RULES[name].access
    url = url_for(name, world)
    client = _client(world, access)

    @settings(
        max_examples=15,
        deadline=None,
        derandomize=True,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    )
    @given(payload=PAYLOADS)
    def post_hostile(payload: dict[str, Any]) -> None:
        before = _counts()
        response = client.post(url, payload)
        status = response.status_code
        assert status < 500, f"POST {url} {payload!r} -> {status}"
        if status != 302:
            assert _counts() == before, f"POST {url} {payload!r} -> {status} stored a clinical row"
        if status == 200 and not getattr(response, "streaming", False):
            body = response.content.decode("utf-8", "replace")
            assert "<script>alert(1)</script>" not in body, f"POST {url} echoes script unescaped"
            assert "<img src=x onerror" not in body, f"POST {url} echoes markup unescaped"
        if access in (Access.PATIENT, Access.PATIENT_OBJECT, Access.ACCOUNT) and not client.session.get(
            "_auth_user_id"
        ):
            client.force_login(world.patient_a.user)  # a logout or an account change ended the session

    post_hostile()
