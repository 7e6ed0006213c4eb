"""The front desk moves an appointment on the staff calendar; the patient's page and the outbox show it."""

from __future__ import annotations

from datetime import datetime, time

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from bookings.forms import slot_value
from bookings.models import Appointment
from bookings.services.appointments import appointment_book
from bookings.services.reminders import BookingMessage
from notifications.models import Reminder
from tests.browser.steps import a_few_days_ahead, field, log_in, open_menu_link, staff_log_in
from tests.factories import FrontDeskFactory, PatientFactory
from tests.screening.factories import screening_cleared

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

TABLET_LANDSCAPE = {"width": 1024, "height": 768}


def _booked(*, wbc, hour: int) -> Appointment:
    patient = PatientFactory(user__first_name="Sam", user__last_name="Rivera")
    screening_cleared(patient=patient)
    starts_at = datetime.combine(a_few_days_ahead(), time(hour), tzinfo=timezone.get_current_timezone())
    return appointment_book(patient=patient, modality=wbc, starts_at=starts_at, booked_by=patient.user)


def _changed(appointment: Appointment) -> list[Reminder]:
    return list(Reminder.objects.filter(appointment=appointment, kind=BookingMessage.BOOKING_CHANGED))


def _open_calendar_on(visitor, day) -> None:
    page = visitor.page
    open_menu_link(visitor, "Calendar")
    field(page, "Date").fill(day.isoformat())
    page.get_by_role("button", name="Show", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(f"{day:%A} {day.day} {day:%B}")


@pytest.mark.parametrize("size", ["tablet", "phone"])
def test_desk_moves_an_appointment_with_the_plain_form_and_the_patient_sees_it(
    visitor_factory, clinic_open_every_day, wbc, size
):
    appointment = _booked(wbc=wbc, hour=10)
    day = a_few_days_ahead()
    desk = visitor_factory(f"desk-{size}")
    page = desk.page
    if size == "tablet":
        page.set_viewport_size(TABLET_LANDSCAPE)
    staff_log_in(desk, user=FrontDeskFactory())
    _open_calendar_on(desk, day)
    entry = page.locator(".calendar-entry[data-move-url]").filter(has_text="Sam Rivera")
    expect(entry).to_contain_text("10:00")
    expect(entry).to_contain_text("Whole-body cryotherapy")
    desk.check("calendar")

    entry.get_by_role("link", name="Move").click()
    expect(page.get_by_role("heading", name="Move an appointment")).to_be_visible()
    desk.check("move-form")
    page.get_by_role("radio", name="14:00").check()
    page.get_by_role("button", name="Move appointment").click()
    expect(page.get_by_role("alert").filter(has_text="Moved Whole-body cryotherapy for Sam Rivera")).to_be_visible()
    expect(page.locator(".calendar-entry[data-move-url]").filter(has_text="Sam Rivera")).to_contain_text("14:00")
    desk.check("moved")

    appointment.refresh_from_db()
    assert timezone.localtime(appointment.starts_at).time() == time(14)
    assert len(_changed(appointment)) == 1

    patient = visitor_factory(f"patient-{size}")
    log_in(patient, email=appointment.patient.user.email)
    patient.goto("/bookings/", "my-appointments")
    expect(patient.page.get_by_role("heading", name="My appointments")).to_be_visible()
    expect(patient.page.get_by_text("14:00").first).to_be_visible()


def test_desk_drags_an_appointment_to_a_free_time(visitor_factory, clinic_open_every_day, wbc):
    appointment = _booked(wbc=wbc, hour=10)
    day = a_few_days_ahead()
    desk = visitor_factory("desk-drag")
    page = desk.page
    page.set_viewport_size(TABLET_LANDSCAPE)
    staff_log_in(desk, user=FrontDeskFactory())
    page.set_viewport_size(TABLET_LANDSCAPE)
    _open_calendar_on(desk, day)
    expect(page.get_by_text("Drag an appointment onto a free time")).to_be_visible()

    target_time = datetime.combine(day, time(15), tzinfo=timezone.get_current_timezone())
    target = page.locator(
        f'td[data-drop-practitioner="{clinic_open_every_day.pk}"][data-drop-slot="{slot_value(target_time)}"]'
    )
    # The drag as the page's script receives it (headless Chromium starts no native drag from a mouse).
    entry = page.locator(".calendar-entry[data-move-url]").filter(has_text="Sam Rivera")
    data_transfer = page.evaluate_handle("() => new DataTransfer()")
    entry.dispatch_event("dragstart", {"dataTransfer": data_transfer})
    target.dispatch_event("dragover", {"dataTransfer": data_transfer})
    target.dispatch_event("drop", {"dataTransfer": data_transfer})
    expect(page.get_by_role("alert").filter(has_text="Moved Whole-body cryotherapy for Sam Rivera")).to_be_visible()
    desk.check("dragged")
    appointment.refresh_from_db()
    assert timezone.localtime(appointment.starts_at).time() == time(15)
    assert len(_changed(appointment)) == 1
