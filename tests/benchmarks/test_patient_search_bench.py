"""The bench's patient search figure: its query count stays the same as the clinic grows."""

from __future__ import annotations

import pytest

from benchmarks import measure
from clinic.models import Patient

pytestmark = pytest.mark.django_db


def test_patient_search_costs_the_same_queries_at_every_size():
    runs = measure.patient_search_measure(sizes=[40, 400], runs=1, warmup=1)
    assert [run.patients for run in runs] == [40, 400]
    assert runs[0].name_typo_queries == runs[1].name_typo_queries
    assert runs[0].phone_queries == runs[1].phone_queries
    assert Patient.objects.count() == 0  # the measurement's patients are rolled back
