"""Demo schedule for ``make run``: working hours, a care plan per course, and the appointments
that make the README's tour true.

Each demo patient follows one course (``COURSES``): past sessions on working days at the plan's
cadence (logged by ``treatments.demo``), and today a session that has already started and waits
to be logged, or one later in the day, then the next one booked.  So each demo practitioner has
something to log today on any day the clinic opens, and something ahead.

Idempotent: hours are added only to practitioners who have none, appointments only while the
demo patients have none.  Past appointments are written directly (the booking rules refuse the
past; the booking service would have granted the same care-team rows); today's later and future
ones go through the booking service, so they obey every rule.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.utils import timezone

from bookings.models import Appointment, PlanTemplate, WorkingHours
from bookings.selectors import free_slots
from bookings.services.appointments import BookingRefused, appointment_book
from bookings.services.plans import CarePlanRefused, care_plan_assign
from bookings.services.waitlist import WaitlistRefused, waitlist_join
from clinic.care_team import care_team_assign, care_team_grant_for_booking
from clinic.clinic_time import clinic_datetime
from clinic.demo import DemoPeople
from clinic.models import CareTeamMembership, Modality, Patient, Practitioner

DEMO_OPENING = time(8)
DEMO_CLOSING = time(20)
MONDAY_TO_SATURDAY = range(6)
SUNDAY = 6


@dataclass(frozen=True)
class DemoCourse:
    """One demo patient's course of one treatment family."""

    patient_email: str
    practitioner_email: str
    family: str  # the plan template's modality family
    first_modality: str  # slug of the first session's modality
    modality: str  # slug of the later sessions'
    at: time  # usual local time of the past sessions
    history: tuple[tuple[int, int, int], ...]  # (days ago, pain before, pain after), oldest first
    today: str  # "to log": started and waiting to be logged; "later": booked later today
    next_in_days: int | None  # the next session booked this many days ahead, if any
    waitlist: bool = False  # also on the waitlist for an earlier morning


COURSES: tuple[DemoCourse, ...] = (
    # Whole-body cryotherapy every three weeks (seed 003); pain before falls 8, 7, 5: a responder.
    DemoCourse("pat@example.com", "frost@clinic.example", "wbc", "whole-body-cryotherapy",
               "whole-body-cryotherapy", time(10), ((63, 8, 6), (42, 7, 5), (21, 5, 3)), "later", None),
    # Acupuncture weekly in the initial phase (seed 004): the consultation, then follow-ups.
    DemoCourse("sam@example.com", "needham@clinic.example", "acupuncture", "acupuncture-initial",
               "acupuncture-follow-up", time(11),
               ((35, 7, 6), (28, 6, 5), (21, 6, 4), (14, 5, 4), (7, 4, 3)), "to log", 7),
    # Localized cryotherapy on the lower back every two weeks.
    DemoCourse("alex@example.com", "frost@clinic.example", "local_cryo", "localized-cryotherapy",
               "localized-cryotherapy", time(15), ((28, 6, 4), (14, 5, 4)), "to log", 14, waitlist=True),
)  # fmt: skip


def working_day_on_or_before(day: date) -> date:
    """The demo clinic opens Monday to Saturday: a Sunday session moves to the Saturday before."""
    return day - timedelta(days=1) if day.weekday() == SUNDAY else day


def course_session_days(course: DemoCourse, *, today: date) -> list[date]:
    return [working_day_on_or_before(today - timedelta(days=days_ago)) for days_ago, _, _ in course.history]


def demo_working_hours_create(*, people: DemoPeople) -> None:
    for practitioner in people.practitioners:
        if practitioner.working_hours.exists():
            continue
        WorkingHours.objects.bulk_create(
            WorkingHours(practitioner=practitioner, weekday=weekday, start_time=DEMO_OPENING, end_time=DEMO_CLOSING)
            for weekday in MONDAY_TO_SATURDAY
        )


def demo_care_team_create(*, people: DemoPeople) -> None:
    """The desk assigns the acupuncturist to review Robin's screening (which waits for a clinician)."""
    robin = next((patient for patient in people.patients if patient.user.email == "robin@example.com"), None)
    if robin is None or len(people.practitioners) < 2:
        return
    reviewer = people.practitioners[1]
    if not CareTeamMembership.objects.filter(patient=robin, member=reviewer.user).exists():
        care_team_assign(patient=robin, practitioner=reviewer, actor=people.desk, reason="review the new screening")


def demo_appointments_create(*, people: DemoPeople) -> None:
    demo_working_hours_create(people=people)
    demo_care_team_create(people=people)
    if Appointment.objects.filter(patient__in=people.patients).exists():
        return
    patients = {patient.user.email: patient for patient in people.patients}
    practitioners = {practitioner.user.email: practitioner for practitioner in people.practitioners}
    now = timezone.localtime()
    for course in COURSES:
        patient, practitioner = patients.get(course.patient_email), practitioners.get(course.practitioner_email)
        first = Modality.objects.filter(slug=course.first_modality).first()
        modality = Modality.objects.filter(slug=course.modality).first()
        if None in (patient, practitioner, first, modality):
            continue
        days = course_session_days(course, today=now.date())
        for number, day in enumerate(days):
            _past_appointment(people, patient, practitioner, first if number == 0 else modality,
                              clinic_datetime(day, course.at))  # fmt: skip
        _plan_start(people, patient, practitioner, course, start=days[0] if days else now.date())
        if course.today == "to log":
            _past_appointment(people, patient, practitioner, modality, _started_today(now, modality))
        else:
            _book_first_free(people, patient, practitioner, modality, after=now + timedelta(hours=2))
        if course.next_in_days:
            wanted = clinic_datetime(now.date() + timedelta(days=course.next_in_days), course.at)
            _book_first_free(people, patient, practitioner, modality, after=wanted)
        if course.waitlist:
            # Would come sooner if a morning frees up: the desk's waitlist has someone on it.
            with contextlib.suppress(WaitlistRefused):
                waitlist_join(
                    patient=patient, modality=modality, weekdays=list(MONDAY_TO_SATURDAY), earliest_time=time(8),
                    latest_time=time(12), available_from=now.date(), available_until=now.date() + timedelta(days=13),
                    actor=patient.user, note="Mornings, sooner if possible.",
                )  # fmt: skip


def _started_today(now: datetime, modality: Modality) -> datetime:
    """The latest quarter hour that has begun, within today's hours (or the last working day's)."""
    day = working_day_on_or_before(now.date())
    latest_start = clinic_datetime(day, DEMO_CLOSING) - timedelta(minutes=modality.slot_minutes)
    opening = clinic_datetime(day, DEMO_OPENING)
    quarter = now.replace(minute=now.minute - now.minute % 15, second=0, microsecond=0)
    started = max(opening, min(quarter - timedelta(minutes=15), latest_start))
    if started <= now:
        return started
    # Before today's first session (the small hours): the last session of the last working day,
    # which has started, and cannot meet what is booked today.
    day = working_day_on_or_before(day - timedelta(days=1))
    return clinic_datetime(day, DEMO_CLOSING) - timedelta(minutes=modality.slot_minutes)


def _past_appointment(
    people: DemoPeople, patient: Patient, practitioner: Practitioner, modality: Modality, starts_at: datetime
) -> Appointment:
    appointment = Appointment(patient=patient, practitioner=practitioner, created_by=people.admin)
    appointment.place(modality=modality, starts_at=starts_at)
    appointment.save()
    care_team_grant_for_booking(
        patient=patient, practitioner=practitioner, appointment_starts_at=starts_at, actor=people.admin
    )
    return appointment


def _plan_start(
    people: DemoPeople, patient: Patient, practitioner: Practitioner, course: DemoCourse, *, start: date
) -> None:
    template = PlanTemplate.objects.filter(family=course.family).order_by("pk").first()
    if template is None:
        return
    # Refused when the template is not offered, or the patient already follows one of its family.
    with contextlib.suppress(CarePlanRefused):
        care_plan_assign(
            patient=patient, template=template, start_date=start, assigned_by=practitioner.user,
            practitioner=practitioner,
        )  # fmt: skip


def _book_first_free(
    people: DemoPeople, patient: Patient, practitioner: Practitioner, modality: Modality, *, after: datetime
) -> Appointment | None:
    for days_ahead in range(7):
        day = timezone.localdate(after) + timedelta(days=days_ahead)
        for slot in free_slots(modality=modality, start=day, end=day, practitioner=practitioner, patient=patient):
            if slot.starts_at < after:
                continue
            try:
                return appointment_book(
                    patient=patient,
                    modality=modality,
                    starts_at=slot.starts_at,
                    booked_by=people.desk,
                    practitioner=practitioner,
                )
            except BookingRefused:
                break  # e.g. the demo patient is not screened for this treatment: try no further
    return None
