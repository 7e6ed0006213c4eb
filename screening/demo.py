"""Demo screenings for ``make run``.  Idempotent: a patient who has answered already is left alone."""

from __future__ import annotations

from clinic.demo import DemoPeople
from clinic.models import Modality, Patient
from screening.models import ConsentText, Questionnaire, Submission
from screening.services import consent_sign, submission_create

# Robin's answers hold whole-body cryotherapy (high blood pressure) and acupuncture
# (blood thinners) for a practitioner's review: the review queue has something in it.
ROBIN_YES = {"high-blood-pressure", "anticoagulants"}


def demo_screenings_create(*, people: DemoPeople) -> None:
    """Pat, Sam and Alex: cleared, with every consent signed.  Robin: waiting for review."""
    questionnaire = Questionnaire.objects.current().prefetch_related("questions__contraindications").first()
    if questionnaire is None:
        return
    by_email = {patient.user.email: patient for patient in people.patients}
    for email in ("pat@example.com", "sam@example.com", "alex@example.com"):
        patient = by_email.get(email)
        if patient is not None:
            _answer(patient=patient, questionnaire=questionnaire, yes=set())
            _sign_all(patient=patient)
    robin = by_email.get("robin@example.com")
    if robin is not None:
        _answer(patient=robin, questionnaire=questionnaire, yes=ROBIN_YES)
        _sign_all(patient=robin)


def _answer(*, patient: Patient, questionnaire: Questionnaire, yes: set[str]) -> None:
    if Submission.objects.filter(patient=patient, questionnaire=questionnaire).exists():
        return
    answers = {
        question.pk: any(c.code in yes for c in question.contraindications.all())
        for question in questionnaire.questions.all()
    }
    submission_create(patient=patient, answers=answers, submitted_by=patient.user, questionnaire=questionnaire)


def _sign_all(*, patient: Patient) -> None:
    for text in ConsentText.objects.current().filter(modality__in=Modality.objects.active()):
        consent_sign(patient=patient, consent_text=text, typed_name=patient.full_name, agreed=True, by=patient.user)
