"""Session logs through the API: read by the patient's care team only, written as the log page writes them."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from api.models import PersonalAccessToken
from bookings.models import Appointment
from clinic.models import AuditEvent
from tests.api.staff_world import NOON, ROLES, StaffWorld, local, staff_world_build
from tests.factories import appointment_create
from treatments.models import SessionLog

pytestmark = pytest.mark.django_db
PROBLEM = "application/problem+json"
WRITE = PersonalAccessToken.Scope.WRITE

# Who reads patient A's logs: the pages' rule (chart and log pages), nothing wider.
READS_A = {
    "patient_a": 403,  # a staff endpoint: patients read their own logs on "My progress"
    "patient_b": 403,
    "related": 200,
    "unrelated": 404,
    "ended": 404,
    "glass": 200,
    "desk": 403,  # the front desk never reads clinical records
    "admin": 200,
}


@pytest.fixture
def world() -> StaffWorld:
    with time_machine.travel(NOON, tick=False):
        yield staff_world_build()


def _whole_body(appointment: Appointment, **overrides: object) -> dict[str, object]:
    body: dict[str, object] = {
        "appointment": appointment.pk,
        "pain_before": 6,
        "pain_after": 3,
        "duration_minutes": 10,
        "pain_location": "lower_back",
        "subjective": "Slept better since last week.",
        "temperature_c": -120,
        "exposure_seconds": 150,
        "bp_systolic": 128,
        "bp_diastolic": 82,
        "unchanged_since_screening": True,
        "adverse_events": [],
        "sign": True,
    }
    return {**body, **overrides}


@pytest.mark.parametrize("role", ROLES)
def test_a_patients_log_list_answers_each_role_as_the_chart_does(world: StaffWorld, role: str) -> None:
    response = world.client(role).get(f"/api/v1/patients/{world.patient_a.pk}/session-logs/")
    assert response.status_code == READS_A[role], response.content
    if response.status_code == 200:
        body = response.json()
        assert [row["id"] for row in body["results"]] == [world.log_a.pk]
        assert body["results"][0]["pain_before"] == 6
    else:
        assert response["Content-Type"] == PROBLEM
        assert "pain_before" not in response.content.decode()


@pytest.mark.parametrize("role", ROLES)
def test_one_log_answers_each_role_as_the_log_page_does(world: StaffWorld, role: str) -> None:
    response = world.client(role).get(f"/api/v1/session-logs/{world.log_a.pk}/")
    assert response.status_code == READS_A[role]
    if response.status_code == 200:
        assert response.json()["subjective"] == world.log_a.subjective
        assert response.json()["amendments"] == []


def test_an_unknown_log_and_a_log_out_of_reach_give_the_same_404(world: StaffWorld) -> None:
    client = world.client("unrelated")
    missing = client.get("/api/v1/session-logs/987654/")
    hidden = client.get(f"/api/v1/session-logs/{world.log_a.pk}/")
    assert missing.status_code == hidden.status_code == 404
    assert missing.json()["detail"] == hidden.json()["detail"]


def test_break_the_glass_reaches_the_logs_only_for_its_hours(world: StaffWorld) -> None:
    client = world.client("glass")
    url = f"/api/v1/patients/{world.patient_a.pk}/session-logs/"
    with time_machine.travel(NOON + timedelta(hours=1), tick=False):
        assert client.get(url).status_code == 200
    with time_machine.travel(NOON + timedelta(hours=25), tick=False):
        assert client.get(url).status_code == 404


def test_each_read_and_each_refusal_is_one_audit_row_naming_the_token(world: StaffWorld) -> None:
    client = world.client("related")
    prefix = PersonalAccessToken.objects.filter(user=world.related.user).get().prefix
    before = AuditEvent.objects.count()
    client.get(f"/api/v1/session-logs/{world.log_a.pk}/")
    client.get(f"/api/v1/patients/{world.patient_b.pk}/session-logs/")
    read, refused = AuditEvent.objects.order_by("pk")[before:]
    assert (read.action, read.actor, read.patient, read.target_id) == (
        AuditEvent.Action.VIEW, world.related.user, world.patient_a, str(world.log_a.pk),
    )  # fmt: skip
    assert prefix in read.description
    assert refused.action == AuditEvent.Action.DENIED
    assert refused.actor == world.related.user


# --- writing ------------------------------------------------------------------------------


def test_practitioner_logs_and_signs_todays_session_with_a_write_token(world: StaffWorld) -> None:
    with time_machine.travel(NOON, tick=False):
        response = world.client("related", scope=WRITE).post(
            "/api/v1/session-logs/", _whole_body(world.today_a), content_type="application/json"
        )
    assert response.status_code == 201, response.content
    log = SessionLog.objects.get(appointment=world.today_a)
    assert response.json()["id"] == log.pk
    assert (log.pain_before, log.pain_after, log.exposure_seconds, log.is_signed) == (6, 3, 150, True)
    world.today_a.refresh_from_db()
    assert world.today_a.status == Appointment.Status.ATTENDED
    created = AuditEvent.objects.get(
        action=AuditEvent.Action.CREATE, target_type="treatments.sessionlog", target_id=str(log.pk)
    )
    assert created.actor == world.related.user


def test_a_read_token_cannot_log_a_session(world: StaffWorld) -> None:
    with time_machine.travel(NOON, tick=False):
        response = world.client("related").post(
            "/api/v1/session-logs/", _whole_body(world.today_a), content_type="application/json"
        )
    assert response.status_code == 403
    assert response.json()["type"].endswith("/token-scope")
    assert not SessionLog.objects.filter(appointment=world.today_a).exists()


@pytest.mark.parametrize(
    ("role", "status"),
    [("unrelated", 404), ("ended", 404), ("desk", 403), ("patient_a", 403), ("admin", 201), ("glass", 201)],
)
def test_who_may_log_a_session_of_patient_a(world: StaffWorld, role: str, status: int) -> None:
    with time_machine.travel(NOON, tick=False):
        response = world.client(role, scope=WRITE).post(
            "/api/v1/session-logs/", _whole_body(world.today_a), content_type="application/json"
        )
    assert response.status_code == status, response.content
    assert SessionLog.objects.filter(appointment=world.today_a).exists() == (status == 201)


def test_a_practitioner_cannot_log_a_session_of_a_patient_no_longer_on_their_team(world: StaffWorld) -> None:
    """B's appointment is in ``related``'s own column, but the membership it gave was ended."""
    with time_machine.travel(NOON, tick=False):
        response = world.client("related", scope=WRITE).post(
            "/api/v1/session-logs/", _whole_body(world.today_b), content_type="application/json"
        )
    assert response.status_code == 404
    assert not SessionLog.objects.filter(appointment=world.today_b).exists()


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"exposure_seconds": 600}, "exposure_seconds", "outside this treatment's"),
        ({"pain_before": 4.5}, "pain_before", "whole number from 0 to 10"),
        ({"pain_after": 11}, "pain_after", "whole number from 0 to 10"),
        ({"temperature_c": -300}, "temperature_c", "outside the device's range"),
        ({"bp_systolic": 190}, "bp_systolic", "above the clinic's limit"),
        ({"unchanged_since_screening": False}, "unchanged_since_screening", "Confirm nothing changed"),
        ({"needle_count": 8}, "needle_count", "does not record"),
        ({"pain_before": "six"}, "pain_before", "whole number"),
        ({"duration_minutes": 1}, "duration_minutes", "cannot be shorter than the exposure"),
        ({"adverse_events": [{"kind": "other", "severity": "mild", "action_taken": "Observed"}]},
         "adverse_events.0.description", "Describe"),
        ({"adverse_events": "none"}, "adverse_events", "list"),
        ({"sign": "yes"}, "sign", "true or false"),
    ],
)  # fmt: skip
def test_an_implausible_log_is_refused_per_field_and_nothing_is_stored(
    world: StaffWorld, overrides: dict[str, object], field: str, message: str
) -> None:
    with time_machine.travel(NOON, tick=False):
        response = world.client("related", scope=WRITE).post(
            "/api/v1/session-logs/", _whole_body(world.today_a, **overrides), content_type="application/json"
        )
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["type"].endswith("/validation-error")
    assert any(message in text for text in body["errors"][field]), body["errors"]
    assert not SessionLog.objects.filter(appointment=world.today_a).exists()
    world.today_a.refresh_from_db()
    assert world.today_a.status == Appointment.Status.BOOKED


def test_the_same_messages_as_the_log_page(world: StaffWorld) -> None:
    """The page's form says it; the API says the same words for the same reading."""
    with time_machine.travel(NOON, tick=False):
        response = world.client("related", scope=WRITE).post(
            "/api/v1/session-logs/", _whole_body(world.today_a, exposure_seconds=600), content_type="application/json"
        )
    assert response.json()["errors"]["exposure_seconds"] == [
        "An exposure of 600 seconds is outside this treatment's 60-180 seconds; check the timer reading."
    ]


def test_a_session_that_has_not_started_or_is_logged_already_is_a_409(world: StaffWorld) -> None:
    later = appointment_create(
        patient=world.patient_a, practitioner=world.related, modality=world.wbc, starts_at=local(NOON.date(), 15)
    )
    client = world.client("related", scope=WRITE)
    with time_machine.travel(NOON, tick=False):
        not_started = client.post("/api/v1/session-logs/", _whole_body(later), content_type="application/json")
        again = client.post(
            "/api/v1/session-logs/", _whole_body(world.log_a.appointment), content_type="application/json"
        )
    assert not_started.status_code == 409
    assert "has not started yet" in not_started.json()["detail"]
    assert again.status_code == 409
    assert "already logged" in again.json()["detail"]
    assert not SessionLog.objects.filter(appointment=later).exists()


@pytest.mark.parametrize(
    "body", [[], '"text"', {"appointment": "1"}, {"appointment": True}, {}, {"appointment": 2**40}]
)
def test_a_body_without_an_appointment_id_is_a_400(world: StaffWorld, body: object) -> None:
    client = world.client("related", scope=WRITE)
    response = client.post("/api/v1/session-logs/", body, content_type="application/json")
    assert response.status_code == 400
    assert "appointment" in response.json()["errors"]


json_values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**20), max_value=10**20),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=30),
    st.lists(st.integers(), max_size=2),
    st.dictionaries(st.sampled_from(["kind", "severity", "action_taken", "x"]), st.text(max_size=5), max_size=3),
)
LOG_FIELDS = [
    "appointment", "pain_before", "pain_after", "duration_minutes", "pain_location", "subjective", "temperature_c",
    "exposure_seconds", "bp_systolic", "bp_diastolic", "unchanged_since_screening", "needle_count", "resource",
    "adverse_events", "sign", "unknown",
]  # fmt: skip


@given(changes=st.dictionaries(st.sampled_from(LOG_FIELDS), json_values, max_size=4))
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_any_body_is_answered_without_a_server_error_and_a_refused_one_stores_nothing(
    world: StaffWorld, changes: dict[str, object]
) -> None:
    client = world.client("related", scope=WRITE)
    with time_machine.travel(NOON, tick=False), transaction.atomic():
        response = client.post(
            "/api/v1/session-logs/", {**_whole_body(world.today_a), **changes}, content_type="application/json"
        )
        assert response.status_code in (201, 400, 404, 409), response.content
        assert response["Content-Type"] == ("application/json" if response.status_code == 201 else PROBLEM)
        stored = SessionLog.objects.filter(appointment=world.today_a).exists()
        assert stored == (response.status_code == 201)
        transaction.set_rollback(True)
