"""A patient joins the waitlist, another cancels, the first gets the offer by email and books it (phone size)."""

from __future__ import annotations

import re
from datetime import datetime, time

import pytest
from django.core import mail
from django.utils import timezone
from playwright.sync_api import expect

from bookings.models import Appointment, WaitlistOffer
from bookings.services.appointments import appointment_book
from clinic.models import Modality
from tests.browser.steps import a_few_days_ahead, log_in, open_menu_link
from tests.factories import PatientFactory
from tests.screening.factories import screening_cleared

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def test_waiting_patient_is_offered_a_cancelled_time_by_email_and_books_it(visitor_factory, clinic_open_every_day):
    wbc = Modality.objects.get(slug="whole-body-cryotherapy")
    waiting = PatientFactory(user__first_name="Robin", user__email="robin@example.com")
    holder = PatientFactory(user__first_name="Sasha", user__email="sasha@example.com")
    for patient in (waiting, holder):
        screening_cleared(patient=patient)
    day = a_few_days_ahead()
    starts_at = datetime.combine(day, time(10), tzinfo=timezone.get_current_timezone())
    taken = appointment_book(patient=holder, modality=wbc, starts_at=starts_at, booked_by=holder.user)

    # Robin finds no time that suits and joins the waitlist from the booking page.
    robin = visitor_factory("waiting")
    page = robin.page
    log_in(robin, email="robin@example.com")
    robin.goto(f"/bookings/book/{wbc.slug}/", "free-times")
    page.get_by_role("link", name="Join the waitlist").click()
    expect(page.get_by_role("heading", name="Join the waitlist")).to_be_visible()
    page.get_by_role("checkbox", name=f"{day:%A}").check()
    robin.check("join-form")
    page.get_by_role("button", name="Join the waitlist").click()
    expect(page.get_by_text("You are on the waitlist for Whole-body cryotherapy")).to_be_visible()
    robin.check("on-the-list")

    # Sasha cancels the 10:00 session.
    sasha = visitor_factory("cancelling")
    log_in(sasha, email="sasha@example.com")
    sasha.goto(f"/bookings/appointments/{taken.pk}/cancel/", "cancel")
    sasha.page.get_by_role("button", name="Cancel this appointment").click()
    expect(sasha.page.get_by_text("Your appointment is cancelled.")).to_be_visible()

    # Robin gets the offer by email, opens its link and books the time.
    (offer_email,) = [message for message in mail.outbox if message.to == ["robin@example.com"]]
    assert f"{day:%A} {day.day} {day:%B} at 10:00" in offer_email.subject
    link = re.search(r"https?://[^/\s]+(/bookings/waitlist/offers/\d+/)", offer_email.body).group(1)
    robin.goto(link, "offer")
    expect(page.get_by_role("heading", name="A time has come free")).to_be_visible()
    expect(page.get_by_text("We are holding this time for you")).to_be_visible()
    page.get_by_role("button", name="Book this time").click()
    expect(page.get_by_text("Your appointment is booked")).to_be_visible()
    robin.check("booked")

    booked = Appointment.objects.active().get(starts_at=starts_at)
    assert booked.patient == waiting
    assert WaitlistOffer.objects.get().status == WaitlistOffer.Status.ACCEPTED
    open_menu_link(robin, "Waitlist")
    expect(page.get_by_text("You are not on the waitlist")).to_be_visible()
    robin.check("waitlist-after")
