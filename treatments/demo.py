"""Demo treatment history for ``make run``: the past sessions of each demo course, logged and
signed on the day they happened, so the charts and reports have something to show.

Idempotent: runs only while no session has been logged.  The appointments come from
``bookings.demo`` (``COURSES`` says who, when and how the pain went); today's session that has
already started is left unlogged, for the practitioner to log.  Pat has also answered two PEG
questionnaires (7.3, then 4.3: a meaningful improvement).
"""

from __future__ import annotations

from datetime import time, timedelta
from decimal import Decimal
from typing import Any

from django.utils import timezone

from bookings.demo import COURSES, course_session_days
from bookings.models import Appointment
from clinic.clinic_time import clinic_datetime
from clinic.demo import DemoPeople
from clinic.models import Modality, Patient
from treatments.models import Instrument, QuestionnaireRequest, SessionLog
from treatments.services import session_log_create

PEG_ANSWERS = [(63, [8, 7, 7]), (1, [5, 4, 4])]  # days ago, answers


def demo_sessions_create(*, people: DemoPeople) -> None:
    if SessionLog.objects.filter(appointment__patient__in=people.patients).exists():
        return
    today = timezone.localdate()
    for course in COURSES:
        days = course_session_days(course, today=today)
        for day, (_, before, after) in zip(days, course.history, strict=True):
            appointment = (
                Appointment.objects.filter(patient__user__email=course.patient_email, starts_at__date=day)
                .select_related("modality", "practitioner__user", "patient")
                .first()
            )
            if appointment is None:
                continue
            log = session_log_create(
                appointment=appointment,
                by=appointment.practitioner.user,
                values=_readings(appointment.modality, before, after),
                sign=True,
            )
            # Written and signed at the end of the session, not when the demo was loaded.
            finished = appointment.ends_at + timedelta(minutes=5)
            SessionLog.objects.filter(pk=log.pk).update(created_at=finished, signed_at=finished)
    pat = Patient.objects.filter(user__email="pat@example.com").first()
    if pat is not None:
        _questionnaires(pat)


def _questionnaires(patient: Patient) -> None:
    peg = Instrument.objects.filter(code="peg").first()
    if peg is None:
        return
    for days_ago, answers in PEG_ANSWERS:
        at = clinic_datetime(timezone.localdate() - timedelta(days=days_ago), time(18, 0))
        QuestionnaireRequest.objects.create(
            patient=patient, instrument=peg, family=Modality.Kind.WHOLE_BODY_CRYO,
            occasion="intake" if days_ago == PEG_ANSWERS[0][0] else "during", occasion_key=f"demo:{days_ago}",
            created_at=at, expires_at=at + timedelta(days=14), answered_at=at, answers=answers,
            score=peg.score(answers),
        )  # fmt: skip


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
