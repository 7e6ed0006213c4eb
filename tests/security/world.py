"""A small clinic for the access-control tests: two patients, their records, and the staff.

Patient A's records carry marker strings, so a test can tell from a response body
whether A's data leaked: ``A_NAME`` / ``A_EMAIL`` (personal) and ``A_CLINICAL``
(written into A's session log, screening notes and care-plan notes).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta

from django.contrib.auth.tokens import default_token_generator
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from bookings.models import (
    Appointment,
    CalendarFeed,
    CarePlan,
    PlanSeries,
    PlanTemplate,
    SeriesOccurrence,
    WaitlistEntry,
    WaitlistOffer,
)
from bookings.services.plans import care_plan_assign
from bookings.services.reminders import nudge_opt_out_token, reminder_plan_upcoming
from bookings.services.schedules import calendar_feed_get_or_create
from clinic.models import Modality, Patient, Practitioner, User
from notifications.models import Reminder
from screening.models import Submission
from tests.factories import (
    AdminFactory,
    FrontDeskFactory,
    PatientFactory,
    PractitionerFactory,
    UserFactory,
    appointment_create,
)
from tests.screening.factories import consents_signed, submission_with_answers
from tests.treatments.factories import session_logged

A_FIRST, A_LAST = "Quillonia", "Abernathy-Vask"
A_NAME = f"{A_FIRST} {A_LAST}"
A_EMAIL = "quillonia.vask@example.org"
A_CLINICAL = "Zebracorn-sciatica"


@dataclass
class World:
    patient_a: Patient
    patient_b: Patient
    related: Practitioner  # has appointments and a care plan with A
    practitioner_b: Practitioner  # B's practitioner
    unrelated: Practitioner  # no relation to A
    admin: User
    modality: Modality
    appointment_a: Appointment  # future, booked, with ``related``
    appointment_b: Appointment
    submission_a: Submission
    log_a: object
    plan_a: CarePlan
    series_a: PlanSeries
    occurrence_a: SeriesOccurrence
    feed_a: CalendarFeed
    reminder_a: Reminder
    desk: User  # the front desk: books and registers anyone, reads no clinical record
    waitlist_entry_a: WaitlistEntry
    waitlist_offer_a: WaitlistOffer


def _future(days: int, hour: int) -> datetime:
    day = timezone.localdate() + timedelta(days=days)
    return datetime.combine(day, time(hour, 0), tzinfo=timezone.get_current_timezone())


def _booked(patient: Patient, practitioner: Practitioner, modality: Modality, starts_at: datetime) -> Appointment:
    return appointment_create(patient=patient, practitioner=practitioner, modality=modality, starts_at=starts_at)


def build_world() -> World:
    modality = Modality.objects.get(slug="acupuncture-initial")
    other_modality = Modality.objects.get(slug="acupuncture-follow-up")
    patient_a = PatientFactory(user=UserFactory(first_name=A_FIRST, last_name=A_LAST, email=A_EMAIL))
    patient_b = PatientFactory(user=UserFactory(first_name="Berenike", last_name="Osgood"))
    related = PractitionerFactory()
    practitioner_b = PractitionerFactory()
    unrelated = PractitionerFactory()
    admin = AdminFactory()

    submission_a = submission_with_answers(patient=patient_a, notes=f"{A_CLINICAL} screening note")
    consents_signed(patient=patient_a)
    submission_with_answers(patient=patient_b, notes="B's own note")
    consents_signed(patient=patient_b)

    log_a = session_logged(
        patient=patient_a, practitioner=related, modality=modality, subjective=f"{A_CLINICAL} in the morning"
    )
    session_logged(patient=patient_b, practitioner=practitioner_b, modality=modality)
    appointment_a = _booked(patient_a, related, modality, _future(10, 10))
    appointment_b = _booked(patient_b, practitioner_b, other_modality, _future(11, 14))
    reminder_a = reminder_plan_upcoming(appointment=appointment_a)
    reminder_plan_upcoming(appointment=appointment_b)

    template = PlanTemplate.objects.active().first()
    plan_a = care_plan_assign(
        patient=patient_a,
        template=template,
        start_date=timezone.localdate(),
        practitioner=related,
        notes=f"{A_CLINICAL} plan notes",
        assigned_by=related.user,
    )
    phase = template.phases.first()
    series_a = PlanSeries.objects.create(
        plan=plan_a,
        phase=phase,
        first_date=timezone.localdate() + timedelta(days=10),
        local_time=time(10, 0),
        interval_days=7,
        practitioner=related,
        created_by=related.user,
    )
    occurrence_a = SeriesOccurrence.objects.create(
        series=series_a, sequence=1, requested_starts_at=appointment_a.starts_at, appointment=appointment_a
    )
    feed_a = calendar_feed_get_or_create(patient=patient_a)
    calendar_feed_get_or_create(patient=patient_b)
    waitlist_entry_a = WaitlistEntry.objects.create(
        patient=patient_a,
        modality=modality,
        weekdays=list(range(7)),
        earliest_time=time(8),
        latest_time=time(20),
        available_from=timezone.localdate(),
        available_until=timezone.localdate() + timedelta(days=20),
        created_by=patient_a.user,
    )
    freed_at = _future(12, 9)
    waitlist_offer_a = WaitlistOffer.objects.create(
        entry=waitlist_entry_a,
        patient=patient_a,
        modality=modality,
        practitioner=related,
        starts_at=freed_at,
        ends_at=modality.slot_end(freed_at),
        expires_at=timezone.now() + timedelta(minutes=30),
    )
    return World(
        patient_a=patient_a,
        patient_b=patient_b,
        related=related,
        practitioner_b=practitioner_b,
        unrelated=unrelated,
        admin=admin,
        modality=modality,
        appointment_a=appointment_a,
        appointment_b=appointment_b,
        submission_a=submission_a,
        log_a=log_a,
        plan_a=plan_a,
        series_a=series_a,
        occurrence_a=occurrence_a,
        feed_a=feed_a,
        reminder_a=reminder_a,
        desk=FrontDeskFactory(),
        waitlist_entry_a=waitlist_entry_a,
        waitlist_offer_a=waitlist_offer_a,
    )


def password_reset_kwargs(user: User) -> dict[str, str]:
    return {"uidb64": urlsafe_base64_encode(force_bytes(user.pk)), "token": default_token_generator.make_token(user)}


def nudge_token(patient: Patient) -> str:
    return nudge_opt_out_token(patient=patient)
