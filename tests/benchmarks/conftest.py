"""Clinics built by the benchmark's generator, inside the test's transaction."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest
from django.db import transaction

from benchmarks.generator import GeneratedClinic, clinic_generate


@contextmanager
def generated_clinic(appointments: int) -> Iterator[GeneratedClinic]:
    """A generated clinic that disappears again when the block ends (rolled back to a savepoint),
    so one test can compare two sizes of clinic."""
    with transaction.atomic():
        yield clinic_generate(appointments=appointments, progress=lambda line: None)
        transaction.set_rollback(True)


@pytest.fixture
def clinic_of() -> Callable[[int], object]:
    return generated_clinic
