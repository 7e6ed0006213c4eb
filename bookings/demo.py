"""Demo schedule for ``make run``: working hours and a week of appointments."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from django.utils import timezone

from bookings.models import Appointment
from clinic.demo import DemoPeople


def demo_appointments_create(*, people: DemoPeople) -> None:
    if Appointment.objects.exists():
        return
    today = timezone.localdate()
    zone = timezone.get_current_timezone()
    for offset in range(7):
        day = today + timedelta(days=offset)
        for index, patient in enumerate(people.patients):
            practitioner = people.practitioners[index % len(people.practitioners)]
            modality = practitioner.modalities.order_by("display_order").first()
            starts_at = datetime.combine(day, time(9 + 2 * index, 0), tzinfo=zone)
            Appointment.objects.create(
                patient=patient,
                practitioner=practitioner,
                modality=modality,
                resource=modality.resource,
                starts_at=starts_at,
                ends_at=starts_at + modality.slot_length,
                blocked_until=starts_at + modality.slot_length + modality.buffer_after,
                created_by=people.admin,
            )
