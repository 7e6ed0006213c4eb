"""The demo clinic of ``make run``."""

from __future__ import annotations

import itertools
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

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


@pytest.mark.parametrize("local_time", ["2026-11-30 02:30", "2026-11-30 07:59", "2026-11-30 12:10", "2026-11-29 23:50"])
def test_demo_bookings_never_overlap_whatever_the_hour_it_is_loaded(db, local_time):
    """Loaded in the small hours, the session 'waiting to be logged' once landed on today's 08:00,
    where the practitioner's next patient had just been booked (PostgreSQL refused the overlap)."""
    moment = datetime.fromisoformat(local_time).replace(tzinfo=ZoneInfo("Europe/London"))
    with time_machine.travel(moment, tick=False):
        people = demo_people_create()
        demo_screenings_create(people=people)
        demo_appointments_create(people=people)
        booked = list(Appointment.objects.order_by("practitioner_id", "starts_at"))
        for earlier, later in itertools.pairwise(booked):
            if earlier.practitioner_id == later.practitioner_id:
                assert earlier.blocked_until <= later.starts_at, (earlier, later)
        past = [appointment for appointment in booked if appointment.starts_at <= moment]
        future = [appointment for appointment in booked if appointment.starts_at > moment]
        assert past
        assert future
