"""Care-plan test data: attended/no-show history, working hours, plans from the seeded templates."""

from __future__ import annotations

from datetime import date, datetime, time

from django.utils import timezone

from bookings.models import Appointment, BookingPolicy, CarePlan, PlanTemplate, WorkingHours
from bookings.services.plans import care_plan_assign
from clinic.models import CareTeamMembership, Modality, Patient, Practitioner
from tests.factories import appointment_create, care_team_join

CRYO_PLAN = "Cryotherapy \u2014 every 3 weeks"
ACUPUNCTURE_PLAN = "Acupuncture \u2014 weekly for 6 weeks, then every 2-4 weeks"


def local(day: date, at: time = time(9, 0)) -> datetime:
    """``day`` at wall-clock ``at`` in the clinic's zone."""
    return datetime.combine(day, at, tzinfo=timezone.get_current_timezone())


def session_on(
    *,
    patient: Patient,
    modality: Modality,
    practitioner: Practitioner,
    day: date,
    at: time = time(9, 0),
    status: str = Appointment.Status.ATTENDED,
) -> Appointment:
    """A session that already happened (or was missed): history the booking rules would refuse
    to create now, so it is written directly."""
    return appointment_create(
        patient=patient,
        practitioner=practitioner,
        modality=modality,
        starts_at=local(day, at),
        status=status,
        created_by=practitioner.user,
    )


def plan_on(*, patient: Patient, template_name: str, start_date: date, practitioner: Practitioner) -> CarePlan:
    """The practitioner, on the patient's care team (the desk assigned them), puts the patient on a plan."""
    if not CareTeamMembership.objects.active().filter(patient=patient, member=practitioner.user).exists():
        care_team_join(patient=patient, practitioner=practitioner)
    return care_plan_assign(
        patient=patient,
        template=PlanTemplate.objects.get(name=template_name),
        start_date=start_date,
        practitioner=practitioner,
        assigned_by=practitioner.user,
    )


def open_every_day(practitioner: Practitioner, *, start: time = time(8, 0), end: time = time(18, 0)) -> None:
    """The practitioner works ``start``-``end`` local time every day of the week."""
    for weekday in range(7):
        WorkingHours.objects.create(practitioner=practitioner, weekday=weekday, start_time=start, end_time=end)
    BookingPolicy.load()
