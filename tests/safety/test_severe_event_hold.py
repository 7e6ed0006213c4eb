"""Issue 16 gap 5: a severe adverse event holds further bookings of that treatment until a clinician reviews it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from bookings.services.appointments import BookingRefused
from clinic.models import AuditEvent
from notifications.models import Reminder
from screening.eligibility import GateStatus, NextStep
from screening.models import Review, TreatmentHold
from screening.services import review_record, screening_gate
from tests.factories import care_team_join
from tests.screening.factories import screening_cleared
from tests.treatments.factories import session_logged

SEVERE = [{"kind": "frostbite", "severity": "severe", "action_taken": "Session stopped, sent to A&E"}]


@pytest.fixture
def cleared(patient, practitioner):
    care_team_join(patient=patient, practitioner=practitioner)
    return screening_cleared(patient=patient)


def test_a_severe_event_holds_that_treatment_and_says_why(cleared, patient, practitioner, localized_cryo, wbc):
    session_logged(patient=patient, practitioner=practitioner, modality=localized_cryo, adverse_events=SEVERE)
    decision = screening_gate(patient=patient, modality=localized_cryo, on_date=timezone.localdate())
    assert not decision.allowed
    assert decision.status == GateStatus.NEEDS_REVIEW
    assert decision.next_step == NextStep.AWAIT_REVIEW
    assert "severe reaction" in " ".join(decision.reasons)
    # Other treatments are not held by it.
    assert screening_gate(patient=patient, modality=wbc, on_date=timezone.localdate()).allowed


def test_a_held_treatment_cannot_be_booked(cleared, patient, practitioner, localized_cryo):
    from bookings.services.appointments import appointment_book

    session_logged(patient=patient, practitioner=practitioner, modality=localized_cryo, adverse_events=SEVERE)
    starts_at = timezone.now() + timedelta(days=3)
    with pytest.raises(BookingRefused, match="severe reaction"):
        appointment_book(patient=patient, modality=localized_cryo, starts_at=starts_at, booked_by=patient.user)


def test_the_patient_is_told_to_stop_and_seek_care(
    cleared, patient, practitioner, localized_cryo, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        session_logged(patient=patient, practitioner=practitioner, modality=localized_cryo, adverse_events=SEVERE)
    message = Reminder.objects.get(kind="treatment_hold", patient=patient)
    assert message.state == Reminder.State.SENT
    email = next(m for m in mail.outbox if "localized cryotherapy" in m.subject.lower())
    assert "seek medical attention" in email.body
    assert "Frostbite" in email.body


def test_a_mild_event_changes_nothing(cleared, patient, practitioner, localized_cryo):
    mild = [{"kind": "redness", "severity": "mild", "action_taken": "Observed"}]
    session_logged(patient=patient, practitioner=practitioner, modality=localized_cryo, adverse_events=mild)
    assert screening_gate(patient=patient, modality=localized_cryo, on_date=timezone.localdate()).allowed
    assert not TreatmentHold.objects.exists()


def test_a_clinicians_clearance_lifts_the_hold_and_is_audited(cleared, patient, practitioner, localized_cryo):
    session_logged(patient=patient, practitioner=practitioner, modality=localized_cryo, adverse_events=SEVERE)
    review = review_record(
        submission=cleared, modality=localized_cryo, decision=Review.Decision.CLEAR,
        note="Skin healed; resume with a shorter exposure.", by=practitioner.user,
    )  # fmt: skip
    hold = TreatmentHold.objects.get()
    assert hold.lifted_by == practitioner.user
    assert hold.lifted_by_review == review
    assert screening_gate(patient=patient, modality=localized_cryo, on_date=timezone.localdate()).allowed
    assert AuditEvent.objects.filter(description__contains="hold lifted", patient=patient).exists()


def test_a_decline_keeps_the_hold(cleared, patient, practitioner, localized_cryo):
    session_logged(patient=patient, practitioner=practitioner, modality=localized_cryo, adverse_events=SEVERE)
    review_record(
        submission=cleared, modality=localized_cryo, decision=Review.Decision.DECLINE,
        note="Not again after frostbite.", by=practitioner.user,
    )  # fmt: skip
    assert not screening_gate(patient=patient, modality=localized_cryo, on_date=timezone.localdate()).allowed
    assert TreatmentHold.objects.get().lifted_at is None


def test_the_held_treatment_waits_in_the_review_queue(cleared, patient, practitioner, localized_cryo):
    from screening.selectors import screening_modalities_awaiting_review

    session_logged(patient=patient, practitioner=practitioner, modality=localized_cryo, adverse_events=SEVERE)
    assert localized_cryo in screening_modalities_awaiting_review(patient=patient)


def test_an_amendment_that_adds_a_severe_event_holds_too(cleared, patient, practitioner, localized_cryo):
    from treatments.services import session_log_update

    log = session_logged(patient=patient, practitioner=practitioner, modality=localized_cryo)
    session_log_update(log=log, by=practitioner.user, values={}, adverse_events=SEVERE, reason="Blistering next day")
    assert TreatmentHold.objects.filter(family=localized_cryo.kind, lifted_at__isnull=True).exists()


def test_the_chart_shows_the_hold(cleared, patient, practitioner, localized_cryo, practitioner_client):
    session_logged(patient=patient, practitioner=practitioner, modality=localized_cryo, adverse_events=SEVERE)
    page = practitioner_client.get(reverse("treatments:patient_chart", args=[patient.pk])).content.decode()
    assert "severe reaction" in page
