"""A practitioner's day: logging a session on the chart, and putting a patient on a care plan."""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta

import pytest
import time_machine
from django.utils import timezone
from playwright.sync_api import expect

from bookings.models import Appointment, CarePlan
from bookings.services.appointments import appointment_book
from clinic.models import Modality
from tests.browser.conftest import TABLET
from tests.browser.steps import choose, field, open_menu_link, staff_log_in
from tests.factories import PatientFactory, care_team_join
from tests.screening.factories import screening_cleared
from treatments.models import SessionLog

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


@pytest.fixture(autouse=True)
def _at_midday_today():
    """The journeys log a session that began this morning: at 03:00 it would not have started yet
    (and is refused, rightly), so the clinic's clock (live server included) reads today's midday."""
    midday = datetime.combine(timezone.localdate(), time(12), tzinfo=timezone.get_current_timezone())
    with time_machine.travel(midday, tick=True):
        yield


def _booked_earlier_for_today(*, patient, practitioner, modality: Modality, at: time) -> Appointment:
    """An appointment today, booked (through the booking service) two days ago, as patients do."""
    today = timezone.localdate()
    starts_at = datetime.combine(today, at, tzinfo=timezone.get_current_timezone())
    with time_machine.travel(timezone.now() - timedelta(days=2)):
        screening_cleared(patient=patient)
        return appointment_book(patient=patient, modality=modality, starts_at=starts_at, booked_by=patient.user)


def test_practitioner_logs_wbc_session_from_day_page_and_chart_shows_pain_7_to_4(
    visitor_factory, clinic_open_every_day, wbc
):
    practitioner = clinic_open_every_day
    patient = PatientFactory(user__first_name="Jordan", user__last_name="Blake")
    appointment = _booked_earlier_for_today(patient=patient, practitioner=practitioner, modality=wbc, at=time(9))

    visitor = visitor_factory("practitioner")
    page = visitor.page
    staff_log_in(visitor, user=practitioner.user)
    expect(page.get_by_text("Jordan Blake")).to_be_visible()
    visitor.check("home-today")

    page.get_by_role("link", name="Open today's day page").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(f"{timezone.localdate():%A}")
    entry = page.get_by_role("listitem").filter(has_text="Jordan Blake")
    expect(entry).to_contain_text("09:00")
    expect(entry).to_contain_text("Whole-body cryotherapy")
    visitor.check("day")
    entry.get_by_role("link", name="Log session").click()
    expect(page.get_by_role("heading", name="Log session")).to_be_visible()
    visitor.check("log-form")

    page.get_by_role("group", name=re.compile("Pain before")).get_by_label("7", exact=True).check()
    page.get_by_role("group", name=re.compile("Pain after")).get_by_label("4", exact=True).check()
    page.get_by_role("group", name=re.compile("Pain location")).get_by_role("radio").first.check()
    field(page, "Chamber temperature (°C)").fill("-125")
    field(page, "Exposure (seconds)").fill("600")  # ten minutes: impossible in a chamber
    page.get_by_label(re.compile("Systolic", re.IGNORECASE)).fill("128")
    page.get_by_label(re.compile("Diastolic", re.IGNORECASE)).fill("82")
    page.get_by_label("Go: the patient confirms nothing has changed").check()
    page.get_by_role("button", name="Save and sign").click()

    error = page.get_by_text("An exposure of 600 seconds is outside this treatment's 60-180 seconds")
    expect(error).to_be_visible()
    # The form is long on a phone: the top of the page says something needs correcting.
    expect(page.get_by_role("alert").filter(has_text="Nothing was saved")).to_be_in_viewport()
    visitor.check("log-refused-exposure")
    assert not SessionLog.objects.exists()

    field(page, "Exposure (seconds)").fill("150")
    page.get_by_role("button", name="Save and sign").click()
    expect(page.get_by_text("Session logged and signed.")).to_be_visible()
    visitor.check("log-signed")

    page.get_by_role("link", name="Jordan Blake").first.click()
    expect(page.get_by_role("heading", name="Jordan Blake", level=1)).to_be_visible()
    sessions = page.get_by_role("table").filter(has_text="Pain before")
    expect(sessions).to_contain_text("7 → 4")
    expect(page.get_by_role("img", name=re.compile("pain before and after"))).to_be_visible()
    visitor.check("chart")

    log = SessionLog.objects.get()
    assert (log.appointment_id, log.pain_before, log.pain_after, log.exposure_seconds) == (appointment.pk, 7, 4, 150)


def test_practitioner_logs_acupuncture_session_on_a_tablet_and_chart_shows_it(
    visitor_factory, clinic_open_every_day, acupuncture_follow_up
):
    practitioner = clinic_open_every_day
    patient = PatientFactory(user__first_name="Robin", user__last_name="Ashe")
    appointment = _booked_earlier_for_today(
        patient=patient, practitioner=practitioner, modality=acupuncture_follow_up, at=time(11)
    )

    visitor = visitor_factory("practitioner")
    page = visitor.page
    staff_log_in(visitor, user=practitioner.user)
    page.set_viewport_size(TABLET)
    page.get_by_role("link", name="Open today's day page").click()
    entry = page.get_by_role("listitem").filter(has_text="Robin Ashe")
    expect(entry).to_contain_text("Acupuncture follow-up")
    entry.get_by_role("link", name="Log session").click()
    expect(page.get_by_role("heading", name="Log session")).to_be_visible()
    visitor.check("acupuncture-log-form")

    page.set_viewport_size(TABLET)
    page.get_by_role("group", name=re.compile("Pain before")).get_by_label("6", exact=True).check()
    page.get_by_role("group", name=re.compile("Pain after")).get_by_label("3", exact=True).check()
    page.get_by_role("group", name=re.compile("Pain location")).get_by_role("radio").first.check()
    page.get_by_label(re.compile("Points used", re.IGNORECASE)).fill("BL23, BL25, GB30")
    page.get_by_label(re.compile("needles", re.IGNORECASE)).fill("8")
    field(page, "Needle retention (minutes)").fill("25")
    page.get_by_role("button", name="Save and sign").click()
    expect(page.get_by_text("Session logged and signed.")).to_be_visible()
    visitor.check("acupuncture-log-signed")

    page.get_by_role("link", name="Robin Ashe").first.click()
    sessions = page.get_by_role("table").filter(has_text="Pain before")
    expect(sessions).to_contain_text("6 → 3")
    visitor.check("acupuncture-chart")

    log = SessionLog.objects.get()
    assert (log.appointment_id, log.needle_count, log.exposure_seconds) == (appointment.pk, 8, 25 * 60)
    appointment.refresh_from_db()
    assert appointment.status == Appointment.Status.ATTENDED


def test_practitioner_puts_patient_on_acupuncture_plan_and_books_initial_phase_weekly(
    visitor_factory, clinic_open_every_day
):
    practitioner = clinic_open_every_day
    patient = PatientFactory(user__first_name="Casey", user__last_name="Lin")
    screening_cleared(patient=patient)
    # The front desk put the practitioner on Casey's care team; only then may they plan Casey's care.
    care_team_join(patient=patient, practitioner=practitioner)
    first_day = timezone.localdate() + timedelta(days=2)

    visitor = visitor_factory("practitioner")
    page = visitor.page
    staff_log_in(visitor, user=practitioner.user)
    open_menu_link(visitor, "Care plans")
    expect(page.get_by_role("heading", level=1)).to_contain_text(re.compile("care plans", re.IGNORECASE))
    visitor.check("plans")
    page.get_by_role("link", name="Put a patient on a plan").click()
    expect(page.get_by_role("heading", name="Put a patient on a care plan")).to_be_visible()
    visitor.check("plan-form")
    # The patient is found through the patient search (never a list of every patient).
    field(page, "Find the patient").fill("Casey Lin")
    page.get_by_role("button", name="Search").click()
    page.get_by_role("list", name="Patients found").get_by_role("link", name=re.compile("Choose Casey Lin")).click()
    choose(page, "Plan", "Acupuncture")
    field(page, "Start date").fill(first_day.isoformat())
    field(page, "Notes").fill("Chronic low back pain; acupuncture course agreed.")
    page.get_by_role("button", name="Start the plan").click()
    expect(page.get_by_text(re.compile("Casey Lin is on .Acupuncture"))).to_be_visible()
    visitor.check("plan-started")

    page.get_by_role("link", name="Book a phase as a series").click()
    expect(page.get_by_role("heading", name="Book a phase as a series")).to_be_visible()
    visitor.check("series-form")
    choose(page, "Phase", "Initial phase")
    field(page, "From").fill(first_day.isoformat())
    choose(page, "Weekday", f"{first_day:%A}")
    field(page, "Time").fill("10:00")
    field(page, "Number of sessions").fill("6")
    field(page, "Days between sessions").fill("7")
    page.get_by_role("button", name="Book the series").click()

    rows = page.get_by_role("row").filter(has=page.get_by_text("booked", exact=True))
    expect(rows).to_have_count(6)
    expect(page.get_by_text("unavailable")).to_have_count(0)
    visitor.check("series-booked")

    plan = CarePlan.objects.get(patient=patient)
    assert plan.template.family == "acupuncture"
    starts = [
        timezone.localtime(a.starts_at)
        for a in Appointment.objects.filter(patient=patient, status=Appointment.Status.BOOKED).order_by("starts_at")
    ]
    assert [s.date() for s in starts] == [first_day + timedelta(weeks=n) for n in range(6)]
    assert {s.time() for s in starts} == {time(10)}
