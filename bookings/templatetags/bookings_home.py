"""Tags for this app's parts of the start page (the home view lives in ``clinic``, which cannot import bookings)."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils import timezone

from bookings.models import Appointment
from bookings.selectors import appointments_with_screening, practitioner_appointments

register = template.Library()


@register.simple_tag
def next_appointment(user: Any) -> Appointment | None:
    patient = getattr(user, "patient", None)
    if patient is None:
        return None
    return (
        Appointment.objects.upcoming().filter(patient=patient).select_related("modality", "practitioner__user").first()
    )


@register.simple_tag
def todays_appointments(user: Any) -> list[tuple[Appointment, Any]]:
    today = timezone.localdate()
    practitioner = getattr(user, "practitioner", None)
    appointments = list(
        practitioner_appointments(practitioner=practitioner, start=today, end=today).exclude(
            status=Appointment.Status.CANCELLED
        )
    )
    return appointments_with_screening(appointments=appointments, on_date=today)
