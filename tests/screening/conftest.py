from __future__ import annotations

import pytest
from django.utils import timezone

from clinic.models import Modality


@pytest.fixture
def today():
    return timezone.localdate()


@pytest.fixture
def modalities(db) -> dict[str, Modality]:
    """The seeded modalities by slug."""
    return {m.slug: m for m in Modality.objects.all()}
