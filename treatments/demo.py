"""Demo treatment history for ``make run``: a few weeks of logged sessions to chart.

Idempotent: runs only while no session has been logged.  Pat has a whole-body
cryotherapy course (pre-session pain 8, 7, 6, 5: a responder), Sam an acupuncture
course; past appointments of the demo without a log get one as well.
"""

from __future__ import annotations

from datetime import time, timedelta
from decimal import Decimal
from typing import Any

from django.utils import timezone

from bookings.models import Appointment
from clinic.care_team import care_team_grant_for_booking
from clinic.clinic_time import clinic_datetime, local_midnight
from clinic.demo import DemoPeople
from clinic.models import Modality, Patient, Practitioner
from treatments.models import SessionLog
from treatments.services import session_log_create

WBC_COURSE = [(63, 8, 6), (42, 7, 5), (21, 6, 5), (1, 5, 3)]  # days ago, pain before, pain after
ACUPUNCTURE_COURSE = [(35, 7, 6), (28, 6, 5), (21, 6, 4), (14, 5, 4), (7, 4, 3)]


def demo_sessions_create(*, people: DemoPeople) -> None:
    if SessionLog.objects.exists() or len(people.practitioners) < 2 or len(people.patients) < 2:
        return
    cryo_practitioner, acupuncturist = people.practitioners[0], people.practitioners[1]
    pat, sam = people.patients[0], people.patients[1]
    wbc = Modality.objects.filter(kind=Modality.Kind.WHOLE_BODY_CRYO).first()
    initial = Modality.objects.filter(slug="acupuncture-initial").first()
    follow_up = Modality.objects.filter(slug="acupuncture-follow-up").first()
    if wbc:
        for days_ago, before, after in WBC_COURSE:
            _session(pat, cryo_practitioner, wbc, days_ago, time(8, 0), before, after, people)
    if initial and follow_up:
        for number, (days_ago, before, after) in enumerate(ACUPUNCTURE_COURSE):
            modality = initial if number == 0 else follow_up
            _session(sam, acupuncturist, modality, days_ago, time(8, 0), before, after, people)
    earlier = Appointment.objects.filter(
        status__in=[Appointment.Status.BOOKED, Appointment.Status.ATTENDED],
        starts_at__lt=local_midnight(timezone.localdate()),
        session_log__isnull=True,
    ).select_related("modality")
    for appointment in earlier:
        session_log_create(
            appointment=appointment,
            by=appointment.practitioner.user,
            values=_readings(appointment.modality, 6, 4),
            sign=True,
        )


def _session(
    patient: Patient,
    practitioner: Practitioner,
    modality: Modality,
    days_ago: int,
    at: time,
    before: int,
    after: int,
    people: DemoPeople,
) -> None:
    day = timezone.localdate() - timedelta(days=days_ago)
    starts_at = clinic_datetime(day, at)
    appointment = Appointment(patient=patient, practitioner=practitioner, created_by=people.admin)
    appointment.place(modality=modality, starts_at=starts_at)
    appointment.save()
    # Past sessions are written directly (the booking rules refuse the past); the practitioner
    # joins the care team as the booking service would have made them.
    care_team_grant_for_booking(
        patient=patient, practitioner=practitioner, appointment_starts_at=starts_at, actor=people.admin
    )
    session_log_create(
        appointment=appointment,
        by=practitioner.user,
        values=_readings(modality, before, after),
        sign=True,
    )


def _readings(modality: Modality, before: int, after: int) -> dict[str, Any]:
    values: dict[str, Any] = {
        "pain_before": before,
        "pain_after": after,
        "duration_minutes": modality.slot_minutes,
        "subjective": "Lower back pain, worse after sitting.",
        "plan": "Continue the course.",
    }
    if modality.kind == Modality.Kind.WHOLE_BODY_CRYO:
        values |= {"temperature_c": Decimal("-125.0"), "exposure_seconds": 150, "bp_systolic": 128,
                   "bp_diastolic": 82, "unchanged_since_screening": True}  # fmt: skip
    elif modality.kind == Modality.Kind.LOCALIZED_CRYO:
        values |= {"body_area": "Lower back", "temperature_c": Decimal("-110.0"), "exposure_seconds": 150}
    else:
        values |= {"points_used": "BL23, BL25, GB30, DU4", "needle_count": 10, "exposure_seconds": 25 * 60,
                   "electro_stimulation": False}  # fmt: skip
    return values
