"""The front desk registers a phone-only patient, then books them by finding them in the search."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from bookings.models import Appointment
from clinic.models import Patient
from tests.browser.conftest import TABLET
from tests.browser.steps import a_few_days_ahead, choose, day_label, field, open_menu_link, staff_log_in
from tests.factories import FrontDeskFactory, PatientFactory
from tests.screening.factories import screening_cleared

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


@pytest.mark.parametrize("size", ["phone", "tablet"])
def test_desk_registers_a_phone_only_patient_and_books_them_through_the_search(
    visitor_factory, clinic_open_every_day, size
):
    PatientFactory(user__first_name="Nora", user__last_name="Whitfield")  # someone else of a like name
    desk = FrontDeskFactory(first_name="Dana", last_name="Desk")
    visitor = visitor_factory(f"desk-{size}")
    page = visitor.page
    if size == "tablet":
        page.set_viewport_size(TABLET)
    staff_log_in(visitor, user=desk)

    open_menu_link(visitor, "Register a patient")
    expect(page.get_by_role("heading", name="Register a patient")).to_be_visible()
    visitor.check("register-form")
    field(page, "First name").fill("Nell")
    field(page, "Last name").fill("Whitmore")
    field(page, "Date of birth").fill("1962-05-04")
    field(page, "Phone").fill("07911 123555")
    page.get_by_role("button", name="Register the patient").click()
    expect(page.get_by_role("heading", name="Online account for Nell Whitmore")).to_be_visible()
    expect(page.get_by_role("link", name=re.compile("accounts.claim"))).to_be_visible()
    visitor.check("account-link")
    patient = Patient.objects.get(user__last_name="Whitmore")
    assert patient.user.email is None

    # The patient answers the health questions with a practitioner before the first session.
    screening_cleared(patient=patient)

    open_menu_link(visitor, "Phone booking")
    field(page, "Find the patient").fill("whitmore")
    page.get_by_role("button", name="Search").click()
    results = page.get_by_role("list", name="Patients found")
    # The closest match first: on PostgreSQL the search is typo-tolerant, so a similar name may follow.
    expect(results.get_by_role("listitem").first).to_contain_text("Nell Whitmore")
    visitor.check("search-results")
    results.get_by_role("link", name=re.compile("Choose Nell Whitmore")).click()
    expect(page.get_by_role("region", name="The patient")).to_contain_text("Nell Whitmore")
    choose(page, "Treatment", "Acupuncture")
    day = a_few_days_ahead(3)
    field(page, "Week of").fill(day.isoformat())
    page.get_by_role("button", name="Show free times").click()
    visitor.check("free-times")
    card = page.get_by_role("region", name=day_label(day))
    card.get_by_role("button").first.click()
    expect(page.get_by_role("alert").filter(has_text="Booked")).to_contain_text("Nell Whitmore")
    visitor.check("booked")
    assert Appointment.objects.get(patient=patient).created_by == desk
