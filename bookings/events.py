"""The appointment events this app publishes (``notifications.events``): booked, cancelled, moved,
attended and no-show, each written in the transaction of the change it reports.

An event carries ids and times only.  Its clinical details (the cancellation's reason) are read from
the appointment when an opted-in webhook endpoint asks for them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bookings.models import Appointment
from notifications.events import EventType, event_publish, event_type_register

BOOKED = "appointment.booked"
CANCELLED = "appointment.cancelled"
MOVED = "appointment.moved"
ATTENDED = "appointment.attended"
NO_SHOW = "appointment.no_show"


def _clinical_details(appointment: Appointment) -> dict[str, Any]:
    return {"cancellation_reason": appointment.cancellation_reason}


def appointment_event_types_register() -> None:
    for name, label in [
        (BOOKED, "Appointment booked"),
        (CANCELLED, "Appointment cancelled"),
        (MOVED, "Appointment moved"),
        (ATTENDED, "Appointment attended"),
        (NO_SHOW, "Appointment: patient did not come"),
    ]:
        event_type_register(EventType(name=name, label=label, clinical=_clinical_details))


def appointment_event_publish(
    *,
    name: str,
    appointment: Appointment,
    moved_from: tuple[datetime, int] | None = None,
) -> None:
    """Publish ``name`` about ``appointment`` in the current transaction (``moved_from``: the start
    and practitioner id it had before a move)."""
    data: dict[str, Any] = {
        "appointment_id": appointment.pk,
        "patient_id": appointment.patient_id,
        "practitioner_id": appointment.practitioner_id,
        "modality": appointment.modality.slug,
        "starts_at": appointment.starts_at,
        "ends_at": appointment.ends_at,
        "status": appointment.status,
    }
    if name == CANCELLED:
        data |= {"cancelled_at": appointment.cancelled_at, "cancelled_late": appointment.cancelled_late}
    if moved_from is not None:
        data |= {"previous_starts_at": moved_from[0], "previous_practitioner_id": moved_from[1]}
    event_publish(name=name, about=appointment, data=data)
