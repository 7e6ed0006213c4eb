"""Appointments and session logs for the treatments tests, created directly (not via the booking service)."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from decimal import Decimal
from itertools import count
from typing import Any

from django.utils import timezone

from bookings.models import Appointment
from clinic.models import Modality, Patient, Practitioner
from tests import factories
from treatments.models import SessionLog
from treatments.services import session_log_create

_slots = count()


def past_slot(days_ago: int = 1) -> datetime:
    """A local slot ``days_ago`` days back; consecutive calls get different times of day
    (90 minutes apart, twelve a day), so a test's appointments never overlap."""
    index = next(_slots) % 12
    day = timezone.localdate() - timedelta(days=days_ago)
    return datetime.combine(day, time(0, 30), tzinfo=timezone.get_current_timezone()) + timedelta(minutes=90 * index)


def appointment_create(
    *, patient: Patient, practitioner: Practitioner, modality: Modality, starts_at: datetime | None = None, **extra: Any
) -> Appointment:
    """Booked by the practitioner, in the next free past slot unless ``starts_at`` is given."""
    return factories.appointment_create(
        patient=patient,
        practitioner=practitioner,
        modality=modality,
        starts_at=starts_at or past_slot(),
        created_by=practitioner.user,
        **extra,
    )


def valid_values(modality: Modality, **overrides: Any) -> dict[str, Any]:
    """Plausible readings for the modality's kind (service ``values``)."""
    values: dict[str, Any] = {"pain_before": 6, "pain_after": 4, "duration_minutes": modality.slot_minutes}
    if modality.kind == Modality.Kind.WHOLE_BODY_CRYO:
        values |= {
            "temperature_c": Decimal("-120.0"),
            "exposure_seconds": 150,
            "bp_systolic": 130,
            "bp_diastolic": 85,
            "unchanged_since_screening": True,
        }
    elif modality.kind == Modality.Kind.LOCALIZED_CRYO:
        values |= {
            "body_area": "Lower back, left",
            "resource": modality.resource,
            "temperature_c": Decimal("-110.0"),
            "exposure_seconds": 150,
        }
    else:
        values |= {"points_used": "BL23, BL25, GB30", "needle_count": 8, "exposure_seconds": 25 * 60,
                   "electro_stimulation": False}  # fmt: skip
    return values | overrides


def valid_post(modality: Modality, **overrides: Any) -> dict[str, Any]:
    """A form POST for the modality's kind, including an empty adverse-event formset."""
    data: dict[str, Any] = {
        "pain_before": "6",
        "pain_after": "4",
        "duration_minutes": str(modality.slot_minutes),
        "pain_location": "lower_back",
        "subjective": "Stiff in the mornings.",
        "objective": "",
        "assessment": "",
        "plan": "Review in three weeks.",
        "events-TOTAL_FORMS": "1",
        "events-INITIAL_FORMS": "0",
        "events-MIN_NUM_FORMS": "0",
        "events-MAX_NUM_FORMS": "10",
    }
    if modality.kind == Modality.Kind.WHOLE_BODY_CRYO:
        data |= {"temperature_c": "-120", "exposure_seconds": "150", "bp_systolic": "130", "bp_diastolic": "85",
                 "unchanged_since_screening": "on"}  # fmt: skip
    elif modality.kind == Modality.Kind.LOCALIZED_CRYO:
        data |= {"body_area": "Lower back, left", "resource": str(modality.resource_id), "temperature_c": "-110",
                 "exposure_seconds": "150"}  # fmt: skip
    else:
        data |= {"points_used": "BL23, BL25", "needle_count": "8", "exposure_seconds": "25",
                 "electro_stimulation": "no"}  # fmt: skip
    data |= overrides
    return {key: value for key, value in data.items() if value is not None}


def session_logged(
    *,
    patient: Patient,
    practitioner: Practitioner,
    modality: Modality,
    starts_at: datetime | None = None,
    adverse_events: list[dict[str, Any]] | None = None,
    sign: bool = True,
    **overrides: Any,
) -> SessionLog:
    appointment = appointment_create(patient=patient, practitioner=practitioner, modality=modality, starts_at=starts_at)
    return session_log_create(
        appointment=appointment,
        by=practitioner.user,
        values=valid_values(modality, **overrides),
        adverse_events=adverse_events or [],
        sign=sign,
    )
