"""The screening gate reads what it needs in a fixed, small number of queries: for one patient
(the booking path) and for a whole page of patients (``screening_statuses``)."""

from __future__ import annotations

from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from clinic.models import Modality, Patient
from screening.selectors import screening_statuses
from screening.services import review_record, screening_gate
from tests.factories import PatientFactory, care_team_join
from tests.screening.factories import consents_signed, screening_cleared, submission_with_answers

pytestmark = pytest.mark.django_db


def _mixed_patients(count: int, *, reviewer) -> list[Patient]:
    """Cleared, unscreened, held for review and cleared by review, in turn, each with two screenings."""
    patients = []
    for index in range(count):
        patient = PatientFactory()
        kind = index % 4
        if kind == 0:
            screening_cleared(patient=patient)
            screening_cleared(patient=patient)
        elif kind in (2, 3):
            submission_with_answers(patient=patient, yes=["high-blood-pressure"])
            submission = submission_with_answers(patient=patient, yes=["high-blood-pressure", "pregnancy"])
            consents_signed(patient=patient)
            if kind == 3:
                wbc = Modality.objects.get(slug="whole-body-cryotherapy")
                care_team_join(patient=patient, practitioner=reviewer.practitioner)
                review_record(submission=submission, modality=wbc, decision="clear", note="Seen.", by=reviewer)
        patients.append(patient)
    return patients


def _statuses_queries(patients: list[Patient], modalities: list[Modality], on_date: date) -> tuple[int, dict]:
    with CaptureQueriesContext(connection) as captured:
        statuses = screening_statuses(patients=patients, modalities=modalities, on_date=on_date)
    return len(captured), statuses


def test_screening_statuses_takes_the_same_few_queries_for_two_patients_or_twenty(practitioner) -> None:
    modalities = list(Modality.objects.active())
    today = timezone.localdate()
    few, _ = _statuses_queries(_mixed_patients(4, reviewer=practitioner.user), modalities, today)
    many_patients = _mixed_patients(20, reviewer=practitioner.user)
    many, many_statuses = _statuses_queries(many_patients, modalities, today)
    assert few == many <= 4
    assert len(many_statuses) == 20
    # The batch answers what the one-patient gate answers.
    for patient in many_patients[:8]:
        for modality in modalities:
            assert many_statuses[patient.pk][modality.pk] == screening_gate(
                patient=patient, modality=modality, on_date=today
            )


def test_the_gate_for_one_patient_takes_at_most_four_queries_however_many_screenings(
    patient, practitioner, wbc
) -> None:
    today = timezone.localdate()
    consents_signed(patient=patient, modalities=[wbc])
    counts = []
    for note in ("Controlled on medication.", "Still controlled.", "Re-checked."):
        submission = submission_with_answers(patient=patient, yes=["high-blood-pressure"])
        review_record(submission=submission, modality=wbc, decision="clear", note=note, by=practitioner.user)
        with CaptureQueriesContext(connection) as captured:
            decision = screening_gate(patient=patient, modality=wbc, on_date=today)
        assert decision.allowed, decision
        counts.append(len(captured))
    assert counts == [counts[0]] * 3, counts
    assert counts[0] <= 4, counts


def test_a_cleared_patient_without_contraindications_passes_the_gate_in_three_queries(patient, wbc) -> None:
    screening_cleared(patient=patient)
    with CaptureQueriesContext(connection) as captured:
        decision = screening_gate(patient=patient, modality=wbc, on_date=timezone.localdate())
    assert decision.allowed
    assert len(captured) == 3, [query["sql"] for query in captured.captured_queries]
