"""Demo schedule for ``make run``: working hours and a week of appointments.

Idempotent: hours are added only to practitioners who have none, appointments only when
the demo patients have none.  Appointments go through the booking service, so they obey
every rule; a slot the screening gate or the schedule refuses is simply skipped.
"""

from __future__ import annotations

from datetime import time, timedelta

from django.utils import timezone

from bookings.models import Appointment, WorkingHours
from bookings.selectors import free_slots
from bookings.services.appointments import BookingRefused, appointment_book
from clinic.care_team import care_team_assign
from clinic.clinic_time import clinic_datetime
from clinic.demo import DemoPeople
from clinic.models import CareTeamMembership

DEMO_OPENING = time(8)
DEMO_CLOSING = time(20)
MONDAY_TO_SATURDAY = range(6)


def demo_working_hours_create(*, people: DemoPeople) -> None:
    for practitioner in people.practitioners:
        if practitioner.working_hours.exists():
            continue
        WorkingHours.objects.bulk_create(
            WorkingHours(practitioner=practitioner, weekday=weekday, start_time=DEMO_OPENING, end_time=DEMO_CLOSING)
            for weekday in MONDAY_TO_SATURDAY
        )


def demo_care_team_create(*, people: DemoPeople) -> None:
    """The desk assigns the acupuncturist to review Robin's screening (which waits for a clinician)."""
    robin = next((patient for patient in people.patients if patient.user.email == "robin@example.com"), None)
    if robin is None or len(people.practitioners) < 2:
        return
    reviewer = people.practitioners[1]
    if not CareTeamMembership.objects.filter(patient=robin, member=reviewer.user).exists():
        care_team_assign(patient=robin, practitioner=reviewer, actor=people.desk, reason="review the new screening")


def demo_appointments_create(*, people: DemoPeople) -> None:
    demo_working_hours_create(people=people)
    demo_care_team_create(people=people)
    if Appointment.objects.filter(patient__in=people.patients).exists():
        return
    today = timezone.localdate()
    for offset in range(1, 8):
        day = today + timedelta(days=offset)
        for index, patient in enumerate(people.patients):
            practitioner = people.practitioners[(index + offset) % len(people.practitioners)]
            modality = practitioner.modalities.select_related("resource").order_by("display_order").first()
            if modality is None:
                continue
            wanted = clinic_datetime(day, time(9 + 3 * index))
            slots = [
                slot
                for slot in free_slots(
                    modality=modality, start=day, end=day, practitioner=practitioner, patient=patient
                )
                if slot.starts_at >= wanted
            ]
            if not slots:
                continue
            try:
                appointment_book(
                    patient=patient,
                    modality=modality,
                    starts_at=slots[0].starts_at,
                    booked_by=people.admin,
                    practitioner=practitioner,
                )
            except BookingRefused:
                continue  # e.g. the demo patient is not screened for this treatment
