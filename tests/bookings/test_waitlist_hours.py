"""New hours free slots too: extra hours, widened weekly hours and removed time off offer their times."""

from __future__ import annotations

from datetime import time, timedelta

import pytest
from django.core import mail
from django.urls import reverse

from bookings.models import BookingPolicy, ExtraHours, WaitlistOffer, WorkingHours
from bookings.services.appointments import appointment_book, appointment_cancel
from bookings.services.schedules import time_off_create
from bookings.services.waitlist import waitlist_join
from bookings.tasks import waitlist_hours_opened
from tests.bookings.conftest import MONDAY, at, cleared
from tests.factories import AdminFactory, PatientFactory

TUESDAY = MONDAY + timedelta(days=1)
Offer = WaitlistOffer.Status


def waiting(modality, *, earliest: int = 17, latest: int = 20, weekdays=range(7), until_days: int = 14):
    """A new cleared patient on the waitlist for ``modality`` between ``earliest`` and ``latest`` o'clock."""
    patient = cleared(PatientFactory())
    waitlist_join(
        patient=patient,
        modality=modality,
        actor=patient.user,
        weekdays=list(weekdays),
        earliest_time=time(earliest),
        latest_time=time(latest),
        available_from=MONDAY,
        available_until=MONDAY + timedelta(days=until_days),
    )
    return patient


def offered(patient) -> list:
    return list(WaitlistOffer.objects.filter(patient=patient).order_by("starts_at").values_list("starts_at", flat=True))


def emails_to(patient) -> int:
    return len([message for message in mail.outbox if message.to == [patient.user.email]])


@pytest.fixture
def run(django_capture_on_commit_callbacks):
    """Run a change as the admin would: the task runs once the change commits."""

    def inner(change):
        with django_capture_on_commit_callbacks(execute=True):
            return change()

    return inner


def extra_hours(practitioner, day, start, end) -> ExtraHours:
    return ExtraHours.objects.create(practitioner=practitioner, date=day, start_time=time(start), end_time=time(end))


def test_new_extra_hours_offer_their_first_matching_time_to_the_first_waiting_patient_once(
    working_practitioner, wbc, run
):
    first, second = waiting(wbc), waiting(wbc)
    run(lambda: extra_hours(working_practitioner, TUESDAY, 17, 19))
    assert offered(first) == [at(TUESDAY, 17)]
    assert emails_to(first) == 1
    # The next patient gets the next time that does not overlap it (a session with its buffer is 25 minutes).
    assert offered(second) == [at(TUESDAY, 17, 30)]

    run(
        lambda: waitlist_hours_opened.delay(
            working_practitioner.pk, [[at(TUESDAY, 17).isoformat(), at(TUESDAY, 19).isoformat()]]
        )
    )
    assert WaitlistOffer.objects.count() == 2
    assert (emails_to(first), emails_to(second)) == (1, 1)


def test_times_that_were_bookable_already_are_not_offered(working_practitioner, wbc, run):
    daytime = waiting(wbc, earliest=9, latest=17)
    run(lambda: extra_hours(working_practitioner, TUESDAY, 17, 19))
    assert offered(daytime) == []


def test_a_patient_holding_an_offer_is_not_offered_a_second_time(
    working_practitioner, screened_other_patient, wbc, run
):
    booking = appointment_book(
        patient=screened_other_patient, modality=wbc, starts_at=at(TUESDAY, 10), booked_by=screened_other_patient.user
    )
    holder = waiting(wbc, earliest=9, latest=20)
    run(lambda: appointment_cancel(appointment=booking, by=screened_other_patient.user))
    assert offered(holder) == [at(TUESDAY, 10)]
    later = waiting(wbc)
    run(lambda: extra_hours(working_practitioner, TUESDAY, 17, 19))
    assert offered(holder) == [at(TUESDAY, 10)]
    assert emails_to(holder) == 1
    assert offered(later) == [at(TUESDAY, 17)]


def test_removed_time_off_offers_its_times(working_practitioner, wbc, run):
    time_off = time_off_create(
        practitioner=working_practitioner,
        starts_at=at(TUESDAY, 10),
        ends_at=at(TUESDAY, 12),
        by=working_practitioner.user,
    )
    patient = waiting(wbc, earliest=10, latest=12, weekdays=[1])
    assert offered(patient) == []
    run(time_off.delete)
    assert offered(patient) == [at(TUESDAY, 10)]


def test_removed_time_off_offers_the_time_whose_buffer_reached_into_it(working_practitioner, wbc, run):
    time_off = time_off_create(
        practitioner=working_practitioner,
        starts_at=at(TUESDAY, 10),
        ends_at=at(TUESDAY, 12),
        by=working_practitioner.user,
    )
    # 09:45 ends at 10:00, but its ten-minute buffer ran into the time off: it was not bookable, now it is.
    patient = waiting(wbc, earliest=9, latest=10, weekdays=[1])
    run(time_off.delete)
    assert offered(patient) == [at(TUESDAY, 9, 45)]


def test_shortened_time_off_offers_only_the_time_given_back(working_practitioner, wbc, run):
    time_off = time_off_create(
        practitioner=working_practitioner,
        starts_at=at(TUESDAY, 10),
        ends_at=at(TUESDAY, 12),
        by=working_practitioner.user,
    )
    still_off = waiting(wbc, earliest=11, latest=12, weekdays=[1])
    given_back = waiting(wbc, earliest=10, latest=11, weekdays=[1])
    time_off.starts_at = at(TUESDAY, 11)
    run(time_off.save)
    assert offered(still_off) == []
    assert offered(given_back) == [at(TUESDAY, 10)]


def test_new_time_off_offers_nothing(working_practitioner, wbc, run):
    patient = waiting(wbc, earliest=9, latest=17)
    run(
        lambda: time_off_create(
            practitioner=working_practitioner,
            starts_at=at(TUESDAY, 10),
            ends_at=at(TUESDAY, 12),
            by=working_practitioner.user,
        )
    )
    assert offered(patient) == []


def test_widened_weekly_hours_offer_the_first_new_time(working_practitioner, wbc, run):
    patient = waiting(wbc)
    tuesdays = WorkingHours.objects.get(practitioner=working_practitioner, weekday=TUESDAY.weekday())
    tuesdays.end_time = time(19)
    run(tuesdays.save)
    assert offered(patient) == [at(TUESDAY, 17)]


def test_hours_in_the_past_or_within_the_notice_offer_nothing(working_practitioner, wbc, run):
    # It is Monday 07:00; bookings need two hours' notice, so nothing before 09:00 today may be offered.
    early = waiting(wbc, earliest=5, latest=9, weekdays=[0])
    run(lambda: extra_hours(working_practitioner, MONDAY, 5, 9))
    assert offered(early) == []


def test_hours_beyond_the_booking_horizon_offer_nothing(working_practitioner, wbc, run):
    patient = waiting(wbc, until_days=20)
    policy = BookingPolicy.load()
    policy.horizon_days = 7
    policy.save()
    run(lambda: extra_hours(working_practitioner, MONDAY + timedelta(days=10), 17, 19))
    assert offered(patient) == []


def test_extra_hours_added_in_the_admin_offer_their_times(client, working_practitioner, wbc, run):
    patient = waiting(wbc)
    client.force_login(AdminFactory(is_superuser=True))
    response = run(
        lambda: client.post(
            reverse("admin:bookings_extrahours_add"),
            {
                "practitioner": working_practitioner.pk,
                "date": TUESDAY.isoformat(),
                "start_time": "17:00",
                "end_time": "19:00",
            },
        )
    )
    assert response.status_code == 302
    assert offered(patient) == [at(TUESDAY, 17)]
