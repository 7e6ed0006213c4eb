"""A care plan's cadence follows what really happened: attended sessions, not bookings or no-shows."""

from __future__ import annotations

from datetime import UTC, date, time, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from bookings.models import Appointment, CarePlan, ImprovementBasis, PlanTemplate
from bookings.services.plans import CarePlanRefused, care_plan_end, care_plan_improvement_record
from clinic.models import User
from tests.bookings.plans_factories import ACUPUNCTURE_PLAN, CRYO_PLAN, plan_on, session_on
from tests.factories import PatientFactory

pytestmark = pytest.mark.django_db

START = date(2026, 1, 5)  # a Monday


def test_seeded_cryotherapy_plan_is_open_ended_every_21_days():
    template = PlanTemplate.objects.get(name=CRYO_PLAN)
    (phase,) = template.phases.all()
    assert template.family == "wbc"
    assert phase.modality.slug == "whole-body-cryotherapy"
    assert (phase.sessions, phase.interval_min_days, phase.interval_max_days) == (None, 21, 21)


def test_seeded_acupuncture_plan_is_six_weekly_then_every_two_to_four_weeks():
    template = PlanTemplate.objects.get(name=ACUPUNCTURE_PLAN)
    initial, maintenance = template.phases.order_by("position")
    assert template.family == "acupuncture"
    assert (initial.sessions, initial.interval_min_days, initial.interval_max_days) == (6, 7, 7)
    assert (maintenance.sessions, maintenance.interval_min_days, maintenance.interval_max_days) == (None, 14, 28)
    assert initial.modality.slug == maintenance.modality.slug == "acupuncture-follow-up"


def test_next_due_is_the_start_date_before_any_session(patient, practitioner):
    plan = plan_on(patient=patient, template_name=CRYO_PLAN, start_date=START, practitioner=practitioner)
    assert plan.next_due_date(START - timedelta(days=3)) == START
    assert plan.next_due_date(START + timedelta(days=10)) == START
    assert plan.cadence(START + timedelta(days=10)).is_overdue


def test_cryotherapy_next_due_is_21_days_after_the_last_attended_session(patient, practitioner, wbc):
    plan = plan_on(patient=patient, template_name=CRYO_PLAN, start_date=START, practitioner=practitioner)
    session_on(patient=patient, modality=wbc, practitioner=practitioner, day=START)
    session_on(patient=patient, modality=wbc, practitioner=practitioner, day=date(2026, 1, 27))

    cadence = plan.cadence(date(2026, 2, 1))

    assert cadence.sessions_attended == 2
    assert cadence.last_attended_on == date(2026, 1, 27)
    assert cadence.next_due_on == date(2026, 2, 17)
    assert not cadence.is_overdue


def test_a_no_show_does_not_count_so_the_session_stays_due(patient, practitioner, wbc):
    plan = plan_on(patient=patient, template_name=CRYO_PLAN, start_date=START, practitioner=practitioner)
    session_on(patient=patient, modality=wbc, practitioner=practitioner, day=START)
    session_on(
        patient=patient,
        modality=wbc,
        practitioner=practitioner,
        day=date(2026, 1, 26),
        status=Appointment.Status.NO_SHOW,
    )

    cadence = plan.cadence(date(2026, 1, 28))

    assert cadence.sessions_attended == 1
    # Had the no-show counted, the next session would be due on 16 Feb; it is still due from 26 Jan.
    assert cadence.next_due_on == date(2026, 1, 26)
    assert cadence.is_overdue


def test_cancelled_and_still_booked_sessions_do_not_count(patient, practitioner, wbc):
    plan = plan_on(patient=patient, template_name=CRYO_PLAN, start_date=START, practitioner=practitioner)
    session_on(patient=patient, modality=wbc, practitioner=practitioner, day=START)
    session_on(
        patient=patient,
        modality=wbc,
        practitioner=practitioner,
        day=date(2026, 1, 26),
        status=Appointment.Status.CANCELLED,
    )
    session_on(
        patient=patient,
        modality=wbc,
        practitioner=practitioner,
        day=date(2026, 1, 27),
        status=Appointment.Status.BOOKED,
    )
    assert plan.next_due_date(date(2026, 1, 28)) == date(2026, 1, 26)


def test_acupuncture_stays_weekly_until_improvement_then_moves_to_maintenance(
    patient, practitioner, acupuncture_initial, acupuncture_follow_up
):
    """Issue 16 (article 004): six sessions alone do not start maintenance; a decrease or a clinician does."""
    plan = plan_on(patient=patient, template_name=ACUPUNCTURE_PLAN, start_date=START, practitioner=practitioner)
    # The first visit is the initial consultation; it counts as the first session of the plan.
    session_on(patient=patient, modality=acupuncture_initial, practitioner=practitioner, day=START)
    for week in range(1, 5):
        session_on(
            patient=patient,
            modality=acupuncture_follow_up,
            practitioner=practitioner,
            day=START + timedelta(weeks=week),
        )
    fifth = START + timedelta(weeks=4)

    after_five = plan.cadence(fifth)
    assert after_five.phase.label == "Initial phase"
    assert after_five.phase_session_number == 6
    assert after_five.next_due_on == after_five.latest_due_on == fifth + timedelta(days=7)

    sixth = START + timedelta(weeks=5)
    session_on(patient=patient, modality=acupuncture_follow_up, practitioner=practitioner, day=sixth)
    still_initial = plan.cadence(sixth)
    assert (still_initial.phase.label, still_initial.improvement_awaited) == ("Initial phase", True)
    assert still_initial.next_due_on == sixth + timedelta(days=7)

    care_plan_improvement_record(
        plan=plan, basis=ImprovementBasis.CLINICIAN, evidence="Pain 7 to 4.", by=practitioner.user, on_date=sixth
    )
    plan.refresh_from_db()
    after_six = plan.cadence(sixth)
    assert after_six.sessions_attended == 6
    assert after_six.phase.label == "Maintenance"
    assert after_six.next_due_on == sixth + timedelta(days=14)
    assert after_six.latest_due_on == sixth + timedelta(days=28)
    assert not plan.cadence(sixth + timedelta(days=28)).is_overdue
    assert plan.cadence(sixth + timedelta(days=29)).is_overdue


def test_sessions_before_the_start_date_or_of_another_treatment_do_not_count(
    patient, practitioner, wbc, localized_cryo
):
    plan = plan_on(patient=patient, template_name=CRYO_PLAN, start_date=START, practitioner=practitioner)
    session_on(patient=patient, modality=wbc, practitioner=practitioner, day=START - timedelta(days=1))
    session_on(patient=patient, modality=localized_cryo, practitioner=practitioner, day=START + timedelta(days=2))
    session_on(patient=PatientFactory(), modality=wbc, practitioner=practitioner, day=START + timedelta(days=3))
    cadence = plan.cadence(START + timedelta(days=5))
    assert cadence.sessions_attended == 0
    assert cadence.next_due_on == START


def test_cadence_counts_in_local_dates(patient, practitioner, wbc):
    """00:30 in London summer time is 23:30 UTC the day before; the local date is what counts."""
    plan = plan_on(patient=patient, template_name=CRYO_PLAN, start_date=date(2026, 6, 1), practitioner=practitioner)
    appointment = session_on(
        patient=patient, modality=wbc, practitioner=practitioner, day=date(2026, 6, 11), at=time(0, 30)
    )
    assert appointment.starts_at.astimezone(UTC).date() == date(2026, 6, 10)
    assert plan.cadence(date(2026, 6, 12)).last_attended_on == date(2026, 6, 11)
    assert plan.next_due_date(date(2026, 6, 12)) == date(2026, 7, 2)


def test_a_session_on_the_start_date_in_the_early_hours_counts(practitioner, wbc):
    patient = PatientFactory()
    plan = plan_on(patient=patient, template_name=CRYO_PLAN, start_date=date(2026, 6, 11), practitioner=practitioner)
    session_on(patient=patient, modality=wbc, practitioner=practitioner, day=date(2026, 6, 11), at=time(0, 30))
    assert plan.cadence(date(2026, 6, 11)).sessions_attended == 1


def test_ended_plans_are_not_active_and_not_due(patient, practitioner):
    plan = plan_on(patient=patient, template_name=CRYO_PLAN, start_date=START, practitioner=practitioner)
    assert list(CarePlan.objects.active()) == [plan]
    care_plan_end(plan=plan, by=practitioner.user)
    assert not CarePlan.objects.active().exists()
    assert CarePlan.objects.due_between(START, START, today=START) == []


def test_due_between_finds_plans_due_in_the_range(practitioner, wbc):
    due_patient, later_patient, new_patient = PatientFactory(), PatientFactory(), PatientFactory()
    due = plan_on(patient=due_patient, template_name=CRYO_PLAN, start_date=START, practitioner=practitioner)
    session_on(patient=due_patient, modality=wbc, practitioner=practitioner, day=date(2026, 1, 10))  # due 31 Jan
    plan_on(patient=later_patient, template_name=CRYO_PLAN, start_date=START, practitioner=practitioner)
    session_on(patient=later_patient, modality=wbc, practitioner=practitioner, day=date(2026, 1, 20))  # due 10 Feb
    fresh = plan_on(
        patient=new_patient, template_name=CRYO_PLAN, start_date=date(2026, 2, 1), practitioner=practitioner
    )

    found = CarePlan.objects.due_between(date(2026, 1, 30), date(2026, 2, 2), today=date(2026, 1, 30))

    assert {plan.pk for plan in found} == {due.pk, fresh.pk}
    by_pk = {plan.pk: plan for plan in found}
    assert by_pk[due.pk].cadence(date(2026, 1, 30)).next_due_on == date(2026, 1, 31)


def _due_queries(today: date) -> int:
    with CaptureQueriesContext(connection) as queries:
        for plan in CarePlan.objects.due_between(today, today + timedelta(days=7), today=today):
            assert plan.cadence(today).next_due_on is not None
            assert plan.patient.full_name
            assert plan.template.name
    return len(queries)


def test_due_between_costs_the_same_queries_for_one_plan_or_many(practitioner, wbc, acupuncture_follow_up):
    today = date(2026, 2, 1)
    first = PatientFactory()
    plan_on(patient=first, template_name=CRYO_PLAN, start_date=START, practitioner=practitioner)
    session_on(patient=first, modality=wbc, practitioner=practitioner, day=date(2026, 1, 14))
    one = _due_queries(today)

    for index in range(12):
        patient = PatientFactory()
        name = CRYO_PLAN if index % 2 else ACUPUNCTURE_PLAN
        plan_on(patient=patient, template_name=name, start_date=START, practitioner=practitioner)
        modality = wbc if index % 2 else acupuncture_follow_up
        for offset in range(3):
            session_on(
                patient=patient,
                modality=modality,
                practitioner=practitioner,
                day=date(2026, 1, 10 + offset * 7),
                at=time(7 + index, 0),  # one practitioner: one patient an hour
            )

    assert _due_queries(today) == one <= 3


def test_a_patient_has_one_active_plan_per_treatment_family(patient, practitioner):
    plan_on(patient=patient, template_name=CRYO_PLAN, start_date=START, practitioner=practitioner)
    with pytest.raises(CarePlanRefused, match="already on"):
        plan_on(patient=patient, template_name=CRYO_PLAN, start_date=START, practitioner=practitioner)
    # Another treatment family is fine.
    plan_on(patient=patient, template_name=ACUPUNCTURE_PLAN, start_date=START, practitioner=practitioner)
    assert CarePlan.objects.active().filter(patient=patient).count() == 2


def test_the_database_refuses_a_second_active_plan_of_the_same_family(patient, practitioner):
    plan = plan_on(patient=patient, template_name=CRYO_PLAN, start_date=START, practitioner=practitioner)
    other_template = PlanTemplate.objects.create(name="Cryotherapy \u2014 monthly", family=plan.template.family)
    second = CarePlan(patient=patient, template=other_template, start_date=START, assigned_by=practitioner.user)
    second.family = other_template.family
    with pytest.raises(ValidationError, match="already has an active plan for this kind of treatment"):
        second.full_clean()
    with pytest.raises(IntegrityError), transaction.atomic():
        CarePlan.objects.create(
            patient=patient, template=other_template, start_date=START, assigned_by=practitioner.user
        )
    care_plan_end(plan=plan, by=practitioner.user)
    assert CarePlan.objects.create(
        patient=patient, template=other_template, start_date=START, assigned_by=practitioner.user
    ).is_active


def test_the_admin_assigns_through_the_service_and_refuses_a_second_active_plan(client, patient, practitioner):
    client.force_login(User.objects.create_superuser(email="boss@example.com", password="x-long-password-1"))
    template = PlanTemplate.objects.get(name=CRYO_PLAN)
    form = {"patient": patient.pk, "template": template.pk, "start_date": "2026-03-18", "notes": ""}
    first = client.post(reverse("admin:bookings_careplan_add"), form)
    assert first.status_code == 302
    plan = CarePlan.objects.get(patient=patient)
    assert plan.family == template.family
    assert plan.assigned_by.email == "boss@example.com"
    second = client.post(reverse("admin:bookings_careplan_add"), form)
    assert second.status_code == 200
    assert "already on" in second.content.decode()
    assert CarePlan.objects.filter(patient=patient).count() == 1
