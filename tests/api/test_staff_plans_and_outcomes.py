"""Care plans and outcome figures through the API: the chart's figures, for the chart's readers."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine

from tests.api.staff_world import NOON, ROLES, TODAY, StaffWorld, local, staff_world_build
from tests.treatments.factories import session_logged
from treatments.selectors import patient_outcomes

pytestmark = pytest.mark.django_db

READS_A = {
    "patient_a": 403,
    "patient_b": 403,
    "related": 200,
    "unrelated": 404,
    "ended": 404,
    "glass": 200,
    "desk": 403,
    "admin": 200,
}


@pytest.fixture
def world() -> StaffWorld:
    with time_machine.travel(NOON, tick=False):
        yield staff_world_build()


@pytest.mark.parametrize("what", ["care-plans", "outcomes"])
@pytest.mark.parametrize("role", ROLES)
def test_plans_and_outcomes_answer_each_role_as_the_chart_does(world: StaffWorld, role: str, what: str) -> None:
    with time_machine.travel(NOON, tick=False):
        response = world.client(role).get(f"/api/v1/patients/{world.patient_a.pk}/{what}/")
    assert response.status_code == READS_A[role], response.content
    if response.status_code != 200:
        assert response["Content-Type"] == "application/problem+json"


def test_an_active_plan_says_where_it_stands_today(world: StaffWorld) -> None:
    with time_machine.travel(NOON, tick=False):
        (plan,) = world.client("related").get(f"/api/v1/patients/{world.patient_a.pk}/care-plans/").json()
    cadence = world.plan_a.cadence(TODAY)
    assert plan["id"] == world.plan_a.pk
    assert plan["status"] == "active"
    assert plan["cadence"]["next_due_on"] == cadence.next_due_on.isoformat()
    assert plan["cadence"]["sessions_attended"] == cadence.sessions_attended
    assert plan["cadence"]["phase"]["description"] == cadence.phase.describe()


def test_outcomes_are_the_figures_of_the_chart(world: StaffWorld) -> None:
    with time_machine.travel(NOON - timedelta(days=3), tick=False):
        session_logged(
            patient=world.patient_a,
            practitioner=world.related,
            modality=world.wbc,
            starts_at=local(TODAY - timedelta(days=3), 9),
            pain_before=3,
            pain_after=2,
        )
    with time_machine.travel(NOON, tick=False):
        body = world.client("related").get(f"/api/v1/patients/{world.patient_a.pk}/outcomes/").json()
        (expected,) = patient_outcomes(actor=world.related.user, patient=world.patient_a)
    (course,) = body["courses"]
    assert (course["baseline"], course["latest"], course["change_points"]) == (6, 3, 3)
    assert course["change_percent"] == "50.0" == str(expected.change_percent)
    assert course["is_responder"] is expected.is_responder is True
    assert [point["pain_before"] for point in course["sessions"]] == [6, 3]
    assert body["questionnaires"] == []
