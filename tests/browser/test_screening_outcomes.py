"""What a patient's health answers mean in the browser: a plain refusal, and a practitioner's review."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from playwright.sync_api import expect

from bookings.models import Appointment
from tests.browser.steps import (
    a_few_days_ahead,
    answer_health_questions,
    choose_first_time_on,
    log_in,
    open_menu_link,
    sign_consent,
    staff_log_in,
)
from tests.factories import PatientFactory, care_team_join

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def _treatment_row(page, name: str):
    return page.locator(".list-group-item").filter(has=page.get_by_role("heading", name=name, exact=True))


def test_patient_with_raynauds_is_told_why_wbc_is_not_possible_and_books_acupuncture(
    visitor_factory, clinic_open_every_day
):
    patient = PatientFactory(user__first_name="Robin", user__last_name="Hale")
    visitor = visitor_factory("patient")
    page = visitor.page

    log_in(visitor, email=patient.user.email)
    page.get_by_role("link", name="See my screening").click()
    page.get_by_role("link", name="Answer the health questions").last.click()
    visitor.check("health-questions")
    answer_health_questions(visitor, date_of_birth=patient.date_of_birth, yes=("Raynaud's syndrome",))

    # The screening page says it plainly, with the reason in the patient's words.
    wbc = _treatment_row(page, "Whole-body cryotherapy")
    expect(wbc.get_by_text("Not suitable for you")).to_be_visible()
    expect(wbc).to_contain_text("Not suitable because you told us you have Raynaud's syndrome")
    expect(_treatment_row(page, "Acupuncture initial consultation")).not_to_contain_text("Not suitable")
    visitor.check("screening-raynauds")

    # Trying to book it anyway shows the same reason, and no times.
    open_menu_link(visitor, "Book")
    visitor.check("choose-treatment")
    wbc_card = page.locator(".card").filter(has=page.get_by_role("heading", name="Whole-body cryotherapy", exact=True))
    expect(wbc_card.get_by_text("Not suitable for you")).to_be_visible()
    wbc_card.get_by_role("link", name="Why not?").click()
    expect(page.get_by_role("heading", name="Before you book Whole-body cryotherapy")).to_be_visible()
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("Not suitable for you")
    expect(alert).to_contain_text("you told us you have Raynaud's syndrome")
    expect(page.get_by_role("link", name="08:00")).to_have_count(0)
    visitor.check("wbc-not-possible")

    # Acupuncture instead: sign its consent form, then book.
    page.get_by_role("link", name="Choose another treatment").click()
    visitor.check("choose-treatment")
    page.locator(".card").filter(
        has=page.get_by_role("heading", name="Acupuncture initial consultation", exact=True)
    ).get_by_role("link", name="What is needed").click()
    expect(page.get_by_role("heading", name="Before you book Acupuncture initial consultation")).to_be_visible()
    expect(page.get_by_role("alert")).to_contain_text("Consent form to sign")
    visitor.check("acupuncture-consent-needed")
    page.get_by_role("link", name="Read and sign the consent form").click()
    page.get_by_label("Type your full name to sign").fill("Robin Hale")
    page.get_by_label("I have read this consent form").check()
    visitor.check("acupuncture-consent")
    page.get_by_role("button", name="Sign the consent form").click()
    expect(page.get_by_text("your consent for acupuncture initial consultation is recorded")).to_be_visible()

    _treatment_row(page, "Acupuncture initial consultation").get_by_role(
        "link", name=re.compile(r"^Book( for |$)")
    ).click()
    expect(page.get_by_role("heading", name="Book Acupuncture initial consultation")).to_be_visible()
    chosen = choose_first_time_on(visitor, day=a_few_days_ahead(), label="acupuncture-free-times")
    visitor.check("confirm-acupuncture")
    page.get_by_role("button", name="Book this time").click()
    expect(page.get_by_text("Your appointment is booked")).to_be_visible()
    expect(page.get_by_text("Acupuncture initial consultation")).to_be_visible()
    visitor.check("acupuncture-booked")

    (appointment,) = Appointment.objects.filter(patient=patient)
    assert appointment.modality.slug == "acupuncture-initial"
    assert chosen in page.locator("main").inner_text()


def test_relative_contraindication_waits_for_review_then_practitioner_clears_and_patient_books(
    visitor_factory, clinic_open_every_day
):
    practitioner = clinic_open_every_day
    patient = PatientFactory(user__first_name="Sam", user__last_name="Okafor")
    patient_visitor = visitor_factory("patient")
    page = patient_visitor.page

    # The patient reports high blood pressure: relative for whole-body cryotherapy.
    log_in(patient_visitor, email=patient.user.email)
    page.get_by_role("link", name="See my screening").click()
    page.get_by_role("link", name="Answer the health questions").last.click()
    answer_health_questions(patient_visitor, date_of_birth=patient.date_of_birth, yes=("high blood pressure",))
    wbc = _treatment_row(page, "Whole-body cryotherapy")
    expect(wbc.get_by_text("Waiting for a practitioner's review")).to_be_visible()
    expect(wbc).to_contain_text("you told us you have high blood pressure")
    patient_visitor.check("screening-waiting")

    patient_visitor.goto("/bookings/book/whole-body-cryotherapy/", "wbc-waiting")
    expect(page.get_by_role("alert")).to_contain_text("Waiting for a practitioner's review")

    # The front desk assigns a practitioner to Sam's care team, who clears it from the review
    # queue (logged in with their second factor): the queue lists only the reviewer's patients.
    care_team_join(patient=patient, practitioner=practitioner)
    staff = visitor_factory("practitioner")
    staff_page = staff.page
    staff_log_in(staff, user=practitioner.user)
    staff.check("practitioner-home")
    staff.goto("/screening/reviews/", "review-queue")
    expect(staff_page.get_by_role("heading", name="Screenings waiting for review")).to_be_visible()
    row = staff_page.get_by_role("row").filter(has_text="Sam Okafor")
    expect(row).to_contain_text("Whole-body cryotherapy")
    row.get_by_role("link", name="Review").click()
    expect(staff_page.get_by_role("heading", name="Screening of Sam Okafor")).to_be_visible()
    decide = staff_page.get_by_role("region", name="Decide: Whole-body cryotherapy")
    staff.check("review")
    decide.get_by_label("Clear").check()
    decide.get_by_label("Note").fill("Blood pressure 128/82 today and well controlled; fine to go ahead.")
    decide.get_by_role("button").click()
    expect(staff_page.get_by_text("Decision recorded; the patient will get an email.")).to_be_visible()
    staff.check("review-recorded")

    # The patient hears by email...
    (email,) = [m for m in mail.outbox if m.to == [patient.user.email] and "screening" in m.subject.lower()]
    assert "cleared" in email.subject
    assert "cleared you for whole-body cryotherapy" in email.body
    assert "well controlled" in email.body

    # ...signs the consent form and books.
    patient_visitor.goto("/screening/", "screening-cleared")
    expect(wbc.get_by_text("Consent form to sign")).to_be_visible()
    sign_consent(patient_visitor, treatment="Whole-body cryotherapy", full_name="Sam Okafor")
    wbc.get_by_role("link", name=re.compile(r"^Book( for |$)")).click()
    choose_first_time_on(patient_visitor, day=a_few_days_ahead(), label="wbc-free-times")
    page.get_by_role("button", name="Book this time").click()
    expect(page.get_by_text("Your appointment is booked")).to_be_visible()
    patient_visitor.check("wbc-booked")
    assert Appointment.objects.filter(patient=patient, modality__slug="whole-body-cryotherapy").count() == 1
