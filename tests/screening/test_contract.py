"""The gate contract that bookings rely on."""

from __future__ import annotations

import pytest
from django.utils import timezone

from screening.eligibility import NextStep
from screening.selectors import screening_statuses
from screening.services import ScreeningRefused, screening_gate, screening_require_cleared
from screening.templatetags.screening import gate_next_step_url
from tests.screening.factories import screening_cleared, submission_with_answers


@pytest.mark.django_db
def test_patient_with_no_screening_is_sent_to_the_questions(patient, wbc):
    decision = screening_gate(patient=patient, modality=wbc, on_date=timezone.localdate())
    assert not decision.allowed
    assert decision.status == "not_screened"
    assert decision.next_step == NextStep.ANSWER_QUESTIONS
    assert gate_next_step_url(decision) == "/screening/questions/"


@pytest.mark.django_db
def test_cleared_patient_passes_the_gate_for_every_modality(patient, wbc, localized_cryo, acupuncture_initial):
    screening_cleared(patient=patient)
    today = timezone.localdate()
    for modality in (wbc, localized_cryo, acupuncture_initial):
        decision = screening_require_cleared(patient=patient, modality=modality, on_date=today)
        assert decision.allowed
        assert decision.status == "eligible"
        assert decision.expires_on is not None
        assert decision.expires_on > today


@pytest.mark.django_db
def test_require_cleared_raises_with_reason_for_absolute_contraindication(patient, wbc):
    submission_with_answers(patient=patient, yes=["raynauds"])
    with pytest.raises(ScreeningRefused, match="you told us you have Raynaud's syndrome") as refused:
        screening_require_cleared(patient=patient, modality=wbc, on_date=timezone.localdate())
    assert refused.value.decision.status == "not_eligible"


@pytest.mark.django_db
def test_statuses_for_many_patients_take_a_fixed_number_of_queries(
    django_assert_max_num_queries, wbc, acupuncture_initial
):
    from tests.factories import PatientFactory

    patients = PatientFactory.create_batch(6)
    for p in patients[:3]:
        screening_cleared(patient=p)
    submission_with_answers(patient=patients[3], yes=["pregnancy"])
    with django_assert_max_num_queries(10):
        statuses = screening_statuses(
            patients=patients, modalities=[wbc, acupuncture_initial], on_date=timezone.localdate()
        )
    assert statuses[patients[0].pk][wbc.pk].allowed
    assert statuses[patients[3].pk][wbc.pk].status == "not_eligible"
    assert statuses[patients[3].pk][acupuncture_initial.pk].status == "needs_review"
    assert statuses[patients[5].pk][wbc.pk].status == "not_screened"


@pytest.mark.django_db
def test_refusal_message_reads_as_a_sentence_and_names_the_next_step_as_a_fact(patient, acupuncture_initial):
    submission_with_answers(patient=patient)
    with pytest.raises(ScreeningRefused) as refused:
        screening_require_cleared(patient=patient, modality=acupuncture_initial, on_date=timezone.localdate())
    assert str(refused.value) == (
        "Your health screening does not allow acupuncture initial consultation yet because you have not signed "
        "the current consent form for acupuncture initial consultation."
    )
    assert refused.value.decision.next_step == NextStep.SIGN_CONSENT
