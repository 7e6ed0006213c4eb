"""Moving an appointment against a real PostgreSQL server: a taken time is refused and the old
appointment stays as it was; moves and bookings racing for one slot give one winner."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
import time_machine

from bookings.models import Appointment
from bookings.services import appointments as appointment_services
from bookings.services.appointments import BookingRefused, appointment_book, appointment_move
from clinic.models import Modality, User
from tests.bookings.conftest import MONDAY, NOW, at, cleared, working_hours
from tests.bookings.test_concurrency import (  # noqa: F401 - the autouse fixture and the race harness
    _explain,
    _leave_the_seeded_rows_behind,
    _race,
)
from tests.factories import FrontDeskFactory, PatientFactory, PractitionerFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

TUESDAY = MONDAY + timedelta(days=1)


@pytest.fixture
def chamber_team(wbc):
    """Three practitioners deliver whole-body cryotherapy: only the single chamber limits the slot."""
    with time_machine.travel(NOW, tick=False):
        team = [PractitionerFactory(modalities=[wbc]) for _ in range(3)]
        for person in team:
            working_hours(person)
        yield team


def _booked(wbc: Modality, hour: int) -> Appointment:
    patient = cleared(PatientFactory())
    return appointment_book(patient=patient, modality=wbc, starts_at=at(TUESDAY, hour), booked_by=patient.user)


def _move(desk: User, appointment: Appointment, hour: int) -> Callable[[], object]:
    return lambda: appointment_move(actor=desk, appointment=appointment, starts_at=at(TUESDAY, hour))


def test_a_move_to_a_taken_time_is_refused_and_leaves_the_appointment_untouched(chamber_team, wbc):
    mine, theirs = _booked(wbc, 10), _booked(wbc, 11)
    with pytest.raises(BookingRefused, match="just been taken"):
        appointment_move(actor=FrontDeskFactory(), appointment=mine, starts_at=theirs.starts_at)
    mine.refresh_from_db()
    assert (mine.starts_at, mine.status) == (at(TUESDAY, 10), Appointment.Status.BOOKED)
    assert Appointment.objects.active().filter(starts_at=at(TUESDAY, 11)).count() == 1


def test_when_the_service_lock_is_bypassed_the_exclusion_constraint_refuses_the_move(chamber_team, wbc, monkeypatch):
    mine, theirs = _booked(wbc, 10), _booked(wbc, 11)
    # What a second copy of the rules would risk: availability read without the locks, and stale.
    monkeypatch.setattr(
        appointment_services, "_lock", lambda *, modality, practitioner: Modality.objects.get(pk=modality.pk)
    )
    real_find = appointment_services._find_slot
    monkeypatch.setattr(
        appointment_services,
        "_find_slot",
        lambda **kwargs: real_find(**{**kwargs, "exclude_appointment": theirs}),  # pretends 11:00 is free
    )
    with pytest.raises(BookingRefused, match="just been taken"):
        appointment_move(actor=FrontDeskFactory(), appointment=mine, starts_at=theirs.starts_at)
    mine.refresh_from_db()
    assert mine.starts_at == at(TUESDAY, 10)


def test_concurrent_moves_and_bookings_of_one_chamber_slot_give_one_winner(chamber_team, wbc):
    desk = FrontDeskFactory()
    movers = [_booked(wbc, 9 + index) for index in range(4)]  # 09:00 .. 12:00, all moving to 14:00
    newcomers = [cleared(PatientFactory()) for _ in range(4)]
    attempts = [_move(desk, appointment, 14) for appointment in movers] + [
        (lambda patient=patient: appointment_book(
            patient=patient, modality=wbc, starts_at=at(TUESDAY, 14), booked_by=patient.user
        ))
        for patient in newcomers
    ]  # fmt: skip
    outcomes = _race(attempts)
    assert outcomes["booked"] == 1, _explain(outcomes)
    assert outcomes["refused"] == len(attempts) - 1, _explain(outcomes)
    assert sum(count for key, count in outcomes.items() if key.startswith("error")) == 0, _explain(outcomes)
    assert Appointment.objects.active().filter(starts_at=at(TUESDAY, 14)).count() == 1
    # The movers that lost are where they were.
    for appointment in movers:
        now = Appointment.objects.get(pk=appointment.pk)
        assert now.status == Appointment.Status.BOOKED
        assert now.starts_at in (appointment.starts_at, at(TUESDAY, 14))
