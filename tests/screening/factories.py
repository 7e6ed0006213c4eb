"""Screening test data.  Other apps' tests use ``screening_cleared`` to get a patient past the gate."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, time

from django.utils import timezone

from clinic.models import Modality, Patient, User
from screening.models import Consent, ConsentText, Question, Questionnaire, Submission
from screening.services import consent_sign, submission_create


def questionnaire_current() -> Questionnaire:
    """The seeded current questionnaire (the data migration creates it)."""
    return Questionnaire.objects.current().get()


def question_for(code: str) -> Question:
    """The current question whose 'yes' means the contraindication ``code`` (e.g. "raynauds")."""
    return questionnaire_current().questions.get(contraindications__code=code)


def submission_with_answers(
    *,
    patient: Patient,
    yes: Iterable[str] = (),
    on_date: date | None = None,
    submitted_by: User | None = None,
    notes: str = "",
) -> Submission:
    """A complete submission to the current questionnaire: 'yes' to the questions for the
    contraindication codes in ``yes`` (e.g. ["raynauds", "pregnancy"]), 'no' to the rest.

    ``on_date`` backdates it (submitted at noon local time that day); default now.
    """
    questionnaire = questionnaire_current()
    yes = set(yes)
    questions = list(questionnaire.questions.prefetch_related("contraindications"))
    known = {c.code for q in questions for c in q.contraindications.all()}
    unknown = yes - known
    if unknown:
        raise ValueError(f"No question for contraindication(s) {sorted(unknown)}")
    answers = {q.pk: any(c.code in yes for c in q.contraindications.all()) for q in questions}
    submission = submission_create(
        patient=patient, answers=answers, submitted_by=submitted_by or patient.user, notes=notes
    )
    if on_date is not None:
        submission.submitted_at = timezone.make_aware(datetime.combine(on_date, time(12, 0)))
        submission.save(update_fields=["submitted_at"])
    return submission


def consents_signed(*, patient: Patient, modalities: Iterable[Modality] | None = None) -> list[Consent]:
    """The patient signs the current consent text of each modality (default: all active)."""
    modalities = list(Modality.objects.active() if modalities is None else modalities)
    texts = ConsentText.objects.current().filter(modality__in=modalities)
    # Under 18 a parent signs with the patient (the service refuses a minor alone).
    minor = patient.age_on(timezone.localdate()) < 18
    guardian = (
        {"guardian_name": "Alex Parent", "guardian_relationship": "parent", "guardian_signature": "Alex Parent"}
        if minor
        else {}
    )
    return [
        consent_sign(
            patient=patient, consent_text=text, typed_name=patient.full_name, agreed=True, by=patient.user, **guardian
        )
        for text in texts
    ]


def screening_cleared(
    *, patient: Patient, modalities: Iterable[Modality] | None = None, on_date: date | None = None
) -> Submission:
    """Get ``patient`` past the gate: a current submission with every answer 'no' and signed
    consents for ``modalities`` (default: all active).  ``on_date`` backdates the submission.

    Whole-body cryotherapy still refuses a patient under 18: that is age, not answers.
    """
    submission = submission_with_answers(patient=patient, on_date=on_date)
    consents_signed(patient=patient, modalities=modalities)
    return submission
