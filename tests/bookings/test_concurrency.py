"""No double booking under concurrency, against a real PostgreSQL server.

Each test starts threads that wait at a barrier and then book at once; every thread uses its
own database connection (closed at the end).  Exactly one booking of a contested slot wins,
the others get ``BookingRefused`` with a clear message, and nothing else goes wrong.
``serialized_rollback`` restores the seeded catalogue and questionnaire after each flush.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta

import pytest
import time_machine
from django.db import IntegrityError, connection, connections, transaction

from bookings.models import Appointment
from bookings.services import appointments as appointment_services
from bookings.services.appointments import BookingRefused, appointment_book
from clinic.models import Modality, Patient, Resource
from tests.bookings.conftest import MONDAY, NOW, at, cleared, working_hours
from tests.factories import PatientFactory, PractitionerFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

THREADS = 50
TUESDAY = MONDAY + timedelta(days=1)


@pytest.fixture(scope="module", autouse=True)
def _leave_the_seeded_rows_behind(django_db_blocker):
    """The flush after the last test here empties every table; put the seeded catalogue back
    so tests that run later (and reach the database only through fixtures) still find it."""
    yield
    with django_db_blocker.unblock():
        serialized = getattr(connection, "_test_serialized_contents", None)
        if serialized:
            connection.creation.deserialize_db_from_string(serialized)


@pytest.fixture
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def _patients(count: int) -> list[Patient]:
    return [cleared(PatientFactory()) for _ in range(count)]


def _race(attempts: list[Callable[[], object]]) -> Counter:
    """Run every attempt at once in its own thread; count outcomes."""
    barrier = threading.Barrier(len(attempts))
    outcomes: Counter = Counter()
    messages: list[str] = []
    lock = threading.Lock()

    def run(attempt: Callable[[], object]) -> None:
        try:
            barrier.wait()
            attempt()
            outcome = "booked"
        except BookingRefused as refused:
            outcome = "refused"
            with lock:
                messages.append(refused.message)
        except Exception as error:
            outcome = f"error: {type(error).__name__}: {error}"
        finally:
            connections.close_all()
        with lock:
            outcomes[outcome] += 1

    threads = [threading.Thread(target=run, args=(attempt,)) for attempt in attempts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    unfinished = sum(thread.is_alive() for thread in threads)
    if unfinished:
        outcomes["unfinished after 120 s"] = unfinished
    outcomes["messages"] = len(messages)
    outcomes["taken_messages"] = sum("just been taken" in message for message in messages)
    return outcomes


def _explain(outcomes: Counter) -> str:
    """Every outcome, errors by type and message, and the server's connection limit: a thread that
    could not even connect (two suites of fifty threads each on one server) fails differently from
    one the booking service let down."""
    with connection.cursor() as cursor:
        cursor.execute("SHOW max_connections")
        (limit,) = cursor.fetchone()
    return f"outcomes {dict(outcomes)}; PostgreSQL max_connections={limit}"


def _book(patient: Patient, modality: Modality, starts_at: datetime) -> Callable[[], object]:
    return lambda: appointment_book(patient=patient, modality=modality, starts_at=starts_at, booked_by=patient.user)


@pytest.fixture
def chamber_team(frozen, wbc):
    """Three practitioners deliver whole-body cryotherapy: only the single chamber limits the slot."""
    team = [PractitionerFactory(modalities=[wbc]) for _ in range(3)]
    for person in team:
        working_hours(person)
    return team


def test_fifty_concurrent_bookings_of_one_chamber_slot_give_one_appointment(chamber_team, wbc):
    earlier = cleared(PatientFactory())
    appointment_book(patient=earlier, modality=wbc, starts_at=at(TUESDAY, 9), booked_by=earlier.user)
    patients = _patients(THREADS)
    outcomes = _race([_book(patient, wbc, at(TUESDAY, 10)) for patient in patients])
    assert outcomes["booked"] == 1, _explain(outcomes)
    assert outcomes["refused"] == THREADS - 1, _explain(outcomes)
    assert outcomes["taken_messages"] == THREADS - 1, _explain(outcomes)
    assert sum(count for key, count in outcomes.items() if key.startswith("error")) == 0, _explain(outcomes)
    assert Appointment.objects.active().filter(starts_at=at(TUESDAY, 10)).count() == 1


def test_fifty_concurrent_bookings_on_an_empty_day_give_one_appointment(chamber_team, wbc):
    patients = _patients(THREADS)
    assert not Appointment.objects.exists()
    outcomes = _race([_book(patient, wbc, at(TUESDAY, 10)) for patient in patients])
    assert outcomes["booked"] == 1, _explain(outcomes)
    assert outcomes["refused"] == THREADS - 1, _explain(outcomes)
    assert sum(count for key, count in outcomes.items() if key.startswith("error")) == 0, _explain(outcomes)
    assert Appointment.objects.count() == 1


def test_overlapping_but_different_times_give_one_appointment(frozen, acupuncture_follow_up):
    # One acupuncturist: a 45-minute session plus 10 minutes' buffer; 10:00, 10:15, 10:30 all overlap.
    practitioner = PractitionerFactory(modalities=[acupuncture_follow_up])
    working_hours(practitioner)
    patients = _patients(THREADS)
    starts = [at(TUESDAY, 10), at(TUESDAY, 10, 15), at(TUESDAY, 10, 30)]
    outcomes = _race(
        [_book(patient, acupuncture_follow_up, starts[index % 3]) for index, patient in enumerate(patients)]
    )
    assert outcomes["booked"] == 1, _explain(outcomes)
    assert outcomes["refused"] == THREADS - 1, _explain(outcomes)
    assert sum(count for key, count in outcomes.items() if key.startswith("error")) == 0, _explain(outcomes)
    assert Appointment.objects.active().count() == 1


def test_back_to_back_slots_both_succeed(chamber_team, wbc):
    # 10:00 is blocked until 10:25 (15 min + 10 min buffer); 10:30 does not touch it.
    first, second = _patients(2)
    outcomes = _race([_book(first, wbc, at(TUESDAY, 10)), _book(second, wbc, at(TUESDAY, 10, 30))])
    assert outcomes["booked"] == 2, _explain(outcomes)
    assert Appointment.objects.active().count() == 2


def test_without_the_service_lock_the_database_still_refuses_and_the_user_gets_a_clear_message(
    chamber_team, wbc, monkeypatch
):
    # ``_lock`` also reads the modality as it is now; read it without taking any lock.
    monkeypatch.setattr(
        appointment_services, "_lock", lambda *, modality, practitioner: Modality.objects.get(pk=modality.pk)
    )
    patients = _patients(20)
    outcomes = _race([_book(patient, wbc, at(TUESDAY, 10)) for patient in patients])
    assert outcomes["booked"] == 1, _explain(outcomes)
    assert outcomes["refused"] == 19, _explain(outcomes)
    assert sum(count for key, count in outcomes.items() if key.startswith("error")) == 0, _explain(outcomes)


def _insert_overlap(appointment: Appointment, *, practitioner_id: int, starts_at: datetime) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO bookings_appointment (patient_id, practitioner_id, modality_id, resource_id, starts_at,"
            " ends_at, blocked_until, status, cancelled_late, holds_resource_exclusively, created_by_id,"
            " created_at, updated_at) VALUES (%s, %s, %s, %s, %s, %s, %s, 'booked', false, %s, %s, now(), now())",
            [
                appointment.patient_id,
                practitioner_id,
                appointment.modality_id,
                appointment.resource_id,
                starts_at,
                starts_at + timedelta(minutes=15),
                starts_at + timedelta(minutes=25),
                appointment.holds_resource_exclusively,
                appointment.created_by_id,
            ],
        )


def test_raw_sql_overlap_for_the_same_practitioner_is_refused_by_the_database(chamber_team, wbc):
    patient = cleared(PatientFactory())
    appointment = appointment_book(patient=patient, modality=wbc, starts_at=at(TUESDAY, 10), booked_by=patient.user)
    with pytest.raises(IntegrityError), transaction.atomic():
        _insert_overlap(appointment, practitioner_id=appointment.practitioner_id, starts_at=at(TUESDAY, 10, 10))
    assert Appointment.objects.count() == 1


def test_raw_sql_overlap_in_the_chamber_with_another_practitioner_is_refused_by_the_database(chamber_team, wbc):
    patient = cleared(PatientFactory())
    appointment = appointment_book(patient=patient, modality=wbc, starts_at=at(TUESDAY, 10), booked_by=patient.user)
    other = next(person for person in chamber_team if person.pk != appointment.practitioner_id)
    with pytest.raises(IntegrityError), transaction.atomic():
        _insert_overlap(appointment, practitioner_id=other.pk, starts_at=at(TUESDAY, 10, 20))
    assert Appointment.objects.count() == 1


def _hold_lock_on(resource_id: int, held: threading.Event, release: threading.Event) -> None:
    """Another transaction (an admin editing the chamber, a stuck request) keeps the chamber row locked."""
    try:
        with transaction.atomic():
            list(Resource.objects.select_for_update().filter(pk=resource_id))
            held.set()
            release.wait(timeout=30)
    finally:
        connections.close_all()


@pytest.fixture
def short_lock_timeout():
    """The server gives up waiting for a row lock after 300 ms (a deployment may set ``lock_timeout``)."""
    with connection.cursor() as cursor:
        cursor.execute("SET lock_timeout = '300ms'")
    yield
    with connection.cursor() as cursor:
        cursor.execute("RESET lock_timeout")


def _locked_chamber(wbc: Modality, *, release_after: float | None) -> tuple[threading.Thread, threading.Event]:
    held, release = threading.Event(), threading.Event()
    holder = threading.Thread(target=_hold_lock_on, args=(wbc.resource_id, held, release))
    holder.start()
    assert held.wait(timeout=10)
    if release_after is not None:
        threading.Timer(release_after, release.set).start()
    return holder, release


def test_a_booking_that_cannot_get_the_chamber_lock_is_refused_in_plain_words(chamber_team, wbc, short_lock_timeout):
    patient = cleared(PatientFactory())
    holder, release = _locked_chamber(wbc, release_after=None)
    try:
        with pytest.raises(BookingRefused, match="please try again in a moment"):
            appointment_book(patient=patient, modality=wbc, starts_at=at(TUESDAY, 10), booked_by=patient.user)
    finally:
        release.set()
        holder.join(timeout=30)
    assert not Appointment.objects.exists()


def test_a_booking_retries_and_succeeds_once_a_briefly_held_lock_is_released(chamber_team, wbc, short_lock_timeout):
    patient = cleared(PatientFactory())
    holder, release = _locked_chamber(wbc, release_after=0.35)  # after the first try has timed out
    try:
        appointment = appointment_book(patient=patient, modality=wbc, starts_at=at(TUESDAY, 10), booked_by=patient.user)
    finally:
        release.set()
        holder.join(timeout=30)
    assert appointment.status == Appointment.Status.BOOKED
    assert Appointment.objects.count() == 1
