"""The event this app publishes (``notifications.events``): a session log signed.

The event carries ids and times; the readings and notes are its clinical details, read from the
signed log (amendments included) only for webhook endpoints an admin opted in.
"""

from __future__ import annotations

from typing import Any

from notifications.events import EventType, event_publish, event_type_register
from treatments.models import SessionLog

SIGNED = "session_log.signed"


def _clinical_details(log: SessionLog) -> dict[str, Any]:
    return {
        "pain_before": log.pain_before,
        "pain_after": log.pain_after,
        "duration_minutes": log.duration_minutes,
        "subjective": log.subjective,
        "objective": log.objective,
        "assessment": log.assessment,
        "plan": log.plan,
        "adverse_events": [
            {"kind": event.kind, "severity": event.severity, "description": event.description}
            for event in log.adverse_events.order_by("pk")
        ],
    }


def session_log_event_types_register() -> None:
    event_type_register(EventType(name=SIGNED, label="Session log signed", clinical=_clinical_details))


def session_log_signed_publish(*, log: SessionLog) -> None:
    """Publish ``session_log.signed`` in the signing transaction."""
    event_publish(
        name=SIGNED,
        about=log,
        data={
            "session_log_id": log.pk,
            "appointment_id": log.appointment_id,
            "patient_id": log.patient_id,
            "practitioner_id": log.practitioner_id,
            "modality": log.modality.slug,
            "started_at": log.started_at,
            "signed_at": log.signed_at,
            "signed_by_user_id": log.signed_by_id,
        },
    )
