"""Booking fixtures: a frozen clinic clock, working hours and screened patients."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest
import time_machine

from bookings.models import WorkingHours
from clinic.models import Patient, Practitioner
from tests.screening.factories import screening_cleared

LONDON = ZoneInfo("Europe/London")
# Monday 22 March 2027, 07:00 GMT.  The clocks go forward on Sunday 28 March 2027.
NOW = datetime(2027, 3, 22, 7, 0, tzinfo=UTC)
MONDAY = date(2027, 3, 22)
AFTER_DST_MONDAY = date(2027, 3, 29)


def at(day: date, hour: int, minute: int = 0) -> datetime:
    """Local London wall-clock time on ``day``, aware."""
    return datetime.combine(day, time(hour, minute), tzinfo=LONDON)


def working_hours(
    practitioner: Practitioner, *, weekdays: Iterable[int] = range(7), start: time = time(9), end: time = time(17)
) -> None:
    WorkingHours.objects.bulk_create(
        WorkingHours(practitioner=practitioner, weekday=weekday, start_time=start, end_time=end) for weekday in weekdays
    )


def cleared(patient: Patient) -> Patient:
    screening_cleared(patient=patient)
    return patient


@pytest.fixture(autouse=True)
def _london(settings) -> None:
    settings.TIME_ZONE = "Europe/London"


@pytest.fixture
def clock() -> Iterator[time_machine.Coordinates]:
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def working_practitioner(clock, practitioner: Practitioner) -> Practitioner:
    """The shared ``practitioner`` (delivers everything), working 09:00-17:00 every day."""
    working_hours(practitioner)
    return practitioner


@pytest.fixture
def screened_patient(clock, patient: Patient) -> Patient:
    return cleared(patient)


@pytest.fixture
def screened_other_patient(clock, other_patient: Patient) -> Patient:
    return cleared(other_patient)
