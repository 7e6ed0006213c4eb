"""Issue 16 gap 8: localized cryotherapy has a plan; acupuncture moves to maintenance on a sustained decrease."""

from __future__ import annotations

from datetime import time, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from bookings.models import CarePlan, ImprovementBasis, PlanTemplate
from bookings.services.plans import care_plan_improvement_record
from tests.bookings.plans_factories import ACUPUNCTURE_PLAN, local, plan_on
from tests.treatments.factories import appointment_create, session_logged, valid_values
from treatments.services import session_log_create

LOCAL_PLAN = "Localized cryotherapy \u2014 every 3 weeks"


def test_localized_cryotherapy_has_a_three_weekly_plan(localized_cryo):
    template = PlanTemplate.objects.get(name=LOCAL_PLAN)
    phase = template.phases.get()
    assert (template.family, phase.modality, phase.interval_min_days, phase.sessions) == (
        "local_cryo", localized_cryo, 21, None,
    )  # fmt: skip


def test_a_localized_cryotherapy_plan_is_due_three_weeks_after_the_last_session(patient, practitioner, localized_cryo):
    start = timezone.localdate() - timedelta(days=10)
    plan = plan_on(patient=patient, template_name=LOCAL_PLAN, start_date=start, practitioner=practitioner)
    log = session_logged(patient=patient, practitioner=practitioner, modality=localized_cryo)
    assert plan.next_due_date() == timezone.localdate(log.started_at) + timedelta(days=21)


@pytest.fixture
def acupuncture_plan(patient, practitioner):
    start = timezone.localdate() - timedelta(days=60)
    return plan_on(patient=patient, template_name=ACUPUNCTURE_PLAN, start_date=start, practitioner=practitioner)


def _logged(patient, practitioner, modality, scores: list[int]) -> None:
    """Weekly signed sessions up to last week, with these pain-before scores."""
    today = timezone.localdate()
    for index, score in enumerate(scores):
        day = today - timedelta(days=7 * (len(scores) - index))
        appointment = appointment_create(
            patient=patient, practitioner=practitioner, modality=modality, starts_at=local(day, time(10, 0))
        )
        session_log_create(
            appointment=appointment, by=practitioner.user, sign=True,
            values=valid_values(modality, pain_before=score, pain_after=max(score - 1, 0)),
        )  # fmt: skip


def test_six_sessions_without_a_decrease_do_not_move_to_maintenance(
    acupuncture_plan, patient, practitioner, acupuncture_follow_up
):
    _logged(patient, practitioner, acupuncture_follow_up, [8, 8, 7, 8, 7, 8])
    cadence = acupuncture_plan.cadence()
    assert cadence.phase.label == "Initial phase"
    assert cadence.improvement_awaited  # six done, no decrease: a clinician should look
    assert cadence.latest_due_on == cadence.last_attended_on + timedelta(days=7)


def test_a_sustained_thirty_percent_decrease_moves_to_maintenance(
    acupuncture_plan, patient, practitioner, acupuncture_follow_up
):
    _logged(patient, practitioner, acupuncture_follow_up, [8, 6, 5, 5])
    acupuncture_plan.refresh_from_db()
    assert acupuncture_plan.improvement_basis == ImprovementBasis.SUSTAINED_DECREASE
    assert "8 at the start, then 5, 5" in acupuncture_plan.improvement_evidence
    cadence = acupuncture_plan.cadence()
    assert cadence.phase.label == "Maintenance"
    assert (cadence.next_due_on, cadence.latest_due_on) == (
        cadence.last_attended_on + timedelta(days=14), cadence.last_attended_on + timedelta(days=28),
    )  # fmt: skip


def test_one_good_session_is_not_a_sustained_decrease(acupuncture_plan, patient, practitioner, acupuncture_follow_up):
    _logged(patient, practitioner, acupuncture_follow_up, [8, 5, 7])
    acupuncture_plan.refresh_from_db()
    assert acupuncture_plan.improved_on is None
    assert acupuncture_plan.cadence().phase.label == "Initial phase"


def test_the_threshold_is_configurable(acupuncture_plan, patient, practitioner, acupuncture_follow_up):
    acupuncture_plan.template.phases.filter(position=1).update(improvement_percent=50)
    _logged(patient, practitioner, acupuncture_follow_up, [8, 5, 5])
    acupuncture_plan.refresh_from_db()
    assert acupuncture_plan.improved_on is None


def test_a_clinician_may_move_the_plan_on(acupuncture_plan, patient, practitioner, acupuncture_follow_up):
    _logged(patient, practitioner, acupuncture_follow_up, [8, 7])
    care_plan_improvement_record(
        plan=acupuncture_plan, basis=ImprovementBasis.CLINICIAN, evidence="Function much better; pain stable.",
        by=practitioner.user,
    )  # fmt: skip
    acupuncture_plan.refresh_from_db()
    assert acupuncture_plan.cadence().phase.label == "Maintenance"


def test_the_plan_page_shows_why_it_moved_on(acupuncture_plan, patient, practitioner, acupuncture_follow_up, client):
    _logged(patient, practitioner, acupuncture_follow_up, [8, 5, 5])
    client.force_login(practitioner.user)
    page = client.get(reverse("bookings:plan_detail", args=[acupuncture_plan.pk])).content.decode()
    assert "Sustained decrease in pain" in page
    assert "8 at the start, then 5, 5" in page


def test_the_plan_page_moves_the_plan_on_by_decision(acupuncture_plan, practitioner, client):
    client.force_login(practitioner.user)
    response = client.post(
        reverse("bookings:plan_improvement", args=[acupuncture_plan.pk]), {"evidence": "Pain manageable at work."}
    )
    assert response.status_code == 302
    acupuncture_plan.refresh_from_db()
    assert acupuncture_plan.improvement_basis == ImprovementBasis.CLINICIAN
    assert CarePlan.objects.get().improvement_recorded_by == practitioner.user
