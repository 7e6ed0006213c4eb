"""The screening gate: may this patient have this modality on this date, and if not, why.

This is the one place the rule is written.  ``screening_facts_load`` reads everything the
decision needs for many patients in a fixed number of queries; ``screening_decide`` turns
one patient's facts into a ``GateDecision`` without touching the database.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

from django.db.models import F, FilteredRelation, Q
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from clinic.clinic_time import format_when
from clinic.models import Modality, Patient
from screening.models import (
    ConsentText,
    Contraindication,
    Review,
    Severity,
    Submission,
    add_months,
)

# Below this age a parent or guardian consents with the patient, for every treatment.
ADULT_AGE = 18


class GateStatus:
    ELIGIBLE = "eligible"
    NOT_SCREENED = "not_screened"
    NEEDS_REVIEW = "needs_review"
    NOT_ELIGIBLE = "not_eligible"
    EXPIRED = "expired"
    CONSENT_NEEDED = "consent_needed"


class NextStep:
    """What the patient has to do before the gate can open (the pages choose the words and links)."""

    ANSWER_QUESTIONS = "answer_questions"
    RECONFIRM = "reconfirm"
    AWAIT_REVIEW = "await_review"
    SIGN_CONSENT = "sign_consent"


@dataclass(frozen=True)
class GateDecision:
    """The gate's answer for one patient, modality and date: facts, not presentation.

    Views and templates (``screening`` template tags) turn ``status`` and ``next_step`` into
    words, colours and links.
    """

    allowed: bool
    status: str  # a GateStatus value
    modality: Modality
    reasons: tuple[str, ...]  # to the patient, e.g. "you told us you have Raynaud's syndrome"
    next_step: str | None  # a NextStep value, None when there is nothing the patient can do online
    expires_on: date | None  # the first day the clearance is no longer valid
    # The same facts as staff read them, e.g. "Raynaud's syndrome" ("" reasons: see ``reasons``).
    staff_reasons: tuple[str, ...] = ()


class ScreeningRefused(Exception):
    """The patient may not have this modality on this date; ``.decision`` says why and what next."""

    def __init__(self, decision: GateDecision) -> None:
        self.decision = decision
        self.modality = decision.modality
        super().__init__(self._message())

    def _message(self) -> str:
        values = {"treatment": self.modality.name.lower(), "reasons": "; ".join(self.decision.reasons)}
        not_eligible = self.decision.status == GateStatus.NOT_ELIGIBLE
        if self.decision.reasons and not_eligible:
            return _("Your health screening shows %(treatment)s is not suitable for you because %(reasons)s.") % values
        if not_eligible:
            return _("Your health screening shows %(treatment)s is not suitable for you.") % values
        if self.decision.reasons:
            return _("Your health screening does not allow %(treatment)s yet because %(reasons)s.") % values
        return _("Your health screening does not allow %(treatment)s yet.") % values


@dataclass
class PatientFacts:
    """What the gate needs to know about one patient, loaded up front."""

    patient: Patient
    submission: Submission | None = None
    contraindication_ids: set[int] = field(default_factory=set)  # from 'yes' answers
    latest_review: dict[int, Review] = field(default_factory=dict)  # modality id -> newest review
    review_contraindication_ids: dict[int, set[int]] = field(default_factory=dict)  # review id -> covered
    signed_consent_text_ids: set[int] = field(default_factory=set)
    guardian_signed_consent_text_ids: set[int] = field(default_factory=set)
    holds: dict[str, str] = field(default_factory=dict)  # treatment family -> reason of an open hold


@dataclass
class ClinicFacts:
    """The rules, shared by every patient."""

    contraindications: dict[int, Contraindication]
    severity: dict[tuple[int, int], str]  # (contraindication id, modality id) -> Severity
    current_consent_text: dict[int, ConsentText]  # modality id -> current text (its body not loaded)


def screening_facts_load(
    *, patients: Iterable[Patient], modalities: Iterable[Modality]
) -> tuple[ClinicFacts, dict[int, PatientFacts]]:
    """Everything the gate needs for these patients and modalities, in a fixed number of queries.

    Four at most, three when no patient has a contraindication that a review could clear: the
    rules, each patient's newest submission with its 'yes' contraindications, the current consent
    texts with who has signed them, and (only if needed) the reviews with what they cover; open
    treatment holds ride on the submission query.  Joins carry the many-to-many parts, so nothing
    is fetched per patient or per review.
    """
    patients = list(patients)
    modality_ids = [modality.pk for modality in modalities]
    patient_ids = [patient.pk for patient in patients]
    facts = {patient.pk: PatientFacts(patient=patient) for patient in patients}

    # Every contraindication (age-based ones apply without answers), once per rule it has for these modalities.
    contraindications: dict[int, Contraindication] = {}
    severity: dict[tuple[int, int], str] = {}
    for contraindication in Contraindication.objects.annotate(
        rule=FilteredRelation("rules", condition=Q(rules__modality__in=modality_ids)),
        rule_modality_id=F("rule__modality_id"),
        rule_severity=F("rule__severity"),
    ):
        contraindications.setdefault(contraindication.pk, contraindication)
        if contraindication.rule_modality_id is not None:
            severity[(contraindication.pk, contraindication.rule_modality_id)] = contraindication.rule_severity

    current_consent_text: dict[int, ConsentText] = {}
    for text in (
        ConsentText.objects.current()
        .filter(modality__in=modality_ids)
        .defer("body")
        .annotate(
            signature=FilteredRelation("consents", condition=Q(consents__patient__in=patient_ids)),
            signed_by_id=F("signature__patient_id"),
            signed_guardian=F("signature__guardian_name"),
        )
    ):
        current_consent_text.setdefault(text.modality_id, text)
        if text.signed_by_id is not None:
            facts[text.signed_by_id].signed_consent_text_ids.add(text.pk)
            if text.signed_guardian:
                facts[text.signed_by_id].guardian_signed_consent_text_ids.add(text.pk)
    clinic = ClinicFacts(
        contraindications=contraindications, severity=severity, current_consent_text=current_consent_text
    )

    # The newest submission per patient, once per contraindication its 'yes' answers name (once if none).
    for submission in (
        Submission.objects.filter(patient__in=patient_ids)
        .latest_per_patient()
        .select_related("questionnaire")
        .annotate(
            yes_answer=FilteredRelation("answers", condition=Q(answers__value=True)),
            yes_contraindication_id=F("yes_answer__question__contraindications"),
            # Open holds after a severe adverse event ride along (usually none, so no extra rows).  A hold
            # needs a logged session, so a patient with one has a submission.
            open_hold=FilteredRelation(
                "patient__treatment_holds", condition=Q(patient__treatment_holds__lifted_at__isnull=True)
            ),
            hold_family=F("open_hold__family"),
            hold_reason=F("open_hold__reason"),
        )
    ):
        patient_facts = facts[submission.patient_id]
        if patient_facts.submission is None:
            patient_facts.submission = submission
        if submission.yes_contraindication_id is not None:
            patient_facts.contraindication_ids.add(submission.yes_contraindication_id)
        if submission.hold_family is not None:
            patient_facts.holds.setdefault(submission.hold_family, submission.hold_reason)

    # A review only matters where a relative contraindication could apply (answered, or by age on some day).
    relative_ids = {cid for (cid, _), level in severity.items() if level == Severity.RELATIVE}
    by_age = {cid for cid, c in contraindications.items() if c.applies_under_age is not None}
    reviewable = [
        patient_id
        for patient_id, patient_facts in facts.items()
        if patient_facts.submission is not None and (patient_facts.contraindication_ids | by_age) & relative_ids
    ]
    if reviewable:
        reviews = (
            Review.objects.filter(submission__patient__in=reviewable, modality__in=modality_ids)
            .select_related("submission", "decided_by")
            .annotate(covered_id=F("contraindications"))
            .order_by("-decided_at", "-id")
        )
        for review in reviews:  # once per contraindication the review covers (once if none)
            patient_facts = facts[review.submission.patient_id]
            newest = patient_facts.latest_review.setdefault(review.modality_id, review)
            if newest.pk == review.pk:
                covered = patient_facts.review_contraindication_ids.setdefault(review.pk, set())
                if review.covered_id is not None:
                    covered.add(review.covered_id)
    return clinic, facts


def screening_decide(*, clinic: ClinicFacts, facts: PatientFacts, modality: Modality, on_date: date) -> GateDecision:
    """The gate's rule, in the order a patient should hear about problems."""
    absolute = contraindications_applying(
        clinic=clinic, facts=facts, modality=modality, on_date=on_date, severity=Severity.ABSOLUTE
    )
    relative_ids = {
        c.pk
        for c in contraindications_applying(
            clinic=clinic, facts=facts, modality=modality, on_date=on_date, severity=Severity.RELATIVE
        )
    }

    # Age needs no answers: tell an under-18 at once rather than after a questionnaire.
    age_absolute = [c for c in absolute if c.applies_under_age is not None]
    if age_absolute:
        return _not_eligible(age_absolute, modality=modality)

    hold_reason = facts.holds.get(modality.kind)
    if hold_reason is not None:
        return GateDecision(
            allowed=False,
            status=GateStatus.NEEDS_REVIEW,
            modality=modality,
            reasons=(
                _("you had a severe reaction (%(what)s); a clinician must review it before your next session")
                % {"what": hold_reason},
            ),
            staff_reasons=(
                _("on hold after a severe reaction (%(what)s): review before the next session") % {"what": hold_reason},
            ),
            next_step=NextStep.AWAIT_REVIEW,
            expires_on=None,
        )

    submission = facts.submission
    if submission is None:
        return GateDecision(
            allowed=False,
            status=GateStatus.NOT_SCREENED,
            modality=modality,
            reasons=(_("you have not answered our health questions yet"),),
            staff_reasons=(_("no health questions answered yet"),),
            next_step=NextStep.ANSWER_QUESTIONS,
            expires_on=None,
        )
    # At most one questionnaire is current (a database constraint), so this is "not the current one".
    if not submission.questionnaire.is_current:
        return _expired(
            _("our health questions have changed since you answered them"),
            staff_reason=_("the health questions changed after these answers"),
            modality=modality,
            expires_on=None,
        )
    valid_months = submission.questionnaire.valid_months
    expires_on = submission.expires_on
    if on_date >= expires_on:
        return _expired(
            ngettext(
                "your answers from %(day)s need re-confirming every %(months)s month",
                "your answers from %(day)s need re-confirming every %(months)s months",
                valid_months,
            )
            % {"day": _day(submission.submitted_on), "months": valid_months},
            staff_reason=ngettext(
                "answers from %(day)s are older than %(months)s month",
                "answers from %(day)s are older than %(months)s months",
                valid_months,
            )
            % {"day": _day(submission.submitted_on), "months": valid_months},
            modality=modality,
            expires_on=expires_on,
        )

    if absolute:
        return _not_eligible(absolute, modality=modality)

    review = facts.latest_review.get(modality.pk)
    if relative_ids:
        covered = facts.review_contraindication_ids.get(review.pk, set()) if review else set()
        review_expires_on = add_months(review.decided_on, valid_months) if review else None
        review_applies = (
            review is not None
            and relative_ids <= covered
            and review_expires_on is not None
            and on_date < review_expires_on
        )
        if not review_applies:
            return GateDecision(
                allowed=False,
                status=GateStatus.NEEDS_REVIEW,
                modality=modality,
                reasons=tuple(clinic.contraindications[cid].patient_reason for cid in sorted(relative_ids)),
                staff_reasons=tuple(sorted(clinic.contraindications[cid].name for cid in relative_ids)),
                next_step=NextStep.AWAIT_REVIEW,
                expires_on=expires_on,
            )
        if review.decision == Review.Decision.DECLINE:
            return GateDecision(
                allowed=False,
                status=GateStatus.NOT_ELIGIBLE,
                modality=modality,
                reasons=(
                    _("a practitioner reviewed your answers and advised against it: %(note)s") % {"note": review.note},
                ),
                staff_reasons=(_("declined on review: %(note)s") % {"note": review.note},),
                next_step=None,
                expires_on=None,
            )
        expires_on = min(expires_on, review_expires_on)

    consent_text = clinic.current_consent_text.get(modality.pk)
    if consent_text is None:
        return GateDecision(
            allowed=False,
            status=GateStatus.CONSENT_NEEDED,
            modality=modality,
            reasons=(
                _("the clinic has not published a consent form for %(treatment)s yet; please call us")
                % {"treatment": modality.name.lower()},
            ),
            staff_reasons=(_("no consent form published for %(treatment)s") % {"treatment": modality.name.lower()},),
            next_step=None,
            expires_on=expires_on,
        )
    minor = facts.patient.age_on(on_date) < ADULT_AGE
    if consent_text.pk not in facts.signed_consent_text_ids:
        return GateDecision(
            allowed=False,
            status=GateStatus.CONSENT_NEEDED,
            modality=modality,
            reasons=(
                (
                    _(
                        "you have not signed the current consent form for %(treatment)s (under %(age)s, a parent or "
                        "guardian signs it with you)"
                    )
                    if minor
                    else _("you have not signed the current consent form for %(treatment)s")
                )
                % {"treatment": modality.name.lower(), "age": ADULT_AGE},
            ),
            staff_reasons=(
                _("current consent form for %(treatment)s not signed") % {"treatment": modality.name.lower()},
            ),
            next_step=NextStep.SIGN_CONSENT,
            expires_on=expires_on,
        )
    if minor and consent_text.pk not in facts.guardian_signed_consent_text_ids:
        return GateDecision(
            allowed=False,
            status=GateStatus.CONSENT_NEEDED,
            modality=modality,
            reasons=(
                _(
                    "you will be under %(age)s on the day, so a parent or guardian must sign the consent form "
                    "for %(treatment)s with you"
                )
                % {"treatment": modality.name.lower(), "age": ADULT_AGE},
            ),
            staff_reasons=(
                _("under %(age)s: no guardian's signature on the %(treatment)s consent")
                % {"treatment": modality.name.lower(), "age": ADULT_AGE},
            ),
            next_step=NextStep.SIGN_CONSENT,
            expires_on=expires_on,
        )
    return GateDecision(
        allowed=True,
        status=GateStatus.ELIGIBLE,
        modality=modality,
        reasons=(),
        next_step=None,
        expires_on=expires_on,
    )


def contraindications_applying(
    *, clinic: ClinicFacts, facts: PatientFacts, modality: Modality, on_date: date, severity: str
) -> list[Contraindication]:
    """The patient's contraindications (answered, or by age on ``on_date``) that are ``severity`` for
    ``modality``, by name.  With ``Severity.RELATIVE`` these are what a practitioner's review must cover."""
    return sorted(
        (
            clinic.contraindications[cid]
            for cid in _contraindications_on(clinic=clinic, facts=facts, on_date=on_date)
            if clinic.severity.get((cid, modality.pk), Severity.NONE) == severity
        ),
        key=lambda contraindication: contraindication.name,
    )


def _contraindications_on(*, clinic: ClinicFacts, facts: PatientFacts, on_date: date) -> set[int]:
    """The patient's answered contraindications plus those that follow from their age on the day."""
    ids = set(facts.contraindication_ids)
    age = facts.patient.age_on(on_date)
    for contraindication in clinic.contraindications.values():
        if contraindication.applies_under_age is not None and age < contraindication.applies_under_age:
            ids.add(contraindication.pk)
    return ids


def _day(day: date) -> str:
    return format_when(day, "long_date")


def _not_eligible(contraindications: list[Contraindication], *, modality: Modality) -> GateDecision:
    return GateDecision(
        allowed=False,
        status=GateStatus.NOT_ELIGIBLE,
        modality=modality,
        reasons=tuple(c.patient_reason for c in sorted(contraindications, key=lambda c: c.name)),
        staff_reasons=tuple(sorted(c.name for c in contraindications)),
        next_step=None,
        expires_on=None,
    )


def _expired(reason: str, *, staff_reason: str, modality: Modality, expires_on: date | None) -> GateDecision:
    return GateDecision(
        allowed=False,
        status=GateStatus.EXPIRED,
        modality=modality,
        reasons=(reason,),
        staff_reasons=(staff_reason,),
        next_step=NextStep.RECONFIRM,
        expires_on=expires_on,
    )


def modalities_awaiting_review(*, decisions: Iterable[GateDecision]) -> list[Modality]:
    """The modalities these decisions hold for a practitioner's review (in the decisions' order)."""
    return [decision.modality for decision in decisions if decision.status == GateStatus.NEEDS_REVIEW]


def statuses_by_patient(
    *, patients: Iterable[Patient], modalities: Iterable[Modality], on_date: date
) -> dict[int, dict[int, GateDecision]]:
    modalities = list(modalities)
    clinic, facts = screening_facts_load(patients=patients, modalities=modalities)
    return {
        patient_id: {
            modality.pk: screening_decide(clinic=clinic, facts=patient_facts, modality=modality, on_date=on_date)
            for modality in modalities
        }
        for patient_id, patient_facts in facts.items()
    }
