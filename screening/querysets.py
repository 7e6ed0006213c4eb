"""Reusable filters for screening rows."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import models
from django.db.models import OuterRef, Subquery

if TYPE_CHECKING:
    from clinic.models import Modality


class QuestionnaireQuerySet(models.QuerySet):
    def current(self) -> QuestionnaireQuerySet:
        return self.filter(is_current=True)


class SubmissionQuerySet(models.QuerySet):
    def newest_first(self) -> SubmissionQuerySet:
        """Newest first; the id breaks a tie between two submissions in the same instant."""
        return self.order_by("-submitted_at", "-id")

    def latest_per_patient(self) -> SubmissionQuerySet:
        """Only each patient's newest submission: the one that counts."""
        newest = self.model.objects.filter(patient=OuterRef("patient")).newest_first()
        return self.filter(id=Subquery(newest.values("id")[:1]))


class ConsentTextQuerySet(models.QuerySet):
    def current(self) -> ConsentTextQuerySet:
        return self.filter(is_current=True)

    def for_modality(self, modality: Modality) -> ConsentTextQuerySet:
        return self.filter(modality=modality)
