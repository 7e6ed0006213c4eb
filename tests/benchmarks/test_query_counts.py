"""Query counts (not timings) of what ``make bench`` measures stay the same as the clinic grows."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

from benchmarks import measure

pytestmark = pytest.mark.django_db

SMALL, LARGE = 200, 2_000


# A fixed Monday morning: the measured day and week then hold the same kind of day at both sizes
# (on the real clock, a small clinic's measured day could be empty and cost fewer queries).
MEASURED_AT = datetime(2026, 11, 30, 10, tzinfo=ZoneInfo("Europe/London"))


def _counts(clinic_of, appointments: int) -> dict[str, int]:
    with time_machine.travel(MEASURED_AT, tick=True), clinic_of(appointments):
        subjects = measure.subjects_load()
        counts = {
            "availability_week": measure.availability_week_measure(subjects, runs=1, warmup=1).queries,
            "availability_day": measure.availability_day_measure(subjects, runs=1, warmup=1).queries,
            "booking": measure.booking_measure(subjects, runs=1, warmup=1).queries,
        }
        for name, timing in measure.pages_measure(subjects, runs=1, warmup=1).items():
            counts[f"page {name}"] = timing.queries
        return counts


_MEASURED: dict[int, dict[str, int]] = {}


@pytest.fixture
def counts_by_size(clinic_of) -> dict[int, dict[str, int]]:
    """Measured once for the module (generating two clinics is the slow part), by the first test
    that asks, inside its own transaction and with the test settings in force."""
    if not _MEASURED:
        for size in (SMALL, LARGE):
            _MEASURED[size] = _counts(clinic_of, size)
    return _MEASURED


def test_availability_for_every_practitioner_for_a_week_takes_the_same_few_queries_at_both_sizes(
    counts_by_size,
) -> None:
    assert counts_by_size[SMALL]["availability_week"] == counts_by_size[LARGE]["availability_week"]
    assert counts_by_size[LARGE]["availability_week"] <= 6
    assert counts_by_size[SMALL]["availability_day"] == counts_by_size[LARGE]["availability_day"] <= 6


@pytest.mark.parametrize("page", ["page patient_booking", "page practitioner_day", "page patient_chart"])
def test_page_query_count_does_not_grow_with_the_data(counts_by_size, page: str) -> None:
    assert counts_by_size[SMALL][page] == counts_by_size[LARGE][page]


def test_booking_service_query_count_does_not_grow_with_the_data(counts_by_size) -> None:
    assert counts_by_size[SMALL]["booking"] == counts_by_size[LARGE]["booking"]


def test_booking_service_stays_within_its_query_budget(counts_by_size) -> None:
    # 15 for the booking, up to 4 more the first time the patient books with that practitioner
    # (the care-team membership and its audit row; see tests/bookings/test_booking_queries.py).
    assert counts_by_size[LARGE]["booking"] <= 19
