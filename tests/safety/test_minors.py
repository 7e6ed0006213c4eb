"""Issue 16 gap 6: under-18s need a clinician's review and a guardian's consent for every treatment."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from bookings.services.appointments import BookingRefused, appointment_book
from screening.eligibility import GateStatus, NextStep
from screening.models import Consent, ConsentText, Review
from screening.services import consent_sign, review_record, screening_gate
from tests.factories import PatientFactory, care_team_join
from tests.screening.factories import submission_with_answers

GUARDIAN = {"guardian_name": "Maria Jones", "guardian_relationship": "parent", "guardian_signature": "Maria Jones"}


def _born_years_ago(years: int) -> date:
    today = timezone.localdate()
    return today.replace(year=today.year - years) - timedelta(days=30)


@pytest.fixture
def seventeen(db):
    return PatientFactory(date_of_birth=_born_years_ago(17))


def _consent(patient, modality, **guardian):
    text = ConsentText.objects.current().get(modality=modality)
    return consent_sign(
        patient=patient, consent_text=text, typed_name=patient.full_name, agreed=True, by=patient.user, **guardian
    )


def test_a_seventeen_year_old_is_held_for_a_clinicians_review_of_acupuncture(seventeen, acupuncture_initial):
    submission_with_answers(patient=seventeen)
    decision = screening_gate(patient=seventeen, modality=acupuncture_initial, on_date=timezone.localdate())
    assert decision.status == GateStatus.NEEDS_REVIEW
    assert "under 18" in " ".join(decision.reasons)


def test_a_seventeen_year_old_cannot_sign_consent_alone(seventeen, acupuncture_initial):
    with pytest.raises(ValidationError, match="parent or guardian"):
        _consent(seventeen, acupuncture_initial)
    assert not Consent.objects.exists()


def test_a_seventeen_year_old_cannot_book_acupuncture_alone(seventeen, practitioner, acupuncture_initial):
    care_team_join(patient=seventeen, practitioner=practitioner)
    submission = submission_with_answers(patient=seventeen)
    review_record(
        submission=submission, modality=acupuncture_initial, decision=Review.Decision.CLEAR,
        note="Fine with a parent present.", by=practitioner.user,
    )  # fmt: skip
    starts_at = timezone.now() + timedelta(days=3)
    with pytest.raises(BookingRefused, match="parent or guardian"):
        appointment_book(patient=seventeen, modality=acupuncture_initial, starts_at=starts_at, booked_by=seventeen.user)
    decision = screening_gate(patient=seventeen, modality=acupuncture_initial, on_date=timezone.localdate())
    assert decision.status == GateStatus.CONSENT_NEEDED
    assert decision.next_step == NextStep.SIGN_CONSENT


def test_with_review_and_guardian_consent_the_gate_opens(seventeen, practitioner, acupuncture_initial):
    care_team_join(patient=seventeen, practitioner=practitioner)
    submission = submission_with_answers(patient=seventeen)
    review_record(
        submission=submission, modality=acupuncture_initial, decision=Review.Decision.CLEAR,
        note="Fine with a parent present.", by=practitioner.user,
    )  # fmt: skip
    consent = _consent(seventeen, acupuncture_initial, **GUARDIAN)
    assert (consent.guardian_name, consent.guardian_relationship) == ("Maria Jones", "parent")
    assert screening_gate(patient=seventeen, modality=acupuncture_initial, on_date=timezone.localdate()).allowed


def test_the_guardian_signs_with_their_own_name(seventeen, acupuncture_initial):
    with pytest.raises(ValidationError, match="guardian"):
        _consent(seventeen, acupuncture_initial, **(GUARDIAN | {"guardian_signature": "Someone Else"}))


def test_an_adult_signs_alone(patient, acupuncture_initial):
    assert _consent(patient, acupuncture_initial).guardian_name == ""


def test_the_consent_page_asks_a_minor_for_the_guardian(seventeen, acupuncture_initial, client):
    client.force_login(seventeen.user)
    url = reverse("screening:consent", kwargs={"slug": acupuncture_initial.slug})
    page = client.get(url).content.decode()
    assert "Parent or guardian" in page
    response = client.post(url, {"typed_name": seventeen.full_name, "agreed": "on"})
    assert response.status_code == 200
    assert not Consent.objects.exists()
    response = client.post(url, {"typed_name": seventeen.full_name, "agreed": "on", **GUARDIAN})
    assert response.status_code == 302
    assert Consent.objects.get().guardian_name == "Maria Jones"
