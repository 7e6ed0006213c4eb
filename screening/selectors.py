"""Reads of screening state for pages, other apps and reminders."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db.models import Max, Prefetch, QuerySet
from django.utils import timezone

from clinic.models import Modality, Patient
from screening.eligibility import GateDecision, modalities_awaiting_review, statuses_by_patient
from screening.models import (
    Answer,
    ConsentText,
    Contraindication,
    ContraindicationRule,
    Questionnaire,
    Review,
    Severity,
    Submission,
)


def screening_statuses(
    *, patients: Iterable[Patient], modalities: Iterable[Modality], on_date: date
) -> dict[int, dict[int, GateDecision]]:
    """patient id -> modality id -> the gate's decision, in a fixed number of queries."""
    return statuses_by_patient(patients=patients, modalities=modalities, on_date=on_date)


def screening_decisions_today(*, patient: Patient) -> list[GateDecision]:
    """The gate's decision for ``patient`` today for every bookable modality, in catalogue order."""
    modalities = list(Modality.objects.active())
    statuses = screening_statuses(patients=[patient], modalities=modalities, on_date=timezone.localdate())
    return [statuses[patient.pk][modality.pk] for modality in modalities]


def screening_modalities_awaiting_review(*, patient: Patient) -> list[Modality]:
    """The bookable modalities that ``patient``'s current answers hold for a practitioner today."""
    return modalities_awaiting_review(decisions=screening_decisions_today(patient=patient))


@dataclass(frozen=True)
class ExpiringScreening:
    patient: Patient
    expires_on: date
    submission: Submission


def screenings_expiring(*, start: date, end: date) -> list[ExpiringScreening]:
    """Patients whose newest screening stops being valid on a day in [start, end], soonest first.

    Only the newest submission counts: a patient who has re-confirmed is not listed.
    """
    longest = Questionnaire.objects.aggregate(longest=Max("valid_months"))["longest"] or 12
    # Submitted no earlier than ``longest`` months (+ a margin for month lengths) before ``start``.
    earliest = timezone.make_aware(datetime.combine(start - timedelta(days=31 * longest + 31), time.min))
    candidates = (
        Submission.objects.latest_per_patient()
        .filter(submitted_at__gte=earliest)
        .select_related("patient__user", "questionnaire")
    )
    found = [
        ExpiringScreening(patient=s.patient, expires_on=s.expires_on, submission=s)
        for s in candidates
        if start <= s.expires_on <= end
    ]
    return sorted(found, key=lambda item: (item.expires_on, item.patient.pk))


def screening_current_submission(*, patient: Patient) -> Submission | None:
    return (
        Submission.objects.filter(patient=patient)
        .newest_first()
        .select_related("questionnaire", "submitted_by")
        .first()
    )


def submission_with_answers(*, submission: Submission) -> list[Answer]:
    return list(
        submission.answers.select_related("question").prefetch_related(
            Prefetch("question__contraindications", queryset=Contraindication.objects.order_by("name"))
        )
    )


def answer_rows(*, submission: Submission, modalities: Iterable[Modality]) -> list[dict]:
    """Each answer with, for a 'yes', what it means per modality: for the review page's highlighting."""
    modalities = list(modalities)
    severity = {
        (rule[0], rule[1]): rule[2]
        for rule in ContraindicationRule.objects.filter(modality__in=modalities).values_list(
            "contraindication_id", "modality_id", "severity"
        )
    }
    rows = []
    for answer in submission_with_answers(submission=submission):
        effects = []
        if answer.value:
            for contraindication in answer.question.contraindications.all():
                for modality in modalities:
                    level = severity.get((contraindication.pk, modality.pk), Severity.NONE)
                    if level != Severity.NONE:
                        effects.append((contraindication, modality, level))
        rows.append(
            {
                "answer": answer,
                "effects": effects,
                "flag": max((e[2] for e in effects), key=_severity_rank, default=None),
            }
        )
    return rows


def _severity_rank(severity: str) -> int:
    return {Severity.NONE: 0, Severity.RELATIVE: 1, Severity.ABSOLUTE: 2}[severity]


@dataclass(frozen=True)
class ReviewQueueItem:
    submission: Submission
    modalities: list[Modality]  # those waiting for review


def screening_review_queue(
    *, on_date: date | None = None, patients: QuerySet[Patient] | None = None
) -> list[ReviewQueueItem]:
    """Patients' newest submissions holding at least one modality for a practitioner, oldest first.

    ``patients`` limits the queue (to those the viewer may read: ``screening.access``).
    """
    on_date = on_date or timezone.localdate()
    longest = Questionnaire.objects.aggregate(longest=Max("valid_months"))["longest"] or 12
    # Older submissions have expired (the patient must re-confirm first), so they need no review.
    earliest = timezone.make_aware(datetime.combine(on_date - timedelta(days=31 * longest), time.min))
    latest = Submission.objects.latest_per_patient()
    if patients is not None:
        latest = latest.filter(patient__in=patients)
    submissions = list(
        latest.filter(questionnaire__is_current=True, submitted_at__gte=earliest)
        .select_related("patient__user", "questionnaire")
        .order_by("submitted_at")
    )
    modalities = list(Modality.objects.active())
    statuses = screening_statuses(patients=[s.patient for s in submissions], modalities=modalities, on_date=on_date)
    queue = []
    for submission in submissions:
        waiting = modalities_awaiting_review(decisions=statuses[submission.patient_id].values())
        if waiting:
            queue.append(ReviewQueueItem(submission=submission, modalities=waiting))
    return queue


def submission_reviews(*, submission: Submission) -> list[Review]:
    """Every decision on this patient's screenings, newest first, with who decided and what it covered."""
    return list(
        Review.objects.filter(submission__patient=submission.patient_id)
        .select_related("modality", "decided_by", "submission")
        .prefetch_related("contraindications", "conditions")
    )


def consent_text_current(*, modality: Modality) -> ConsentText | None:
    return ConsentText.objects.current().for_modality(modality).first()


def questionnaire_current() -> Questionnaire | None:
    return Questionnaire.objects.current().prefetch_related("questions").first()
