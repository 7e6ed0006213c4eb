"""Reusable filters for screening rows."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from django.db import models
from django.db.models import OuterRef, Subquery

if TYPE_CHECKING:
    from clinic.models import Modality, Patient


class QuestionnaireQuerySet(models.QuerySet):
    def current(self) -> QuestionnaireQuerySet:
        return self.filter(is_current=True)


class SubmissionQuerySet(models.QuerySet):
    def latest_per_patient(self) -> SubmissionQuerySet:
        """Only each patient's newest submission: the one that counts."""
        newest = self.model.objects.filter(patient=OuterRef("patient")).order_by("-submitted_at", "-id")
        return self.filter(id=Subquery(newest.values("id")[:1]))

    def for_patients(self, patients: Iterable[Patient]) -> SubmissionQuerySet:
        return self.filter(patient__in=[patient.pk for patient in patients])


class ConsentTextQuerySet(models.QuerySet):
    def current(self) -> ConsentTextQuerySet:
        return self.filter(is_current=True)

    def for_modality(self, modality: Modality) -> ConsentTextQuerySet:
        return self.filter(modality=modality)


class ConsentQuerySet(models.QuerySet):
    def of_current_texts(self) -> ConsentQuerySet:
        return self.filter(consent_text__is_current=True)
