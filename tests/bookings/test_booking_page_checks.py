"""The booking page opens where there is something to book, and the confirm page checks the time first.

A patient should never press "Book this time" only to hear that the time has passed, is too soon or
too far, is not offered, is taken, or that their screening does not allow it: the confirm page tells
them before offering the button, with the nearest free times, by the same rules as the booking.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from bookings.forms import slot_value
from bookings.models import Appointment, BookingPolicy, ExtraHours
from bookings.selectors import first_free_day
from bookings.services.appointments import PASSED_MESSAGE, BookingRefused, appointment_book
from clinic.models import Modality
from tests.bookings.conftest import MONDAY, at, working_hours
from tests.factories import appointment_build

TUESDAY = MONDAY + timedelta(days=1)
SUNDAY = MONDAY + timedelta(days=6)
BOOK_BUTTON = "Book this time"


def times_page(client, modality, **params):
    return client.get(reverse("bookings:book_times", args=[modality.slug]), params)


def confirm_page(client, modality, value: str):
    return client.get(reverse("bookings:book_confirm", args=[modality.slug]), {"starts_at": value})


# --- The booking page opens on the first week with a free time ---------------------------------


def test_on_a_sunday_with_nothing_left_the_page_opens_on_next_week(client, practitioner, screened_patient, wbc):
    working_hours(practitioner, weekdays=range(5))  # Monday to Friday
    with time_machine.travel(at(SUNDAY, 10), tick=False):
        client.force_login(screened_patient.user)
        page = times_page(client, wbc).content.decode()
    next_monday = SUNDAY + timedelta(days=1)
    assert "Monday 29 March" in page
    assert slot_value(at(next_monday, 9)) in page
    assert "No free times this week" not in page


def test_the_page_skips_empty_weeks_to_the_first_free_time(client, practitioner, screened_patient, wbc):
    later = MONDAY + timedelta(days=23)  # Wednesday 14 April, three weeks on
    ExtraHours.objects.create(practitioner=practitioner, date=later, start_time=time(10), end_time=time(11))
    client.force_login(screened_patient.user)
    page = times_page(client, wbc).content.decode()
    assert "Wednesday 14 April" in page
    assert slot_value(at(later, 10)) in page


def test_a_chosen_week_is_shown_even_when_it_is_empty(client, practitioner, screened_patient, wbc):
    later = MONDAY + timedelta(days=23)
    ExtraHours.objects.create(practitioner=practitioner, date=later, start_time=time(10), end_time=time(11))
    client.force_login(screened_patient.user)
    page = times_page(client, wbc, week=MONDAY.isoformat()).content.decode()
    assert "Monday 22 March" in page
    assert "No free times this week; try the next week." in page


def test_nothing_free_within_the_horizon_says_so_clearly(client, practitioner, screened_patient, wbc):
    # Hours only past the eight-week horizon: nothing can be booked.
    far = MONDAY + timedelta(days=70)
    ExtraHours.objects.create(practitioner=practitioner, date=far, start_time=time(10), end_time=time(11))
    client.force_login(screened_patient.user)
    response = times_page(client, wbc)
    page = response.content.decode()
    assert response.status_code == 200
    assert "No free times for Whole-body cryotherapy up to Monday 17 May" in page
    assert "as far ahead as bookings are open" in page
    assert "Monday 22 March" in page  # this week is shown


def test_finding_the_first_free_day_takes_the_same_few_queries_however_far_it_is(clock, practitioner, wbc):
    policy = BookingPolicy.load()
    wbc = Modality.objects.select_related("resource").get(pk=wbc.pk)
    with CaptureQueriesContext(connection) as none_free:
        assert first_free_day(modality=wbc, policy=policy) is None
    working_hours(practitioner, weekdays=[3])  # Thursdays only
    with CaptureQueriesContext(connection) as this_week:
        assert first_free_day(modality=wbc, policy=policy) == MONDAY + timedelta(days=3)
    assert len(none_free) == 2 * len(this_week) <= 8


# --- The confirm page checks the time before offering the button --------------------------------


def test_a_free_time_shows_the_button(client, working_practitioner, screened_patient, wbc):
    client.force_login(screened_patient.user)
    response = confirm_page(client, wbc, slot_value(at(TUESDAY, 10)))
    assert response.status_code == 200
    assert BOOK_BUTTON in response.content.decode()


def test_a_past_time_says_it_has_passed_and_offers_the_first_free_times(
    client, working_practitioner, screened_patient, wbc
):
    client.force_login(screened_patient.user)
    response = confirm_page(client, wbc, slot_value(at(MONDAY, 6)))  # 06:00 today; it is 07:00
    page = response.content.decode()
    assert "That time has passed; please choose a later time." in page
    assert BOOK_BUTTON not in page
    assert slot_value(at(MONDAY, 9)) in page  # the first time with enough notice


def test_a_time_too_soon_says_why_and_offers_later_times(client, working_practitioner, screened_patient, wbc):
    client.force_login(screened_patient.user)
    page = confirm_page(client, wbc, slot_value(at(MONDAY, 8))).content.decode()  # one hour away; two needed
    assert "Bookings need at least 2 hours&#x27; notice" in page
    assert BOOK_BUTTON not in page
    assert slot_value(at(MONDAY, 9)) in page


def test_a_time_past_the_horizon_says_why_and_offers_the_last_open_times(
    client, working_practitioner, screened_patient, wbc
):
    client.force_login(screened_patient.user)
    far = MONDAY + timedelta(days=60)
    page = confirm_page(client, wbc, slot_value(at(far, 10))).content.decode()
    assert "Bookings open 8 weeks ahead; please choose an earlier date." in page
    assert BOOK_BUTTON not in page
    # Bookings open until Monday 17 May 08:00; the practitioner starts at 09:00, so the last times are on the 16th.
    assert slot_value(at(MONDAY + timedelta(days=55), 16, 45)) in page


def test_a_time_not_offered_says_so_and_offers_the_nearest(client, working_practitioner, screened_patient, wbc):
    client.force_login(screened_patient.user)
    page = confirm_page(client, wbc, slot_value(at(TUESDAY, 20))).content.decode()  # after closing
    assert "No practitioner offers Whole-body cryotherapy" in page
    assert BOOK_BUTTON not in page
    assert slot_value(at(TUESDAY, 16, 45)) in page


def test_a_taken_time_says_so_before_the_press(client, working_practitioner, screened_patient, other_patient, wbc):
    appointment_build(
        patient=other_patient, practitioner=working_practitioner, modality=wbc, starts_at=at(TUESDAY, 10)
    ).save()
    client.force_login(screened_patient.user)
    page = confirm_page(client, wbc, slot_value(at(TUESDAY, 10))).content.decode()
    assert "this time has just been taken" in page
    assert BOOK_BUTTON not in page
    assert slot_value(at(TUESDAY, 10, 30)) in page


def test_an_unscreened_patient_sees_the_screening_reason_not_the_button(client, working_practitioner, patient, wbc):
    client.force_login(patient.user)
    page = confirm_page(client, wbc, slot_value(at(TUESDAY, 10))).content.decode()
    assert "Before you book" in page
    assert BOOK_BUTTON not in page


def test_a_start_time_that_is_not_a_time_says_so_instead_of_redirecting(
    client, working_practitioner, screened_patient, wbc
):
    client.force_login(screened_patient.user)
    response = confirm_page(client, wbc, "banana")
    page = response.content.decode()
    assert response.status_code == 400
    assert "That start time is not valid; please choose one of the times shown." in page
    assert BOOK_BUTTON not in page
    assert reverse("bookings:book_times", args=[wbc.slug]) in page  # the way back


def test_an_empty_start_time_says_none_was_chosen(client, working_practitioner, screened_patient, wbc):
    client.force_login(screened_patient.user)
    response = confirm_page(client, wbc, "")
    assert response.status_code == 400
    assert "No start time was chosen" in response.content.decode()


def test_without_a_start_time_the_confirm_page_leads_to_the_times(client, working_practitioner, screened_patient, wbc):
    client.force_login(screened_patient.user)
    response = client.get(reverse("bookings:book_confirm", args=[wbc.slug]))
    assert response.status_code == 302
    assert response.url == reverse("bookings:book_times", args=[wbc.slug])


def test_checking_a_time_writes_nothing(client, working_practitioner, screened_patient, wbc):
    client.force_login(screened_patient.user)
    confirm_page(client, wbc, slot_value(at(TUESDAY, 10)))
    assert not Appointment.objects.exists()


def test_moving_to_a_past_time_says_it_has_passed_before_the_press(client, working_practitioner, screened_patient, wbc):
    appointment = appointment_book(
        patient=screened_patient, modality=wbc, starts_at=at(TUESDAY, 10), booked_by=screened_patient.user
    )
    client.force_login(screened_patient.user)
    url = reverse("bookings:appointment_reschedule", args=[appointment.pk])
    page = client.get(url, {"starts_at": slot_value(at(MONDAY, 6))}).content.decode()
    assert PASSED_MESSAGE in page
    assert "Move to this time" not in page
    good = client.get(url, {"starts_at": slot_value(at(TUESDAY, 14))}).content.decode()
    assert "Move to this time" in good
    bad = client.get(url, {"starts_at": "banana"})
    assert bad.status_code == 400
    assert "That start time is not valid" in bad.content.decode()


def test_the_booking_service_refuses_a_past_time_as_passed(working_practitioner, screened_patient, wbc):
    past = datetime(2027, 3, 22, 6, 0, tzinfo=UTC)
    with pytest.raises(BookingRefused) as refused:
        appointment_book(patient=screened_patient, modality=wbc, starts_at=past, booked_by=screened_patient.user)
    assert refused.value.message == PASSED_MESSAGE
    assert refused.value.alternatives  # the first free times
    assert not Appointment.objects.exists()
