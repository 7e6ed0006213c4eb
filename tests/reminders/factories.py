"""Appointments for the reminder tests, made directly (the booking rules are not under test here)."""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone

from bookings.models import Appointment
from clinic.models import Modality, Patient, Practitioner
from tests import factories


def appointment_create(
    *,
    patient: Patient,
    practitioner: Practitioner,
    modality: Modality,
    starts_at: datetime,
    status: str = Appointment.Status.BOOKED,
) -> Appointment:
    """A booking made online by the patient, written directly."""
    return factories.appointment_create(
        patient=patient, practitioner=practitioner, modality=modality, starts_at=starts_at, status=status
    )


def local(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    """A wall-clock time in the clinic's zone."""
    return timezone.make_aware(datetime(year, month, day, hour, minute))
