"""Writes on appointments.  Views, admin and tasks call these; nothing else saves an Appointment."""

from __future__ import annotations

from django.db import transaction

from bookings.models import Appointment
from clinic.models import User


@transaction.atomic
def appointment_mark_attended(*, appointment: Appointment, by: User) -> Appointment:
    """Record that the patient came.  Idempotent: an attended appointment stays attended."""
    appointment = Appointment.objects.select_for_update().get(pk=appointment.pk)
    if appointment.status == Appointment.Status.CANCELLED:
        raise ValueError("A cancelled appointment cannot be marked attended.")
    if appointment.status != Appointment.Status.ATTENDED:
        appointment.status = Appointment.Status.ATTENDED
        appointment.save(update_fields=["status", "updated_at"])
    return appointment
