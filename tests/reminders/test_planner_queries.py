"""The nudge planner and the screening-expiry planner work in sets: the same number of queries for
two patients as for six, and the rows they write are the ones a patient would get."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import time_machine
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.test.utils import CaptureQueriesContext

from bookings.models import Appointment, CarePlan, PlanTemplate
from bookings.services.reminders import BookingMessage, reminders_plan_nudges
from notifications.models import Reminder, ReminderSettings
from screening.models import Submission
from screening.notifications import ScreeningMessage, screening_expiry_reminders_plan
from tests.factories import PatientFactory
from tests.reminders.factories import appointment_create, local
from tests.screening.factories import screening_cleared

pytestmark = pytest.mark.django_db

NOW = local(2026, 5, 4, 12)  # a Monday, clinic time


def _queries(function) -> tuple[int, object]:
    with CaptureQueriesContext(connection) as captured:
        result = function()
    work = [q for q in captured.captured_queries if not q["sql"].upper().startswith(("SAVEPOINT", "RELEASE"))]
    return len(work), result


def _warm() -> None:
    """What a long-running worker has cached already (content types)."""
    for model in (CarePlan, Submission, Appointment):
        ContentType.objects.get_for_model(model)


def _patients_with_due_plans(count: int, *, practitioner, wbc, first_hour: int = 0) -> list[CarePlan]:
    """Whole-body cryotherapy plans started last week with nothing attended: due since their start.
    Every third patient has a session booked (no nudge); every second missed one (in the key).
    Each appointment at its own hour from ``first_hour`` (one practitioner: PostgreSQL refuses overlaps)."""
    template = PlanTemplate.objects.get(family=wbc.kind)
    plans = []
    for n in range(count):
        patient = PatientFactory()
        plans.append(
            CarePlan.objects.create(
                patient=patient, template=template, start_date=date(2026, 4, 27), assigned_by=practitioner.user
            )
        )
        if n % 3 == 2:
            appointment_create(
                patient=patient,
                practitioner=practitioner,
                modality=wbc,
                starts_at=NOW + timedelta(days=2, hours=first_hour + n),
            )
        if n % 2 == 1:
            appointment_create(
                patient=patient,
                practitioner=practitioner,
                modality=wbc,
                starts_at=local(2026, 4, 29, 9) + timedelta(hours=first_hour + n),
                status=Appointment.Status.NO_SHOW,
            )
    return plans


def test_the_nudge_planner_costs_the_same_queries_for_two_and_six_patients(practitioner, wbc):
    rules = ReminderSettings.load()
    _warm()
    with time_machine.travel(NOW, tick=False):
        few_plans = _patients_with_due_plans(2, practitioner=practitioner, wbc=wbc)
        few, few_created = _queries(lambda: reminders_plan_nudges(now=NOW, rules=rules))
        many_plans = _patients_with_due_plans(6, practitioner=practitioner, wbc=wbc, first_hour=2)
        Reminder.objects.all().delete()
        many, many_created = _queries(lambda: reminders_plan_nudges(now=NOW, rules=rules))
        _, again_created = _queries(lambda: reminders_plan_nudges(now=NOW, rules=rules))
    assert few == many
    assert (few_created, many_created, again_created) == (2, 6, 0)  # 8 plans, 2 of them booked
    booked = {many_plans[2].pk, many_plans[5].pk}
    nudges = {row.about_id: row for row in Reminder.objects.filter(kind=BookingMessage.REBOOKING_NUDGE)}
    assert set(nudges) == {plan.pk for plan in few_plans + many_plans} - booked
    # The key counts the no-show since the plan started: a patient who missed a session gets a fresh nudge.
    for plan in many_plans:
        if plan.pk in nudges:
            missed = 1 if many_plans.index(plan) % 2 == 1 else 0
            assert nudges[plan.pk].key == f"nudge:{plan.pk}:0:2026-04-27:m{missed}"


def test_the_screening_expiry_planner_costs_the_same_queries_for_two_and_six_patients():
    rules = ReminderSettings.load()
    _warm()

    def screened(count: int) -> list:
        patients = [PatientFactory() for _ in range(count)]
        with time_machine.travel(local(2025, 5, 10, 10), tick=False):
            for patient in patients:
                screening_cleared(patient=patient)
        return patients

    few_patients = screened(2)
    with time_machine.travel(NOW, tick=False):
        few, few_created = _queries(lambda: screening_expiry_reminders_plan(now=NOW, rules=rules))
    many_patients = screened(6)
    Reminder.objects.all().delete()
    with time_machine.travel(NOW, tick=False):
        many, many_created = _queries(lambda: screening_expiry_reminders_plan(now=NOW, rules=rules))
        _, again_created = _queries(lambda: screening_expiry_reminders_plan(now=NOW, rules=rules))
    assert few == many
    assert (few_created, many_created, again_created) == (2, 8, 0)
    notices = Reminder.objects.filter(kind=ScreeningMessage.SCREENING_EXPIRING)
    assert {row.patient_id for row in notices} == {patient.pk for patient in few_patients + many_patients}
    assert {row.context["expires_on"] for row in notices} == {"2026-05-10"}
