"""Appointments for the reminder tests, made directly (the booking rules are not under test here)."""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone

from bookings.models import Appointment
from clinic.models import Modality, Patient, Practitioner


def appointment_create(
    *,
    patient: Patient,
    practitioner: Practitioner,
    modality: Modality,
    starts_at: datetime,
    status: str = Appointment.Status.BOOKED,
) -> Appointment:
    return Appointment.objects.create(
        patient=patient,
        practitioner=practitioner,
        modality=modality,
        resource=modality.resource,
        starts_at=starts_at,
        ends_at=starts_at + modality.slot_length,
        blocked_until=starts_at + modality.slot_length + modality.buffer_after,
        status=status,
        created_by=patient.user,
    )


def local(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    """A wall-clock time in the clinic's zone."""
    return timezone.make_aware(datetime(year, month, day, hour, minute))
