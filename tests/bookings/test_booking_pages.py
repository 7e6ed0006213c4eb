"""The pages patients and practitioners use to book, see and change appointments."""

from __future__ import annotations

from datetime import timedelta

import icalendar
import pytest
import time_machine
from django.urls import reverse

from bookings.forms import slot_value
from bookings.models import Appointment, CalendarFeed, TimeOff
from bookings.services.appointments import appointment_book
from tests.bookings.conftest import MONDAY, at
from tests.factories import AdminFactory, care_team_join

TUESDAY = MONDAY + timedelta(days=1)


@pytest.fixture
def booked(working_practitioner, screened_patient, wbc) -> Appointment:
    return appointment_book(
        patient=screened_patient, modality=wbc, starts_at=at(TUESDAY, 10), booked_by=screened_patient.user
    )


def test_patient_books_from_choice_to_confirmation(client, working_practitioner, screened_patient, wbc):
    client.force_login(screened_patient.user)
    choose = client.get(reverse("bookings:book"))
    assert wbc.name in choose.content.decode()

    times = client.get(reverse("bookings:book_times", args=[wbc.slug]))
    page = times.content.decode()
    assert times.status_code == 200
    assert "Tuesday 23 March" in page
    value = slot_value(at(TUESDAY, 10))
    assert value in page

    confirm = client.get(reverse("bookings:book_confirm", args=[wbc.slug]), {"starts_at": value})
    assert "10:00" in confirm.content.decode()
    assert "Book this time" in confirm.content.decode()

    done = client.post(reverse("bookings:book_confirm", args=[wbc.slug]), {"starts_at": value}, follow=True)
    appointment = Appointment.objects.get()
    assert appointment.patient == screened_patient
    assert appointment.starts_at == at(TUESDAY, 10)
    assert done.redirect_chain[-1][0] == reverse("bookings:appointment_detail", args=[appointment.pk])
    assert "Your appointment is booked" in done.content.decode()


def test_week_navigation_moves_a_week_at_a_time(client, working_practitioner, screened_patient, wbc):
    client.force_login(screened_patient.user)
    page = client.get(reverse("bookings:book_times", args=[wbc.slug]), {"week": "2027-03-30"}).content.decode()
    assert "Monday 29 March" in page
    assert "week=2027-03-22" in page  # previous
    assert "week=2027-04-05" in page  # next
    assert slot_value(at(MONDAY + timedelta(days=8), 9)) in page


def test_unscreened_patient_sees_the_reason_and_next_step_not_times(client, working_practitioner, patient, wbc):
    client.force_login(patient.user)
    response = client.get(reverse("bookings:book_times", args=[wbc.slug]))
    page = response.content.decode()
    assert "Before you book" in page
    assert slot_value(at(TUESDAY, 10)) not in page
    assert 'class="btn btn-primary" href="/' in page  # the next step link


def test_unscreened_patient_posting_a_time_directly_gets_no_booking(client, working_practitioner, patient, wbc):
    client.force_login(patient.user)
    response = client.post(
        reverse("bookings:book_confirm", args=[wbc.slug]), {"starts_at": slot_value(at(TUESDAY, 10))}
    )
    assert response.status_code == 409
    assert "Before you book" in response.content.decode()
    assert not Appointment.objects.exists()


def test_taken_time_says_so_and_offers_the_nearest_times(client, booked, screened_other_patient, wbc):
    client.force_login(screened_other_patient.user)
    response = client.post(
        reverse("bookings:book_confirm", args=[wbc.slug]), {"starts_at": slot_value(at(TUESDAY, 10))}
    )
    page = response.content.decode()
    assert response.status_code == 409
    assert "this time has just been taken" in page
    assert slot_value(at(TUESDAY, 10, 30)) in page
    assert Appointment.objects.count() == 1


def test_garbage_start_time_is_a_form_error_not_a_crash(client, working_practitioner, screened_patient, wbc):
    client.force_login(screened_patient.user)
    response = client.post(reverse("bookings:book_confirm", args=[wbc.slug]), {"starts_at": "tomorrow-ish"})
    assert response.status_code == 400
    assert not Appointment.objects.exists()


def test_my_appointments_lists_upcoming_with_cancel_and_move(client, booked, screened_patient):
    client.force_login(screened_patient.user)
    page = client.get(reverse("bookings:appointment_list")).content.decode()
    assert "Tue 23 Mar 2027, 10:00" in page
    assert reverse("bookings:appointment_cancel", args=[booked.pk]) in page
    assert reverse("bookings:appointment_reschedule", args=[booked.pk]) in page


def test_past_the_cut_off_the_page_says_to_call_and_shows_no_button(client, booked, screened_patient, settings):
    client.force_login(screened_patient.user)
    with time_machine.travel(at(TUESDAY, 8), tick=False):
        page = client.get(reverse("bookings:appointment_list")).content.decode()
        cancel_page = client.get(reverse("bookings:appointment_cancel", args=[booked.pk])).content.decode()
        post = client.post(reverse("bookings:appointment_cancel", args=[booked.pk]))
    assert settings.CLINIC_PHONE in page
    assert reverse("bookings:appointment_cancel", args=[booked.pk]) not in page
    assert "Cancel this appointment" not in cancel_page
    assert post.status_code == 409
    booked.refresh_from_db()
    assert booked.status == Appointment.Status.BOOKED


def test_patient_cancels_from_the_page(client, booked, screened_patient):
    client.force_login(screened_patient.user)
    response = client.post(reverse("bookings:appointment_cancel", args=[booked.pk]), {"reason": "Away"})
    assert response.status_code == 302
    booked.refresh_from_db()
    assert booked.status == Appointment.Status.CANCELLED


def test_patient_moves_an_appointment_from_the_page(client, booked, screened_patient):
    client.force_login(screened_patient.user)
    url = reverse("bookings:appointment_reschedule", args=[booked.pk])
    week = client.get(url).content.decode()
    new = slot_value(at(TUESDAY, 14))
    assert new in week
    response = client.post(url, {"starts_at": new})
    assert response.status_code == 302
    booked.refresh_from_db()
    assert booked.starts_at == at(TUESDAY, 14)


@pytest.mark.parametrize("name", ["appointment_detail", "appointment_cancel", "appointment_reschedule"])
def test_another_patients_appointment_answers_404(client, booked, screened_other_patient, name):
    client.force_login(screened_other_patient.user)
    url = reverse(f"bookings:{name}", args=[booked.pk])
    assert client.get(url).status_code == 404
    assert client.post(url, {"starts_at": slot_value(at(TUESDAY, 14))}).status_code == 404
    booked.refresh_from_db()
    assert booked.status == Appointment.Status.BOOKED
    assert booked.starts_at == at(TUESDAY, 10)


@pytest.mark.parametrize("name", ["practitioner_day", "practitioner_week", "staff_book", "time_off_create"])
def test_patient_cannot_reach_practitioner_pages(client, screened_patient, name):
    client.force_login(screened_patient.user)
    assert client.get(reverse(f"bookings:{name}")).status_code == 403


def test_patient_cannot_mark_or_cancel_as_staff(client, booked, screened_patient):
    client.force_login(screened_patient.user)
    assert (
        client.post(reverse("bookings:appointment_mark", args=[booked.pk]), {"outcome": "attended"}).status_code == 403
    )
    assert client.post(reverse("bookings:staff_appointment_cancel", args=[booked.pk])).status_code == 403


def test_practitioner_day_shows_appointments_with_screening_status(client, booked, working_practitioner):
    client.force_login(working_practitioner.user)
    page = client.get(reverse("bookings:practitioner_day"), {"date": TUESDAY.isoformat()}).content.decode()
    assert booked.patient.full_name in page
    assert "Screening: cleared" in page
    assert "10:00" in page
    # The links treatments adds at the day page's places (clinic.links): the chart and the session log.
    assert reverse("treatments:patient_chart", args=[booked.patient.pk]) in page
    assert reverse("treatments:log_create", args=[booked.pk]) in page


def test_day_pages_session_log_button_says_whether_the_session_is_logged(client, booked, working_practitioner):
    client.force_login(working_practitioner.user)
    day = {"date": TUESDAY.isoformat()}
    assert "Log session" in client.get(reverse("bookings:practitioner_day"), day).content.decode()

    Appointment.objects.filter(pk=booked.pk).update(status=Appointment.Status.ATTENDED)  # as logging does

    page = client.get(reverse("bookings:practitioner_day"), day).content.decode()
    assert "Open session log" in page
    assert "Log session" not in page


def test_practitioner_week_lists_the_week(client, booked, working_practitioner):
    client.force_login(working_practitioner.user)
    page = client.get(reverse("bookings:practitioner_week"), {"date": TUESDAY.isoformat()}).content.decode()
    assert booked.patient.full_name in page
    assert "Tuesday 23 March" in page


def test_day_page_queries_do_not_grow_with_appointments(
    client, working_practitioner, screened_patient, wbc, django_assert_max_num_queries
):
    for hour in (10, 11, 12, 13, 14, 15):
        appointment_book(
            patient=screened_patient, modality=wbc, starts_at=at(TUESDAY, hour), booked_by=screened_patient.user
        )
    client.force_login(working_practitioner.user)
    with django_assert_max_num_queries(30):
        client.get(reverse("bookings:practitioner_day"), {"date": TUESDAY.isoformat()})


def test_practitioner_marks_attended_and_no_show(client, booked, working_practitioner):
    client.force_login(working_practitioner.user)
    with time_machine.travel(at(TUESDAY, 10, 30), tick=False):
        client.post(reverse("bookings:appointment_mark", args=[booked.pk]), {"outcome": "no_show"})
        booked.refresh_from_db()
        assert booked.status == Appointment.Status.NO_SHOW
        client.post(reverse("bookings:appointment_mark", args=[booked.pk]), {"outcome": "attended"})
    booked.refresh_from_db()
    assert booked.status == Appointment.Status.ATTENDED


def test_practitioner_books_by_phone_with_the_same_rules(client, working_practitioner, screened_patient, patient, wbc):
    care_team_join(patient=screened_patient, practitioner=working_practitioner)  # their own patient
    client.force_login(working_practitioner.user)
    search = client.get(
        reverse("bookings:staff_book"),
        {"patient": screened_patient.pk, "modality": wbc.pk, "practitioner": working_practitioner.pk},
    ).content.decode()
    value = slot_value(at(TUESDAY, 10))
    assert value in search
    response = client.post(
        reverse("bookings:staff_book"),
        {
            "patient": screened_patient.pk,
            "modality": wbc.pk,
            "practitioner": working_practitioner.pk,
            "starts_at": value,
        },
    )
    assert response.status_code == 302
    appointment = Appointment.objects.get()
    assert appointment.created_by == working_practitioner.user
    assert appointment.patient == screened_patient


def test_phone_booking_for_an_unscreened_patient_is_refused_with_the_reason(
    client, working_practitioner, other_patient, wbc
):
    care_team_join(patient=other_patient, practitioner=working_practitioner)  # their own patient
    client.force_login(working_practitioner.user)
    response = client.post(
        reverse("bookings:staff_book"),
        {"patient": other_patient.pk, "modality": wbc.pk, "starts_at": slot_value(at(TUESDAY, 10))},
    )
    assert response.status_code == 409
    assert "screening" in response.content.decode().lower()
    assert not Appointment.objects.exists()


def test_practitioner_blocks_time_and_it_is_no_longer_offered(client, working_practitioner, screened_patient, wbc):
    client.force_login(working_practitioner.user)
    response = client.post(
        reverse("bookings:time_off_create"),
        {"date": TUESDAY.isoformat(), "start_time": "12:00", "end_time": "13:00", "reason": "Training"},
    )
    assert response.status_code == 302
    time_off = TimeOff.objects.get()
    assert time_off.starts_at == at(TUESDAY, 12)
    client.force_login(screened_patient.user)
    page = client.get(reverse("bookings:book_times", args=[wbc.slug]), {"week": TUESDAY.isoformat()}).content.decode()
    assert slot_value(at(TUESDAY, 12, 15)) not in page
    assert slot_value(at(TUESDAY, 13)) in page


def test_block_time_with_end_before_start_is_a_form_error(client, working_practitioner):
    client.force_login(working_practitioner.user)
    response = client.post(
        reverse("bookings:time_off_create"), {"date": TUESDAY.isoformat(), "start_time": "13:00", "end_time": "12:00"}
    )
    assert response.status_code == 200
    assert "The end must be after the start" in response.content.decode()
    assert not TimeOff.objects.exists()


def test_admin_sees_any_practitioners_day(client, booked, working_practitioner):
    client.force_login(AdminFactory())
    page = client.get(
        reverse("bookings:practitioner_day"), {"date": TUESDAY.isoformat(), "practitioner": working_practitioner.pk}
    ).content.decode()
    assert booked.patient.full_name in page


def _events(body: bytes) -> list:
    calendar = icalendar.Calendar.from_ical(body)
    return list(calendar.walk("VEVENT"))


def test_patient_feed_serves_their_appointments_as_icalendar(client, booked, screened_patient, settings):
    client.force_login(screened_patient.user)
    client.get(reverse("bookings:calendar_feed"))
    feed = CalendarFeed.objects.get(patient=screened_patient)
    client.logout()
    response = client.get(reverse("bookings:feed", args=[feed.token]))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/calendar")
    events = _events(response.content)
    assert len(events) == 1
    assert events[0].decoded("dtstart") == at(TUESDAY, 10)
    assert str(events[0]["location"]) == settings.CLINIC_NAME


def test_practitioner_feed_lists_their_active_appointments(client, booked, working_practitioner):
    client.force_login(working_practitioner.user)
    page = client.get(reverse("bookings:calendar_feed")).content.decode()
    feed = CalendarFeed.objects.get(practitioner=working_practitioner)
    assert feed.token in page
    events = _events(client.get(reverse("bookings:feed", args=[feed.token])).content)
    assert [str(event["uid"]) for event in events] == [f"appointment-{booked.pk}@127.0.0.1"]
    assert booked.patient.full_name in str(events[0]["summary"])


def test_regenerating_the_feed_revokes_the_old_link(client, booked, screened_patient):
    client.force_login(screened_patient.user)
    client.get(reverse("bookings:calendar_feed"))
    old = CalendarFeed.objects.get(patient=screened_patient).token
    client.post(reverse("bookings:calendar_feed"))
    new = CalendarFeed.objects.get(patient=screened_patient).token
    assert new != old
    assert client.get(reverse("bookings:feed", args=[old])).status_code == 404
    assert client.get(reverse("bookings:feed", args=[new])).status_code == 200


def test_unknown_feed_token_is_404(client, db):
    assert client.get(reverse("bookings:feed", args=["not-a-token"])).status_code == 404


def test_home_pages_show_the_next_appointment_and_todays_list(client, booked, screened_patient, working_practitioner):
    client.force_login(screened_patient.user)
    page = client.get(reverse("home")).content.decode()
    assert "Your next appointment" in page
    assert "Book a session" in page
    client.force_login(working_practitioner.user)
    with time_machine.travel(at(TUESDAY, 8), tick=False):
        page = client.get(reverse("home")).content.decode()
    assert booked.patient.full_name in page
