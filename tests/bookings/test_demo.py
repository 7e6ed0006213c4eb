"""The demo clinic of ``make run``."""

from __future__ import annotations

from bookings.demo import demo_appointments_create
from bookings.models import Appointment, WorkingHours
from clinic.demo import demo_people_create
from screening.demo import demo_screenings_create


def test_demo_schedule_is_created_through_the_rules_and_only_once(db):
    people = demo_people_create()
    demo_screenings_create(people=people)
    demo_appointments_create(people=people)
    hours = WorkingHours.objects.count()
    appointments = list(Appointment.objects.values_list("pk", flat=True))
    assert hours == 6 * len(people.practitioners)
    assert len(appointments) >= 6  # the screened demo patients got a week of bookings
    demo_appointments_create(people=people)
    assert WorkingHours.objects.count() == hours
    assert list(Appointment.objects.values_list("pk", flat=True)) == appointments
    for appointment in Appointment.objects.all():
        assert appointment.blocked_until > appointment.ends_at
