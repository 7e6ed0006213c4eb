"""Reads other apps rely on (expiring screenings, home card) and the demo data."""

from __future__ import annotations

from datetime import date

import pytest
import time_machine
from django.urls import reverse

from clinic.demo import demo_people_create
from clinic.models import Modality, Patient
from screening.demo import demo_screenings_create
from screening.models import Consent, Submission
from screening.selectors import screening_review_queue, screening_statuses, screenings_expiring
from tests.factories import PASSWORD
from tests.screening.factories import screening_cleared, submission_with_answers

pytestmark = pytest.mark.django_db


def test_screenings_expiring_lists_patient_and_expiry_date_in_the_window(patient, other_patient):
    with time_machine.travel(date(2026, 3, 10)):
        screening_cleared(patient=patient)
    with time_machine.travel(date(2026, 5, 1)):
        screening_cleared(patient=other_patient)

    expiring = screenings_expiring(start=date(2027, 3, 1), end=date(2027, 3, 31))

    assert [(item.patient, item.expires_on) for item in expiring] == [(patient, date(2027, 3, 10))]


def test_reconfirmed_screening_is_not_listed_as_expiring(patient):
    with time_machine.travel(date(2026, 3, 10)):
        screening_cleared(patient=patient)
    with time_machine.travel(date(2027, 2, 20)):
        submission_with_answers(patient=patient)
    assert screenings_expiring(start=date(2027, 3, 1), end=date(2027, 3, 31)) == []


def test_home_card_shows_status_per_treatment(client, patient):
    screening_cleared(patient=patient)
    client.login(email=patient.user.email, password=PASSWORD)
    page = client.get(reverse("home")).content.decode()
    assert "Your health screening" in page
    assert "Ready to book" in page
    assert 'href="/screening/"' in page  # "My screening" in the menu


def test_demo_screenings_clear_pat_sam_and_alex_and_leave_robin_waiting(today):
    people = demo_people_create()
    demo_screenings_create(people=people)
    demo_screenings_create(people=people)  # idempotent

    modalities = list(Modality.objects.active())
    by_email = {p.user.email: p for p in Patient.objects.select_related("user")}
    statuses = screening_statuses(patients=by_email.values(), modalities=modalities, on_date=today)
    for email in ("pat@example.com", "sam@example.com", "alex@example.com"):
        assert all(decision.allowed for decision in statuses[by_email[email].pk].values()), email
    robin = statuses[by_email["robin@example.com"].pk]
    assert {d.status for d in robin.values()} >= {"needs_review"}
    assert Submission.objects.count() == 4
    assert Consent.objects.count() == 4 * len(modalities)
    assert [item.submission.patient.user.email for item in screening_review_queue()] == ["robin@example.com"]
