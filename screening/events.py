"""The event this app publishes (``notifications.events``): a screening needs a clinician's review.

Published when new answers hold a treatment for review (a relative contraindication) and when a
severe adverse event places a treatment hold.  The event names the patient and the treatments
held; the answers, notes and reasons are its clinical details, for opted-in webhook endpoints only.
"""

from __future__ import annotations

from typing import Any

from django.db import models

from clinic.models import Modality
from notifications.events import EventType, event_publish, event_type_register
from screening.models import Submission, TreatmentHold
from screening.selectors import screening_modalities_awaiting_review

NEEDS_REVIEW = "screening.needs_review"


def _clinical_details(about: models.Model) -> dict[str, Any]:
    if isinstance(about, Submission):
        return {
            "notes": about.notes,
            "answered_yes": [answer.question_text for answer in about.answers.filter(value=True).order_by("pk")],
        }
    if isinstance(about, TreatmentHold):
        return {"reason": about.reason}
    return {}


def screening_event_types_register() -> None:
    event_type_register(EventType(name=NEEDS_REVIEW, label="Screening needs review", clinical=_clinical_details))


def submission_needs_review_publish(*, submission: Submission) -> None:
    """Publish ``screening.needs_review`` when ``submission``'s answers hold a treatment for review today."""
    held = screening_modalities_awaiting_review(patient=submission.patient)
    if not held:
        return
    event_publish(
        name=NEEDS_REVIEW,
        about=submission,
        data={
            "cause": "answers",
            "patient_id": submission.patient_id,
            "submission_id": submission.pk,
            "submitted_at": submission.submitted_at,
            "modalities": [modality.slug for modality in held],
        },
    )


def treatment_hold_needs_review_publish(*, hold: TreatmentHold) -> None:
    """Publish ``screening.needs_review`` for a new treatment hold (after a severe adverse event)."""
    modalities = Modality.objects.filter(kind=hold.family).order_by("pk").values_list("slug", flat=True)
    event_publish(
        name=NEEDS_REVIEW,
        about=hold,
        data={
            "cause": "treatment_hold",
            "patient_id": hold.patient_id,
            "treatment_hold_id": hold.pk,
            "placed_at": hold.placed_at,
            "modalities": list(modalities),
        },
    )
