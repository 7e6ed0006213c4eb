"""A new patient from sign-up to a booked (and cancelled) whole-body cryotherapy session."""

from __future__ import annotations

import re
from datetime import date

import pytest
from django.core import mail
from django.utils import timezone
from icalendar import Calendar
from playwright.sync_api import expect

from bookings.models import Appointment
from tests.browser.steps import (
    a_few_days_ahead,
    answer_health_questions,
    choose_first_time_on,
    confirm_email,
    field,
    sign_consent,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

PASSWORD = "a-long-unusual-passphrase"


def _attachment(message, filename: str) -> bytes:
    for name, content, _mimetype in message.attachments:
        if name == filename:
            return content if isinstance(content, bytes) else content.encode()
    raise AssertionError(f"no {filename} attached to {message.subject!r}")


def test_new_patient_registers_screens_consents_books_wbc_gets_ics_and_cancels(visitor_factory, clinic_open_every_day):
    visitor = visitor_factory("patient")
    page = visitor.page

    # Sign up.
    visitor.goto("/")
    page.get_by_role("link", name="Create an account").click()
    visitor.check("register")
    field(page, "First name").fill("Morgan")
    field(page, "Last name").fill("Reyes")
    field(page, "Email").fill("morgan@example.com")
    field(page, "Date of birth").fill("1984-05-06")
    field(page, "Phone").fill("+44 7911 123555")
    field(page, "Password").fill(PASSWORD)
    field(page, "Password again").fill(PASSWORD)
    page.get_by_role("button", name="Create my account").click()
    confirm_email(visitor, email="morgan@example.com")
    expect(page.get_by_role("heading", name="Hello, Morgan")).to_be_visible()
    visitor.check("home-new-patient")

    # Health questions: nothing that rules anything out.
    page.get_by_role("link", name="See my screening").click()
    expect(page.get_by_role("heading", name="My health screening")).to_be_visible()
    visitor.check("screening-empty")
    page.get_by_role("link", name="Answer the health questions").last.click()
    visitor.check("health-questions")
    answer_health_questions(visitor, date_of_birth=date(1984, 5, 6))
    expect(page.get_by_text("Thank you, your answers are saved")).to_be_visible()
    visitor.check("screening-answered")

    # Consent, then whole-body cryotherapy is ready to book.
    sign_consent(visitor, treatment="Whole-body cryotherapy", full_name="Morgan Reyes")
    wbc_row = page.locator(".list-group-item").filter(
        has=page.get_by_role("heading", name="Whole-body cryotherapy", exact=True)
    )
    expect(wbc_row.get_by_text("Ready to book")).to_be_visible()
    visitor.check("screening-consented")

    # Book the first free time a few days ahead.
    wbc_row.get_by_role("link", name=re.compile(r"^Book( for |$)")).click()
    expect(page.get_by_role("heading", name="Book Whole-body cryotherapy")).to_be_visible()
    day = a_few_days_ahead()
    chosen = choose_first_time_on(visitor, day=day, label="wbc-free-times")
    expect(page.get_by_role("heading", name="Confirm your booking")).to_be_visible()
    expect(page.get_by_text(chosen).first).to_be_visible()
    visitor.check("confirm-booking")
    page.get_by_role("button", name="Book this time").click()
    expect(page.get_by_text("Your appointment is booked")).to_be_visible()
    visitor.check("booked")

    appointment = Appointment.objects.get(patient__user__email="morgan@example.com")
    starts_at = timezone.localtime(appointment.starts_at)
    assert starts_at.date() == day
    assert f"{starts_at:%H:%M}" == chosen

    # It is listed under "My appointments".
    page.get_by_role("link", name="All my appointments").click()
    expect(page.get_by_role("heading", name="My appointments")).to_be_visible()
    upcoming = page.get_by_role("listitem").filter(has_text="Whole-body cryotherapy")
    expect(upcoming).to_have_count(1)
    expect(upcoming).to_contain_text(f"{starts_at:%a} {starts_at.day} {starts_at:%b %Y, %H:%M}")
    visitor.check("my-appointments")

    # The confirmation email carries the appointment as an .ics file.
    confirmations = [m for m in mail.outbox if m.to == ["morgan@example.com"] and "ics" in str(m.attachments)]
    assert len(confirmations) == 1, [m.subject for m in mail.outbox]
    calendar = Calendar.from_ical(_attachment(confirmations[0], "appointment.ics"))
    (event,) = calendar.walk("VEVENT")
    assert event.decoded("DTSTART") == appointment.starts_at
    assert event.decoded("DTEND") == appointment.ends_at
    assert "Whole-body cryotherapy" in str(event.get("SUMMARY"))

    # Cancel it.
    upcoming.get_by_role("link", name="Cancel").click()
    expect(page.get_by_role("heading", name="Cancel or move your appointment")).to_be_visible()
    visitor.check("cancel")
    page.get_by_role("button", name="Cancel this appointment").click()
    expect(page.get_by_text("Your appointment is cancelled.")).to_be_visible()
    expect(page.get_by_role("table")).to_contain_text("Cancelled")
    expect(page.get_by_text("Nothing booked.")).to_be_visible()
    visitor.check("after-cancel")
    appointment.refresh_from_db()
    assert appointment.status == Appointment.Status.CANCELLED
    assert any("cancel" in m.subject.lower() for m in mail.outbox if m.to == ["morgan@example.com"])
