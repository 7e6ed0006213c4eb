"""Reminders: what the admin sees of them, and the upcoming-appointment email the Celery task sends."""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta

import pytest
import time_machine
from django.conf import settings
from django.core import mail
from django.core.management import call_command
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import expect

from bookings.models import Appointment
from bookings.services.appointments import appointment_book
from bookings.services.reminders import BookingMessage
from clinic.two_factor import two_factor_enrolment_send
from notifications import tasks
from notifications.models import Reminder
from tests.browser.steps import (
    a_few_days_ahead,
    choose_first_time_on,
    field,
    log_in,
    open_menu_link,
    totp_code,
)
from tests.factories import AdminFactory, PatientFactory
from tests.screening.factories import screening_cleared

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def test_admin_sets_up_two_factor_then_opens_reminder_log_and_beat_schedules(
    visitor_factory, clinic_open_every_day, wbc
):
    call_command("beat_schedules_install", verbosity=0)
    patient = PatientFactory(user__first_name="Avery", user__last_name="Quinn")
    screening_cleared(patient=patient)
    day = a_few_days_ahead()
    appointment_book(
        patient=patient,
        modality=wbc,
        starts_at=datetime.combine(day, time(11), tzinfo=timezone.get_current_timezone()),
        booked_by=patient.user,
    )
    admin_user = AdminFactory(first_name="Dana", last_name="Price")
    # Another admin emails Dana a one-time enrolment link: a password alone never enrols a phone.
    two_factor_enrolment_send(user=admin_user, actor=AdminFactory())
    (message,) = [m for m in mail.outbox if admin_user.email in m.to]
    enrolment_path = re.search(r"https?://[^/\s]+(/\S+)", message.body).group(1)

    visitor = visitor_factory("admin")
    page = visitor.page
    # First login of an admin: the second factor is required, and they set it up from the link.
    log_in(visitor, email=admin_user.email)
    expect(page.get_by_role("heading", name="Ask an admin for an enrolment link")).to_be_visible()
    visitor.goto(enrolment_path, "two-factor-enrol")
    expect(page.get_by_role("heading", name="Set up two-factor authentication")).to_be_visible()
    expect(page.get_by_role("img", name=re.compile("QR code"))).to_be_visible()
    visitor.check("two-factor-setup")
    device = TOTPDevice.objects.get(user=admin_user, confirmed=False)
    field(page, "Code").fill(totp_code(device))
    page.get_by_role("button", name="Turn on two-factor authentication").click()
    expect(page.get_by_role("heading", name="Your recovery codes")).to_be_visible()
    expect(page.locator(".recovery-code")).to_have_count(settings.CLINIC_RECOVERY_CODE_COUNT)
    visitor.check("recovery-codes")
    page.get_by_role("link", name="I have saved them").click()
    expect(page.get_by_role("heading", name="Hello, Dana")).to_be_visible()

    # The Django admin, from the menu.
    open_menu_link(visitor, "Admin")
    expect(page.get_by_role("heading", name="What would you like to manage?")).to_be_visible()
    visitor.check("admin-index")

    page.get_by_role("link", name="Reminders", exact=True).click()
    expect(page.get_by_role("heading", name=re.compile("reminder", re.IGNORECASE)).first).to_be_visible()
    results = page.locator("#result_list")
    expect(results).to_contain_text("Booking confirmed")
    expect(results).to_contain_text("Upcoming appointment")
    expect(results).to_contain_text("Avery Quinn")
    visitor.check("admin-reminder-log")

    page.get_by_role("link", name="Home", exact=True).click()
    page.get_by_role("link", name="Periodic tasks", exact=True).click()
    tasks_table = page.locator("#result_list")
    expect(tasks_table).to_contain_text("reminders: plan due reminders")
    expect(tasks_table).to_contain_text("reminders: send due reminders")
    visitor.check("admin-beat-schedules")
    # (Not opened: Django's own split date/time widget on a periodic task's change page has
    # unlabelled inputs, a critical axe finding outside this project's templates.)
    expect(tasks_table).to_contain_text("every 60 seconds")


def test_upcoming_appointment_reminder_is_sent_by_the_celery_task_and_links_to_the_booking(
    visitor_factory, clinic_open_every_day
):
    patient = PatientFactory(user__first_name="Riley", user__last_name="Evans")
    screening_cleared(patient=patient)
    visitor = visitor_factory("patient")
    page = visitor.page

    log_in(visitor, email=patient.user.email)
    visitor.goto("/bookings/book/whole-body-cryotherapy/", "wbc-free-times-this-week")
    choose_first_time_on(visitor, day=a_few_days_ahead(), label="wbc-free-times")
    page.get_by_role("button", name="Book this time").click()
    expect(page.get_by_text("Your appointment is booked")).to_be_visible()
    appointment = Appointment.objects.get(patient=patient)
    reminder = Reminder.objects.get(appointment=appointment, kind=BookingMessage.UPCOMING_APPOINTMENT)
    assert reminder.state == Reminder.State.PENDING
    mail.outbox.clear()

    # Not yet: the beat task finds nothing due a day before the reminder time.
    with time_machine.travel(reminder.next_attempt_at - timedelta(days=1)):
        tasks.reminders_send_due.delay()
    assert mail.outbox == []

    # At the reminder time the beat task hands it to reminder_send, which sends it (eager Celery).
    with time_machine.travel(reminder.next_attempt_at + timedelta(minutes=1)):
        tasks.reminders_send_due.delay()
        tasks.reminders_send_due.delay()  # a second beat run sends nothing twice
    (email,) = mail.outbox
    starts_at = timezone.localtime(appointment.starts_at)
    assert email.to == [patient.user.email]
    assert "Whole-body cryotherapy" in email.subject or "whole-body cryotherapy" in email.body.lower()
    assert f"{starts_at:%H:%M}" in email.body
    assert str(starts_at.day) in email.body
    assert any(name == "appointment.ics" for name, _content, _type in email.attachments)
    reminder.refresh_from_db()
    assert reminder.state == Reminder.State.SENT

    # The link in the email opens the booking.
    link = re.search(rf"{re.escape(settings.SITE_URL)}(/\S*)", email.body)
    assert link, email.body
    visitor.goto(link.group(1), "email-link")
    expect(page.get_by_role("heading", name="Your appointment")).to_be_visible()
    expect(page.get_by_text("Whole-body cryotherapy")).to_be_visible()
