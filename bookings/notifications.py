"""Messages about a booking, sent right after the booking's transaction commits.

The booking services call ``appointment_notify`` inside their transaction, after saving
the appointment.  It writes the outbox row (unique key per appointment, event and
version) and asks a worker to send it once the transaction commits; if the booking
rolls back, so does the row, and nothing is sent.
"""

from __future__ import annotations

from datetime import UTC

from django.db import transaction
from django.utils import timezone

from bookings.models import Appointment, Reminder
from bookings.services.reminders import (
    reminders_cancel_for_appointment,
    reminders_plan_together,
    upcoming_reminder_planned,
)
from bookings.tasks import reminder_send

EVENT_KINDS = {
    "booked": Reminder.Kind.BOOKING_CONFIRMED,
    "cancelled": Reminder.Kind.BOOKING_CANCELLED,
    "changed": Reminder.Kind.BOOKING_CHANGED,
}


def _version(appointment: Appointment) -> str:
    """Changes with every save of the appointment, so each change gets its own message."""
    stamp = appointment.updated_at or timezone.now()
    return stamp.astimezone(UTC).strftime("%Y%m%dT%H%M%S%f")


@transaction.atomic
def appointment_notify(*, appointment: Appointment, event: str) -> None:
    """Tell the patient their appointment was booked, cancelled or changed (moved).

    ``event`` is "booked", "cancelled" or "changed".  Call it after saving the appointment,
    inside the booking transaction.  "booked" and "changed" attach the appointment's .ics.
    Cancelling or moving also cancels the pending reminder for the old time; a moved
    appointment gets a reminder planned for its new time.
    """
    if event not in EVENT_KINDS:
        raise ValueError(f"Unknown appointment event {event!r}; expected one of {sorted(EVENT_KINDS)}.")
    key = f"{event}:{appointment.pk}"
    if event == "changed":
        key = f"{key}:{_version(appointment)}"
    if event != "booked":
        reason = "The appointment was cancelled." if event == "cancelled" else "The appointment was moved."
        reminders_cancel_for_appointment(appointment=appointment, reason=reason)
    plans: list[dict] = [
        {
            "key": key,
            "kind": EVENT_KINDS[event],
            "patient": appointment.patient,
            "appointment": appointment,
            "due_at": timezone.now(),
            "enqueued": True,
        }
    ]
    upcoming = upcoming_reminder_planned(appointment=appointment)
    if upcoming is not None:
        plans.append(upcoming)
    # The confirmation and the reminder before the appointment: one INSERT for a new booking.
    (reminder, created), *_ = reminders_plan_together(plans=plans)
    if created:
        reminder_send.delay_on_commit(reminder.pk)
