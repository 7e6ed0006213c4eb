"""Template tags for pages of other apps that show screening state."""

from __future__ import annotations

from typing import Any

from django import template
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from screening.access import screening_patients_readable_by
from screening.eligibility import GateDecision, GateStatus, NextStep
from screening.selectors import screening_decisions_today, screening_review_queue

register = template.Library()

# The gate returns facts; these are the words and colours the pages show for them.
PATIENT_LABELS = {
    GateStatus.ELIGIBLE: _("Ready to book"),
    GateStatus.NOT_SCREENED: _("Health questions needed"),
    GateStatus.NEEDS_REVIEW: _("Waiting for a practitioner's review"),
    GateStatus.NOT_ELIGIBLE: _("Not suitable for you"),
    GateStatus.EXPIRED: _("Please re-confirm your health answers"),
    GateStatus.CONSENT_NEEDED: _("Consent form to sign"),
}

# The same statuses in the words staff use on the day, week and chart pages (the patient
# wording, e.g. "Ready to book", reads wrongly next to a patient who is already booked).
STAFF_LABELS = {
    GateStatus.ELIGIBLE: _("cleared"),
    GateStatus.NOT_SCREENED: _("not screened"),
    GateStatus.NEEDS_REVIEW: _("needs review"),
    GateStatus.NOT_ELIGIBLE: _("not eligible"),
    GateStatus.EXPIRED: _("expired"),
    GateStatus.CONSENT_NEEDED: _("consent missing"),
}

# Bootstrap colour names for the status badge.
TONES = {
    GateStatus.ELIGIBLE: "success",
    GateStatus.NOT_SCREENED: "secondary",
    GateStatus.NEEDS_REVIEW: "warning",
    GateStatus.NOT_ELIGIBLE: "danger",
    GateStatus.EXPIRED: "secondary",
    GateStatus.CONSENT_NEEDED: "info",
}

NEXT_STEP_LABELS = {
    NextStep.ANSWER_QUESTIONS: _("Answer the health questions"),
    NextStep.RECONFIRM: _("Re-confirm your health answers"),
    NextStep.AWAIT_REVIEW: _("A practitioner will review your answers; we will email you"),
    NextStep.SIGN_CONSENT: _("Read and sign the consent form"),
}


@register.filter
def gate_label(decision: GateDecision) -> str:
    """The status in the patient's words, e.g. "Ready to book"."""
    return PATIENT_LABELS[decision.status]


@register.filter
def gate_staff_label(decision: GateDecision) -> str:
    """The status in staff words, e.g. "cleared" or "consent missing"."""
    return STAFF_LABELS[decision.status]


@register.filter
def gate_tone(decision: GateDecision) -> str:
    return TONES[decision.status]


@register.filter
def gate_next_step_label(decision: GateDecision) -> str:
    return NEXT_STEP_LABELS.get(decision.next_step, "") if decision.next_step else ""


@register.filter
def gate_next_step_url(decision: GateDecision) -> str:
    """Where the patient does the next step, or "" when nothing can be done online."""
    if decision.next_step in (NextStep.ANSWER_QUESTIONS, NextStep.RECONFIRM):
        return reverse("screening:questionnaire")
    if decision.next_step == NextStep.AWAIT_REVIEW:
        return reverse("screening:mine")
    if decision.next_step == NextStep.SIGN_CONSENT:
        return reverse("screening:consent", kwargs={"slug": decision.modality.slug})
    return ""


@register.simple_tag
def screening_summary_for(user: Any) -> list[dict[str, Any]]:
    """The logged-in patient's status per active modality, for the start page card."""
    patient = getattr(user, "patient", None) if getattr(user, "is_authenticated", False) else None
    if patient is None:
        return []
    return [
        {"modality": decision.modality, "decision": decision} for decision in screening_decisions_today(patient=patient)
    ]


@register.simple_tag(takes_context=True)
def screening_reviews_waiting(context: template.Context) -> int:
    """How many answers wait in the viewer's own review queue (their care team's patients), for the
    staff start page, so the count matches what the queue then shows (constant queries)."""
    return len(screening_review_queue(patients=screening_patients_readable_by(context["request"].user)))


@register.filter
def gate_staff_reasons(decision: GateDecision) -> tuple[str, ...]:
    """The decision's reasons as staff read them (the facts, not the words written to the patient)."""
    return decision.staff_reasons or decision.reasons
