"""Screening writes and the gate that bookings call.

Bookings ask ``screening_gate`` / ``screening_require_cleared`` and nothing else; every
rule about contraindications, review, expiry, age and consent lives behind them.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from datetime import date

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import get_language, ngettext
from django.utils.translation import gettext as _
from modeltranslation.translator import translator
from modeltranslation.utils import build_localized_fieldname

from clinic.audit import audit_record
from clinic.care_team import care_team_is_member
from clinic.models import AuditEvent, Modality, Patient, User
from clinic.validators import date_of_birth_validate
from screening.eligibility import (
    ADULT_AGE,
    GateDecision,
    GateStatus,
    ScreeningRefused,
    contraindications_applying,
    screening_decide,
    screening_facts_load,
)
from screening.events import submission_needs_review_publish, treatment_hold_needs_review_publish
from screening.models import (
    Answer,
    ClearanceCondition,
    Consent,
    ConsentText,
    Contraindication,
    GuardianRelationship,
    Questionnaire,
    Review,
    Severity,
    Submission,
    TreatmentHold,
)
from screening.notifications import review_outcome_notify, treatment_hold_notify

__all__ = [
    "GateDecision",
    "GateStatus",
    "ScreeningRefused",
    "clearance_in_force",
    "clearances_in_force",
    "consent_sign",
    "review_record",
    "screening_gate",
    "screening_require_cleared",
    "submission_create",
    "treatment_hold_place",
]

logger = logging.getLogger(__name__)


def screening_gate(*, patient: Patient, modality: Modality, on_date: date) -> GateDecision:
    """May ``patient`` have ``modality`` on ``on_date``; if not, why and what should they do."""
    clinic, facts = screening_facts_load(patients=[patient], modalities=[modality])
    return screening_decide(clinic=clinic, facts=facts[patient.pk], modality=modality, on_date=on_date)


def screening_require_cleared(*, patient: Patient, modality: Modality, on_date: date) -> GateDecision:
    """The gate's decision when it allows; otherwise raise ``ScreeningRefused`` carrying it."""
    decision = screening_gate(patient=patient, modality=modality, on_date=on_date)
    if not decision.allowed:
        raise ScreeningRefused(decision)
    return decision


@transaction.atomic
def submission_create(
    *,
    patient: Patient,
    answers: Mapping[int, bool],
    submitted_by: User,
    date_of_birth: date | None = None,
    notes: str = "",
    questionnaire: Questionnaire | None = None,
) -> Submission:
    """Store a complete set of answers to the current questionnaire (question id -> yes/no).

    A new submission replaces the previous one for the gate at once; a practitioner's
    earlier clearance still counts only for the contraindications it covered.  Only the
    patient themselves, or an admin or a member of their care team, answers for them.
    """
    if submitted_by.pk != patient.user_id and not (
        submitted_by.is_active
        and (submitted_by.is_clinic_admin or care_team_is_member(user=submitted_by, patient=patient))
    ):
        raise ValidationError(
            _("Only the patient or their care team can answer these questions."), code="not_care_team"
        )
    questionnaire = questionnaire or Questionnaire.objects.current().first()
    if questionnaire is None or not questionnaire.is_current:
        raise ValidationError(_("There is no current health questionnaire to answer."), code="no_questionnaire")
    questions = {q.pk: q for q in questionnaire.questions.all()}
    unknown = set(answers) - set(questions)
    if unknown:
        raise ValidationError(_("Some answers are to questions that are not on the form."), code="unknown_question")
    missing = [questions[pk] for pk in questions if answers.get(pk) is None]
    if missing:
        raise ValidationError(
            ngettext(
                "Please answer every question (%(count)s left).",
                "Please answer every question (%(count)s left).",
                len(missing),
            ),
            code="missing_answer",
            params={"count": len(missing)},
        )
    if date_of_birth is not None and date_of_birth != patient.date_of_birth:
        date_of_birth_validate(date_of_birth)
        # The patient corrected it here; age rules read the patient's record.
        patient.date_of_birth = date_of_birth
        patient.save(update_fields=["date_of_birth"])
    submission = Submission.objects.create(
        patient=patient,
        questionnaire=questionnaire,
        submitted_by=submitted_by,
        date_of_birth=patient.date_of_birth,
        notes=notes.strip(),
    )
    Answer.objects.bulk_create(
        Answer(submission=submission, question=question, question_text=question.text, value=bool(answers[pk]))
        for pk, question in questions.items()
    )
    submission_needs_review_publish(submission=submission)
    return submission


def review_pending_contraindications(*, patient: Patient, modality: Modality, on_date: date) -> list[Contraindication]:
    """The relative contraindications of the patient's newest answers that hold ``modality`` for review."""
    clinic, facts = screening_facts_load(patients=[patient], modalities=[modality])
    return contraindications_applying(
        clinic=clinic, facts=facts[patient.pk], modality=modality, on_date=on_date, severity=Severity.RELATIVE
    )


@transaction.atomic
def review_record(
    *,
    submission: Submission,
    modality: Modality,
    decision: str,
    note: str,
    by: User,
    conditions: Iterable[ClearanceCondition] = (),
) -> Review:
    """A practitioner clears or declines ``modality`` for the relative contraindications now held for review.

    A clearance may carry structured ``conditions`` (e.g. manual needling only) that the session
    log enforces; a decline carries none.
    """
    if not by.is_practitioner:
        raise ValidationError(_("Only clinic staff can review a screening."), code="not_staff")
    submission = Submission.objects.select_for_update().select_related("patient__user").get(pk=submission.pk)
    if not by.is_clinic_admin and not care_team_is_member(user=by, patient=submission.patient):
        raise ValidationError(_("Only the patient's care team can review their screening."), code="not_care_team")
    latest = Submission.objects.filter(patient=submission.patient).newest_first().first()
    if latest != submission:
        raise ValidationError(
            _("The patient has changed their answers since; review the newest ones."), code="stale_submission"
        )
    if decision not in Review.Decision.values:
        raise ValidationError(_("Choose clear or decline."), code="bad_decision")
    note = note.strip()
    if not note:
        raise ValidationError(_("Say why, in a note the patient will read."), code="note_required")
    pending = review_pending_contraindications(
        patient=submission.patient, modality=modality, on_date=timezone.localdate()
    )
    holds = list(
        TreatmentHold.objects.open().select_for_update().filter(patient=submission.patient, family=modality.kind)
    )
    if not pending and not holds:
        raise ValidationError(
            _("Nothing in these answers needs a review for %(modality)s."),
            code="nothing_to_review",
            params={"modality": modality.name},
        )
    conditions = list(conditions)
    if conditions and decision != Review.Decision.CLEAR:
        raise ValidationError(_("Conditions go with a clearance, not a decline."), code="conditions_on_decline")
    review = Review.objects.create(
        submission=submission, modality=modality, decision=decision, note=note, decided_by=by
    )
    review.contraindications.set(pending)
    review.conditions.set(conditions)
    if decision == Review.Decision.CLEAR:
        _holds_lift(holds=holds, review=review, by=by)
    review_outcome_notify(review=review)
    return review


def _holds_lift(*, holds: list[TreatmentHold], review: Review, by: User) -> None:
    """A clinician's clearance of the treatment lifts the holds on it (a decline leaves them in place)."""
    for hold in holds:
        hold.lifted_at = review.decided_at
        hold.lifted_by = by
        hold.lifted_by_review = review
        hold.save(update_fields=["lifted_at", "lifted_by", "lifted_by_review"])
        audit_record(
            request=None,
            actor=by,
            patient=hold.patient,
            action=AuditEvent.Action.CHANGE,
            target=hold,
            description=f"Treatment hold lifted: {hold.get_family_display()} ({review.note})",
        )


@transaction.atomic
def treatment_hold_place(*, patient: Patient, family: str, reason: str, source: str, by: User) -> TreatmentHold:
    """Stop further sessions of ``family`` until a clinician reviews it, and tell the patient what to do.

    One hold per ``source`` (e.g. a session log): amending the same log again does not hold twice or
    send a second message.  The gate refuses the treatment while the hold is open.
    """
    hold, created = TreatmentHold.objects.get_or_create(
        patient=patient, family=family, source=source, defaults={"reason": reason[:300], "placed_by": by}
    )
    if created:
        audit_record(
            request=None,
            actor=by,
            patient=patient,
            action=AuditEvent.Action.CREATE,
            target=hold,
            description=f"Treatment hold placed: {hold.get_family_display()} ({hold.reason})",
        )
        treatment_hold_notify(hold=hold)
        treatment_hold_needs_review_publish(hold=hold)
    return hold


def clearance_in_force(*, patient: Patient, modality: Modality) -> Review | None:
    """The practitioner's newest decision on ``modality`` for this patient if it is a clearance, with its
    conditions loaded; ``None`` when there is none (or the newest decision declined)."""
    review = (
        Review.objects.filter(submission__patient=patient, modality=modality)
        .select_related("decided_by")
        .prefetch_related("conditions")
        .order_by("-decided_at", "-id")
        .first()
    )
    return review if review is not None and review.decision == Review.Decision.CLEAR else None


def clearances_in_force(*, patient: Patient) -> dict[int, Review]:
    """modality id -> the clearance in force (as ``clearance_in_force``), for every modality, in two queries."""
    newest: dict[int, Review] = {}
    for review in (
        Review.objects.filter(submission__patient=patient)
        .select_related("decided_by")
        .prefetch_related("conditions")
        .order_by("-decided_at", "-id")
    ):
        newest.setdefault(review.modality_id, review)
    return {pk: review for pk, review in newest.items() if review.decision == Review.Decision.CLEAR}


@transaction.atomic
def consent_sign(
    *,
    patient: Patient,
    consent_text: ConsentText,
    typed_name: str,
    agreed: bool,
    by: User,
    language: str | None = None,
    guardian_name: str = "",
    guardian_relationship: str = "",
    guardian_signature: str = "",
) -> Consent:
    """Record the patient's signature on the current consent text of a modality; signing twice is a no-op.

    The signature keeps the version and the language of the wording the patient read: ``language``
    (default: the active one), or English when that language has no wording for this version yet
    (the page showed the English fallback).

    A patient under 18 signs with a parent or legal guardian (name, relationship and the guardian's
    typed signature); a minor who signed alone before signs again with one.
    """
    if not consent_text.is_current:
        raise ValidationError(_("This consent form has been replaced; please read the new one."), code="not_current")
    if not agreed:
        raise ValidationError(_("Tick the box to say you agree."), code="not_agreed")
    typed = " ".join(typed_name.split())
    if typed.casefold() != " ".join(patient.full_name.split()).casefold():
        raise ValidationError(
            _("Type your full name as it is on your account (%(name)s)."),
            code="name_mismatch",
            params={"name": patient.full_name},
        )
    guardian = _guardian_check(
        patient=patient, name=guardian_name, relationship=guardian_relationship, signature=guardian_signature
    )
    consent, created = Consent.objects.get_or_create(
        patient=patient,
        consent_text=consent_text,
        defaults={
            "typed_name": typed,
            "recorded_by": by,
            "language": consent_text.language_read(language or get_language()),
            **guardian,
        },
    )
    if not created and guardian and not consent.has_guardian:
        for name, value in guardian.items():
            setattr(consent, name, value)
        consent.save(update_fields=list(guardian))
    return consent


def _guardian_check(*, patient: Patient, name: str, relationship: str, signature: str) -> dict[str, str]:
    """The guardian's part of a consent: required under 18, ignored for an adult."""
    if patient.age_on(timezone.localdate()) >= ADULT_AGE:
        return {}
    name, signature = " ".join(name.split()), " ".join(signature.split())
    if not name or relationship not in GuardianRelationship.values:
        raise ValidationError(
            _(
                "You are under 18: a parent or guardian must sign with you (their name and how they are related "
                "to you)."
            ),
            code="guardian_required",
        )
    if signature.casefold() != name.casefold():
        raise ValidationError(
            _("The guardian signs by typing their own full name (%(name)s)."),
            code="guardian_signature_mismatch",
            params={"name": name},
        )
    return {"guardian_name": name, "guardian_relationship": relationship, "guardian_signature": signature}


def translated_field_names(model: type) -> list[str]:
    """Every language's column of ``model``'s translated texts, e.g. ``title_en_gb``, ``title_es``."""
    fields = translator.get_options_for_model(model).fields
    return [build_localized_fieldname(name, language[0]) for name in fields for language in settings.LANGUAGES]


@transaction.atomic
def questionnaire_copy(*, questionnaire: Questionnaire) -> Questionnaire:
    """A new, not yet current version with the same questions, to edit before publishing."""
    latest = Questionnaire.objects.select_for_update().order_by("-version").first()
    copy = Questionnaire(
        version=(latest.version if latest else 0) + 1, valid_months=questionnaire.valid_months, is_current=False
    )
    for field in translated_field_names(Questionnaire):  # every language's wording, not only the active one's
        setattr(copy, field, getattr(questionnaire, field))
    copy.save()
    for question in questionnaire.questions.prefetch_related("contraindications"):
        contraindications = list(question.contraindications.all())
        question.pk = None
        question.questionnaire = copy
        question.save()
        question.contraindications.set(contraindications)
    return copy


@transaction.atomic
def questionnaire_publish(*, questionnaire: Questionnaire) -> Questionnaire:
    """Make ``questionnaire`` the one patients answer; everyone on an older version re-confirms."""
    Questionnaire.objects.exclude(pk=questionnaire.pk).filter(is_current=True).update(is_current=False)
    questionnaire.is_current = True
    questionnaire.save(update_fields=["is_current"])
    return questionnaire


@transaction.atomic
def consent_text_publish(*, consent_text: ConsentText) -> ConsentText:
    """Make ``consent_text`` the wording patients sign for its modality; earlier signatures no longer count."""
    ConsentText.objects.filter(modality=consent_text.modality, is_current=True).exclude(pk=consent_text.pk).update(
        is_current=False
    )
    consent_text.is_current = True
    consent_text.save(update_fields=["is_current"])
    return consent_text
