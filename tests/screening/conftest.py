from __future__ import annotations

import pytest
from django.utils import timezone

from clinic.models import Modality
from tests.factories import PractitionerFactory, care_team_join


@pytest.fixture
def today():
    return timezone.localdate()


@pytest.fixture
def modalities(db) -> dict[str, Modality]:
    """The seeded modalities by slug."""
    return {m.slug: m for m in Modality.objects.all()}


@pytest.fixture
def practitioner(db, patient):
    """The practitioner the front desk assigned to review ``patient``'s screening (their care team)."""
    practitioner = PractitionerFactory()
    care_team_join(patient=patient, practitioner=practitioner)
    return practitioner
