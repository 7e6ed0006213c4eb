"""A patient answers the PEG questionnaire on their phone from the emailed link (no login), and
their practitioner sees the score on the chart."""

from __future__ import annotations

import re
from datetime import time

import pytest
from django.core import mail
from django.utils import timezone
from playwright.sync_api import expect

from bookings.models import CarePlan, PlanTemplate
from notifications.models import ReminderSettings
from notifications.tasks import reminders_send_due
from tests.browser.steps import staff_log_in
from tests.factories import PatientFactory, PractitionerFactory, care_team_join
from treatments.followup import questionnaires_plan_due
from treatments.models import QuestionnaireRequest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def test_patient_answers_peg_on_a_phone_from_the_link_and_the_chart_shows_it(visitor_factory, wbc):
    rules = ReminderSettings.load()
    rules.quiet_hours_start = rules.quiet_hours_end = time(0)  # whatever the hour the test runs at
    rules.save()
    patient = PatientFactory(user__first_name="Robin", user__last_name="Ashe")
    practitioner = PractitionerFactory(user__first_name="Freya", user__last_name="Frost", modalities=[wbc])
    care_team_join(patient=patient, practitioner=practitioner)
    CarePlan.objects.create(
        patient=patient,
        template=PlanTemplate.objects.get(family="wbc"),
        start_date=timezone.localdate(),
        assigned_by=practitioner.user,
    )
    questionnaires_plan_due()
    reminders_send_due()
    [message] = [m for m in mail.outbox if "a few questions about your pain" in m.subject]
    path = re.search(r"https?://[^/\s]+(/treatments/q/\S+/)", message.body).group(1)

    visitor = visitor_factory("patient")  # a phone-sized browser, not logged in
    page = visitor.page
    visitor.goto(path, "questionnaire")
    expect(page.get_by_role("heading", name=re.compile("PEG pain scale"))).to_be_visible()
    for number, score in [(1, "6"), (2, "5"), (3, "4")]:
        question = page.get_by_role("group", name=re.compile(rf"^\s*{number}\. What number"))
        question.get_by_label(score, exact=True).check()
    page.get_by_role("button", name="Send my answers").click()
    expect(page.get_by_role("heading", name="Thank you")).to_be_visible()
    expect(page.get_by_text("Your score: 5")).to_be_visible()
    visitor.check("questionnaire-thanks")
    assert QuestionnaireRequest.objects.get().score == 5

    # The link is single-use.
    visitor.goto(path, "questionnaire-used")
    expect(page.get_by_text("already been answered")).to_be_visible()

    staff = visitor_factory("practitioner")
    staff_log_in(staff, user=practitioner.user)
    staff.goto(f"/treatments/patients/{patient.pk}/", "chart")
    expect(staff.page.get_by_role("heading", name="Questionnaires")).to_be_visible()
    expect(staff.page.get_by_role("img", name=re.compile("PEG pain scale"))).to_be_visible()
    expect(staff.page.get_by_role("region", name=re.compile("PEG pain scale.*scores"))).to_contain_text("5")
