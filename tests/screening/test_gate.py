"""The gate's rules beyond single contraindications: age, review, decline, expiry, changes, consent."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import time_machine
from django.core.exceptions import ValidationError

from screening.eligibility import NextStep
from screening.models import ConsentText, Questionnaire
from screening.selectors import screening_modalities_awaiting_review
from screening.services import (
    consent_sign,
    consent_text_publish,
    questionnaire_copy,
    questionnaire_publish,
    review_record,
    screening_gate,
)
from screening.templatetags.screening import gate_next_step_url
from tests.factories import care_team_join
from tests.screening.factories import consents_signed, screening_cleared, submission_with_answers

pytestmark = pytest.mark.django_db


def _set_birthday(patient, born: date) -> None:
    patient.date_of_birth = born
    patient.save(update_fields=["date_of_birth"])


def test_under_18_is_refused_whole_body_cryotherapy_and_acupuncture_waits_for_review(
    patient, wbc, acupuncture_initial, today
):
    _set_birthday(patient, today.replace(year=today.year - 16))
    screening_cleared(patient=patient)

    refused = screening_gate(patient=patient, modality=wbc, on_date=today)
    assert refused.status == "not_eligible"
    assert refused.reasons == ("you will be under 18 on the day of treatment",)
    # Issue 16: under-18s need a clinician's review for every treatment they may have.
    assert screening_gate(patient=patient, modality=acupuncture_initial, on_date=today).status == "needs_review"


def test_age_is_computed_on_the_treatment_date(patient, wbc):
    _set_birthday(patient, date(2008, 6, 10))
    with time_machine.travel(date(2026, 3, 1)):
        screening_cleared(patient=patient)
        assert not screening_gate(patient=patient, modality=wbc, on_date=date(2026, 6, 9)).allowed
        assert screening_gate(patient=patient, modality=wbc, on_date=date(2026, 6, 10)).allowed


def test_under_18_is_told_before_answering_any_questions(patient, wbc, today):
    _set_birthday(patient, today.replace(year=today.year - 12))
    assert screening_gate(patient=patient, modality=wbc, on_date=today).status == "not_eligible"


def test_relative_contraindication_waits_for_review_then_clearance_makes_it_eligible(patient, practitioner, wbc, today):
    submission = submission_with_answers(patient=patient, yes=["high-blood-pressure"])
    consents_signed(patient=patient)
    waiting = screening_gate(patient=patient, modality=wbc, on_date=today)
    assert waiting.status == "needs_review"
    assert waiting.reasons == ("you told us you have high blood pressure",)

    review = review_record(
        submission=submission,
        modality=wbc,
        decision="clear",
        note="Controlled on medication, 128/82 today.",
        by=practitioner.user,
    )

    cleared = screening_gate(patient=patient, modality=wbc, on_date=today)
    assert cleared.allowed
    assert cleared.status == "eligible"
    assert review.decided_by == practitioner.user
    assert [c.code for c in review.contraindications.all()] == ["high-blood-pressure"]


def test_declined_stays_not_eligible_even_after_answering_again_the_same_way(patient, practitioner, wbc, today):
    submission = submission_with_answers(patient=patient, yes=["kidney-disease"])
    consents_signed(patient=patient)
    review_record(submission=submission, modality=wbc, decision="decline", note="Stage 4 CKD.", by=practitioner.user)

    declined = screening_gate(patient=patient, modality=wbc, on_date=today)
    assert declined.status == "not_eligible"
    assert "Stage 4 CKD." in declined.reasons[0]

    submission_with_answers(patient=patient, yes=["kidney-disease"])
    assert screening_gate(patient=patient, modality=wbc, on_date=today).status == "not_eligible"


def test_clearance_is_per_modality(patient, practitioner, wbc, localized_cryo, today):
    submission = submission_with_answers(patient=patient, yes=["metal-implant"])
    consents_signed(patient=patient)
    review_record(
        submission=submission, modality=wbc, decision="clear", note="Small plate, fine.", by=practitioner.user
    )

    assert screening_gate(patient=patient, modality=wbc, on_date=today).allowed
    assert screening_gate(patient=patient, modality=localized_cryo, on_date=today).status == "needs_review"


def test_a_new_yes_reopens_review_after_clearance(patient, practitioner, wbc, today):
    submission = submission_with_answers(patient=patient, yes=["high-blood-pressure"])
    consents_signed(patient=patient)
    review_record(submission=submission, modality=wbc, decision="clear", note="Controlled.", by=practitioner.user)

    submission_with_answers(patient=patient, yes=["high-blood-pressure", "anaemia"])

    reopened = screening_gate(patient=patient, modality=wbc, on_date=today)
    assert reopened.status == "needs_review"
    assert "you told us you have anaemia" in reopened.reasons


def test_answering_again_without_a_new_yes_keeps_the_clearance(patient, practitioner, wbc, today):
    submission = submission_with_answers(patient=patient, yes=["high-blood-pressure"])
    consents_signed(patient=patient)
    review_record(submission=submission, modality=wbc, decision="clear", note="Controlled.", by=practitioner.user)

    submission_with_answers(patient=patient, yes=["high-blood-pressure"])

    assert screening_gate(patient=patient, modality=wbc, on_date=today).allowed


def test_changed_answers_are_evaluated_at_once(patient, wbc, acupuncture_initial, today):
    screening_cleared(patient=patient)
    assert screening_gate(patient=patient, modality=wbc, on_date=today).allowed

    submission_with_answers(patient=patient, yes=["pregnancy"])
    assert screening_gate(patient=patient, modality=wbc, on_date=today).status == "not_eligible"
    assert screening_gate(patient=patient, modality=acupuncture_initial, on_date=today).status == "needs_review"

    submission_with_answers(patient=patient, yes=[])
    assert screening_gate(patient=patient, modality=wbc, on_date=today).allowed


def test_screening_expires_after_the_valid_period_and_asks_to_reconfirm(patient, wbc):
    with time_machine.travel(date(2026, 1, 15)):
        screening_cleared(patient=patient)
        decision = screening_gate(patient=patient, modality=wbc, on_date=date(2026, 1, 15))
    assert decision.expires_on == date(2027, 1, 15)

    with time_machine.travel(date(2027, 1, 14)):
        assert screening_gate(patient=patient, modality=wbc, on_date=date(2027, 1, 14)).allowed
    with time_machine.travel(date(2027, 1, 15)):
        expired = screening_gate(patient=patient, modality=wbc, on_date=date(2027, 1, 15))
        assert expired.status == "expired"
        assert expired.next_step == NextStep.RECONFIRM
        assert gate_next_step_url(expired) == "/screening/questions/"
        # Re-confirming the same answers makes it valid again.
        submission_with_answers(patient=patient)
        assert screening_gate(patient=patient, modality=wbc, on_date=date(2027, 1, 15)).allowed


def test_booking_date_after_expiry_is_refused_even_if_valid_today(patient, wbc, today):
    screening_cleared(patient=patient)
    assert screening_gate(patient=patient, modality=wbc, on_date=today + timedelta(days=400)).status == "expired"


def test_valid_period_is_configurable(patient, wbc):
    Questionnaire.objects.current().update(valid_months=6)
    with time_machine.travel(date(2026, 1, 15)):
        screening_cleared(patient=patient)
    assert screening_gate(patient=patient, modality=wbc, on_date=date(2026, 7, 14)).allowed
    assert screening_gate(patient=patient, modality=wbc, on_date=date(2026, 7, 15)).status == "expired"


def test_clearance_lapses_with_the_valid_period(patient, practitioner, wbc):
    with time_machine.travel(date(2026, 1, 15)):
        care_team_join(patient=patient, practitioner=practitioner)  # assigned then, for the review
        submission = submission_with_answers(patient=patient, yes=["high-blood-pressure"])
        consents_signed(patient=patient)
        review_record(submission=submission, modality=wbc, decision="clear", note="Controlled.", by=practitioner.user)
    with time_machine.travel(date(2027, 2, 1)):
        submission_with_answers(patient=patient, yes=["high-blood-pressure"])
        assert screening_gate(patient=patient, modality=wbc, on_date=date(2027, 2, 1)).status == "needs_review"


def test_new_questionnaire_version_asks_everyone_to_reconfirm(patient, wbc, today):
    screening_cleared(patient=patient)
    questionnaire_publish(questionnaire=questionnaire_copy(questionnaire=Questionnaire.objects.current().get()))

    decision = screening_gate(patient=patient, modality=wbc, on_date=today)
    assert decision.status == "expired"
    assert decision.reasons == ("our health questions have changed since you answered them",)


def test_consent_is_required_before_a_first_session(patient, wbc, acupuncture_initial, today):
    submission_with_answers(patient=patient)

    needed = screening_gate(patient=patient, modality=wbc, on_date=today)
    assert needed.status == "consent_needed"
    assert needed.next_step == NextStep.SIGN_CONSENT
    assert gate_next_step_url(needed) == f"/screening/consent/{wbc.slug}/"

    consents_signed(patient=patient, modalities=[wbc])
    assert screening_gate(patient=patient, modality=wbc, on_date=today).allowed
    assert screening_gate(patient=patient, modality=acupuncture_initial, on_date=today).status == "consent_needed"


def test_new_consent_wording_must_be_signed_again(patient, wbc, today):
    screening_cleared(patient=patient)
    new_text = ConsentText.objects.create(modality=wbc, version=2, body="New wording with more risks.")
    consent_text_publish(consent_text=new_text)

    assert screening_gate(patient=patient, modality=wbc, on_date=today).status == "consent_needed"
    consent_sign(patient=patient, consent_text=new_text, typed_name=patient.full_name, agreed=True, by=patient.user)
    assert screening_gate(patient=patient, modality=wbc, on_date=today).allowed


def test_consent_keeps_the_version_time_and_typed_name(patient, wbc):
    text = ConsentText.objects.current().get(modality=wbc)
    consent = consent_sign(
        patient=patient, consent_text=text, typed_name=f"  {patient.full_name.upper()} ", agreed=True, by=patient.user
    )
    assert consent.consent_text.version == 1
    assert consent.signed_at is not None
    assert consent.typed_name == patient.full_name.upper()


def test_consent_refused_with_someone_elses_name_or_without_the_tick(patient, wbc):
    text = ConsentText.objects.current().get(modality=wbc)
    with pytest.raises(ValidationError, match="full name"):
        consent_sign(patient=patient, consent_text=text, typed_name="Somebody Else", agreed=True, by=patient.user)
    with pytest.raises(ValidationError, match="Tick"):
        consent_sign(patient=patient, consent_text=text, typed_name=patient.full_name, agreed=False, by=patient.user)
    assert not patient.consents.exists()


def test_review_of_an_outdated_submission_is_refused(patient, practitioner, wbc):
    old = submission_with_answers(patient=patient, yes=["high-blood-pressure"])
    submission_with_answers(patient=patient, yes=["high-blood-pressure", "anaemia"])
    with pytest.raises(ValidationError, match="changed their answers"):
        review_record(submission=old, modality=wbc, decision="clear", note="ok", by=practitioner.user)


def test_review_refused_when_nothing_needs_review(patient, practitioner, wbc):
    submission = submission_with_answers(patient=patient)
    with pytest.raises(ValidationError, match="Nothing in these answers"):
        review_record(submission=submission, modality=wbc, decision="clear", note="ok", by=practitioner.user)


def test_patient_cannot_review(patient, wbc):
    submission = submission_with_answers(patient=patient, yes=["high-blood-pressure"])
    with pytest.raises(ValidationError, match="clinic staff"):
        review_record(submission=submission, modality=wbc, decision="clear", note="me", by=patient.user)


def test_under_18_waits_for_review_for_localized_cryotherapy_and_can_be_cleared(
    patient, practitioner, localized_cryo, today
):
    _set_birthday(patient, today.replace(year=today.year - 15))
    submission = screening_cleared(patient=patient)
    assert screening_gate(patient=patient, modality=localized_cryo, on_date=today).status == "needs_review"

    review_record(
        submission=submission,
        modality=localized_cryo,
        decision="clear",
        note="Parent present, consent given.",
        by=practitioner.user,
    )
    assert screening_gate(patient=patient, modality=localized_cryo, on_date=today).allowed


def test_clearing_what_the_gate_holds_for_review_opens_it_for_every_relative_answer(patient, practitioner, today):
    """The review covers exactly the relative contraindications the gate holds, whatever the answer."""
    consents_signed(patient=patient)
    questions = Questionnaire.objects.current().get().questions.prefetch_related("contraindications")
    codes = sorted(
        {c.code for q in questions for c in q.contraindications.all() if c.rules.filter(severity="relative")}
    )
    assert codes
    for code in codes:
        submission = submission_with_answers(patient=patient, yes=[code])
        waiting = screening_modalities_awaiting_review(patient=patient)
        for modality in waiting:
            review_record(
                submission=submission, modality=modality, decision="clear", note="Checked.", by=practitioner.user
            )
        assert screening_modalities_awaiting_review(patient=patient) == [], code
        for modality in waiting:
            assert screening_gate(patient=patient, modality=modality, on_date=today).allowed, (code, modality)
