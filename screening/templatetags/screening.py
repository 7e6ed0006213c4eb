"""Template tags for pages of other apps that show screening state."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils import timezone

from clinic.models import Modality
from screening.selectors import screening_review_queue, screening_statuses

register = template.Library()


@register.simple_tag
def screening_summary_for(user: Any) -> list[dict[str, Any]]:
    """The logged-in patient's status per active modality, for the start page card."""
    patient = getattr(user, "patient", None) if getattr(user, "is_authenticated", False) else None
    if patient is None:
        return []
    modalities = list(Modality.objects.active())
    statuses = screening_statuses(patients=[patient], modalities=modalities, on_date=timezone.localdate())
    return [{"modality": m, "decision": statuses[patient.pk][m.pk]} for m in modalities]


@register.simple_tag
def screening_reviews_waiting() -> int:
    """How many patients' answers wait for a practitioner, for the staff start page (constant queries)."""
    return len(screening_review_queue())
