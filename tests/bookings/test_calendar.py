"""The staff calendar: what each role sees, the states of its cells, its cost, and moving from it."""

from __future__ import annotations

import re
from datetime import time, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from bookings.calendar import CellState, calendar_grid
from bookings.models import Appointment, ClinicClosure, TimeOff
from bookings.services.appointments import appointment_book
from bookings.services.reminders import BookingMessage
from clinic.models import AuditEvent
from notifications.models import Reminder
from tests.bookings.conftest import MONDAY, at, cleared, working_hours
from tests.factories import AdminFactory, FrontDeskFactory, PatientFactory, PractitionerFactory, appointment_create
from tests.screening.factories import submission_with_answers

TUESDAY = MONDAY + timedelta(days=1)
CALENDAR = reverse("bookings:staff_calendar")
WEEK = reverse("bookings:staff_calendar_week")


@pytest.fixture
def booked(working_practitioner, screened_patient, wbc) -> Appointment:
    return appointment_book(
        patient=screened_patient, modality=wbc, starts_at=at(TUESDAY, 10), booked_by=screened_patient.user
    )


def _page(client, user, url=CALENDAR, **params) -> str:
    client.force_login(user)
    response = client.get(url, {"date": TUESDAY.isoformat(), **params})
    assert response.status_code == 200
    return response.content.decode()


def _cell(grid, *, lane_name: str, hour: int, minute: int = 0):
    for row in grid.rows:
        for cell in row.cells:
            if cell.lane.name == lane_name and cell.starts_at == at(cell.day, hour, minute):
                return cell
    raise AssertionError(f"no cell {lane_name} {hour}:{minute}")


# --- what each role sees -------------------------------------------------------------------


def test_desk_sees_name_and_treatment_but_never_clinical_notes(client, booked):
    submission_with_answers(patient=booked.patient, notes="Uses a CPAP machine at night")
    cleared(booked.patient)
    page = _page(client, FrontDeskFactory())
    assert booked.patient.full_name in page
    assert "Whole-body cryotherapy" in page
    assert "CPAP" not in page


def test_the_appointments_practitioner_sees_the_patients_name(client, booked, working_practitioner):
    page = _page(client, working_practitioner.user)
    assert booked.patient.full_name in page


def test_a_practitioner_outside_the_care_team_sees_booked_without_a_name(client, booked):
    outsider = PractitionerFactory()
    page = _page(client, outsider.user)
    assert booked.patient.full_name not in page
    assert booked.patient.user.last_name not in page
    assert "Booked" in page
    assert reverse("bookings:staff_appointment_move", args=[booked.pk]) not in page


def test_an_admin_sees_every_name(client, booked):
    page = _page(client, AdminFactory(), WEEK)
    assert booked.patient.full_name in page


def test_patients_may_not_open_the_calendar(client, booked):
    client.force_login(booked.patient.user)
    assert client.get(CALENDAR).status_code == 403


def test_reading_the_calendar_is_audited(client, booked):
    desk = FrontDeskFactory()
    _page(client, desk)
    _page(client, desk, WEEK)
    descriptions = AuditEvent.objects.filter(actor=desk, action=AuditEvent.Action.VIEW).values_list(
        "description", flat=True
    )
    assert sorted(descriptions) == ["Calendar (day)", "Calendar (week)"]


def test_a_date_outside_the_calendar_is_refused_not_a_server_error(client, booked):
    client.force_login(FrontDeskFactory())
    assert client.get(CALENDAR, {"date": "9999-12-31"}).status_code == 400
    assert client.get(WEEK, {"date": "not-a-date"}).status_code == 200


# --- the cells -------------------------------------------------------------------------------


def test_cells_show_booked_buffer_free_time_off_outside_hours_and_the_chamber(booked, working_practitioner, wbc):
    TimeOff.objects.create(practitioner=working_practitioner, starts_at=at(TUESDAY, 13), ends_at=at(TUESDAY, 14))
    working_hours(PractitionerFactory(), start=time(8), end=time(18))  # the day's rows run 08:00-18:00
    grid = calendar_grid(viewer=FrontDeskFactory(), start=TUESDAY, end=TUESDAY)
    name = working_practitioner.full_name
    assert _cell(grid, lane_name=name, hour=10).state == CellState.BOOKED
    assert [entry.appointment for entry in _cell(grid, lane_name=name, hour=10).entries] == [booked]
    assert _cell(grid, lane_name=name, hour=10, minute=15).state == CellState.BUFFER  # 10 min buffer after 15 min
    assert _cell(grid, lane_name=name, hour=10, minute=30).state == CellState.FREE
    assert _cell(grid, lane_name=name, hour=13, minute=30).state == CellState.TIME_OFF
    assert _cell(grid, lane_name=name, hour=8).state == CellState.OUTSIDE_HOURS
    assert _cell(grid, lane_name=name, hour=17, minute=45).state == CellState.OUTSIDE_HOURS
    assert _cell(grid, lane_name=wbc.resource.name, hour=10).state == CellState.BOOKED
    assert _cell(grid, lane_name=wbc.resource.name, hour=11).state == CellState.FREE


def test_a_closed_day_is_blocked_with_its_reason(client, booked):
    ClinicClosure.objects.create(start_date=TUESDAY, end_date=TUESDAY, reason="Boiler repair")
    grid = calendar_grid(viewer=FrontDeskFactory(), start=TUESDAY, end=TUESDAY)
    assert {cell.state for row in grid.rows for cell in row.cells} == {CellState.CLOSED}
    assert "Boiler repair" in _page(client, FrontDeskFactory())


def test_times_are_the_clinics_wall_clock_across_the_daylight_saving_change(working_practitioner, clock):
    """The clocks go forward on Sunday 28 March 2027; Monday 29's 09:00 row is 09:00 London (08:00 UTC)."""
    grid = calendar_grid(viewer=FrontDeskFactory(), start=MONDAY, end=MONDAY + timedelta(days=7))
    first_monday = _cell(grid, lane_name=working_practitioner.full_name, hour=9)
    assert first_monday.state == CellState.FREE
    assert grid.rows[0].at.hour == 9
    assert any(
        cell.day == MONDAY + timedelta(days=7) and cell.starts_at.utcoffset() == timedelta(hours=1)
        for cell in grid.rows[0].cells
    )


# --- cost ------------------------------------------------------------------------------------


def _queries(client, user, url) -> int:
    with CaptureQueriesContext(connection) as queries:
        _page(client, user, url)
    return len(queries)


@pytest.mark.parametrize("url", [CALENDAR, WEEK])
@pytest.mark.parametrize("role", ["desk", "practitioner"])
def test_the_calendar_costs_the_same_queries_whatever_the_number_of_appointments(
    client, working_practitioner, wbc, acupuncture_initial, url, role
):
    viewer = FrontDeskFactory() if role == "desk" else PractitionerFactory().user
    appointment_create(
        patient=PatientFactory(), practitioner=working_practitioner, modality=wbc, starts_at=at(TUESDAY, 9)
    )
    _queries(client, viewer, url)  # the first request of a session does a little more (the session itself)
    few = _queries(client, viewer, url)
    colleague = PractitionerFactory()
    working_hours(colleague)
    for offset in range(12):
        day = TUESDAY + timedelta(days=offset % 3)
        appointment_create(
            patient=PatientFactory(),
            practitioner=colleague if offset % 2 else working_practitioner,
            modality=acupuncture_initial if offset % 2 else wbc,
            starts_at=at(day, 11 + offset // 3),
        )
    assert _queries(client, viewer, url) == few


# --- moving from the calendar ------------------------------------------------------------------


def test_move_page_offers_free_times_and_moves_without_javascript(client, booked, working_practitioner):
    desk = FrontDeskFactory()
    client.force_login(desk)
    url = reverse("bookings:staff_appointment_move", args=[booked.pk])
    page = client.get(url).content.decode()
    assert 'value="2027-03-23T14:00Z"' in page  # free times of the appointment's day and practitioner
    assert 'value="2027-03-23T10:00Z"' not in page  # where it is now
    response = client.post(
        url,
        {
            "day": TUESDAY.isoformat(),
            "practitioner": working_practitioner.pk,
            "starts_at": "2027-03-23T14:00Z",
            "move": "Move appointment",
        },
    )
    assert response.status_code == 302
    booked.refresh_from_db()
    assert booked.starts_at == at(TUESDAY, 14)
    assert Reminder.objects.filter(appointment=booked, kind=BookingMessage.BOOKING_CHANGED).count() == 1
    follow = client.get(response["Location"]).content.decode()
    assert "Moved Whole-body cryotherapy" in follow


def test_show_free_times_lists_another_day_without_moving(client, booked, working_practitioner):
    client.force_login(FrontDeskFactory())
    url = reverse("bookings:staff_appointment_move", args=[booked.pk])
    wednesday = TUESDAY + timedelta(days=1)
    response = client.post(
        url, {"day": wednesday.isoformat(), "practitioner": working_practitioner.pk, "find": "Show free times"}
    )
    assert response.status_code == 200
    assert 'value="2027-03-24T09:00Z"' in response.content.decode()
    booked.refresh_from_db()
    assert booked.starts_at == at(TUESDAY, 10)


def test_dragging_onto_a_free_cell_posts_a_time_the_move_form_accepts(client, booked, working_practitioner):
    desk = FrontDeskFactory()
    page = _page(client, desk)
    drop = re.search(
        rf'data-drop-day="(?P<day>[^"]+)" data-drop-practitioner="{working_practitioner.pk}" '
        r'data-drop-slot="(?P<slot>2027-03-23T15:00Z)"',
        page,
    )
    assert drop, "the 15:00 cell is a drop target"
    assert f'data-move-url="{reverse("bookings:staff_appointment_move", args=[booked.pk])}"' in page
    response = client.post(
        reverse("bookings:staff_appointment_move", args=[booked.pk]),
        {"day": drop["day"], "practitioner": working_practitioner.pk, "starts_at": drop["slot"], "move": "Move"},
    )
    assert response.status_code == 302
    booked.refresh_from_db()
    assert booked.starts_at == at(TUESDAY, 15)


def test_a_time_taken_meanwhile_is_refused_with_a_clear_message(client, booked, working_practitioner, wbc):
    client.force_login(FrontDeskFactory())
    url = reverse("bookings:staff_appointment_move", args=[booked.pk])
    other = cleared(PatientFactory())
    appointment_book(patient=other, modality=wbc, starts_at=at(TUESDAY, 14), booked_by=other.user)
    response = client.post(
        url,
        {
            "day": TUESDAY.isoformat(),
            "practitioner": working_practitioner.pk,
            "starts_at": "2027-03-23T14:00Z",
            "move": "Move",
        },
    )
    assert response.status_code == 400
    assert "Select a valid choice" in response.content.decode()
    booked.refresh_from_db()
    assert booked.starts_at == at(TUESDAY, 10)


def test_move_without_a_time_is_a_field_error(client, booked, working_practitioner):
    client.force_login(FrontDeskFactory())
    response = client.post(
        reverse("bookings:staff_appointment_move", args=[booked.pk]),
        {"day": TUESDAY.isoformat(), "practitioner": working_practitioner.pk, "move": "Move"},
    )
    assert response.status_code == 400
    assert "Choose one of the free times" in response.content.decode()


def test_an_outsider_practitioner_cannot_open_the_move_page(client, booked):
    client.force_login(PractitionerFactory().user)
    assert client.get(reverse("bookings:staff_appointment_move", args=[booked.pk])).status_code == 404


def test_a_past_appointment_says_it_cannot_be_moved(client, booked, clock):
    clock.move_to(at(TUESDAY, 12))
    client.force_login(FrontDeskFactory())
    page = client.get(reverse("bookings:staff_appointment_move", args=[booked.pk])).content.decode()
    assert "cannot be moved" in page
    assert 'name="move"' not in page
