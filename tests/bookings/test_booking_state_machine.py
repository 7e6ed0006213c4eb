"""Random sequences of book / cancel / reschedule / move across a daylight-saving change.

Whatever the sequence, no two active appointments overlap for a practitioner or in the single
chamber, the acupuncture rooms never hold more than two, every appointment the model expects
is still there at the wall-clock time it was booked for, and refused actions change nothing.
"""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta

import pytest
import time_machine
from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule, run_state_machine_as_test

from bookings.models import Appointment
from bookings.services.appointments import (
    BookingRefused,
    appointment_book,
    appointment_cancel,
    appointment_move,
    appointment_reschedule,
)
from clinic.models import Modality, Patient, Practitioner, User
from tests.bookings.conftest import NOW, at, cleared, working_hours
from tests.factories import AdminFactory, PatientFactory, PractitionerFactory

# Friday 26 March to Tuesday 30 March 2027: the clocks go forward on Sunday 28 March.
DAYS = [date(2027, 3, 26) + timedelta(days=offset) for offset in range(5)]
TIMES = [(hour, minute) for hour in range(9, 12) for minute in (0, 15, 30, 45)]


class BookingMachine(RuleBasedStateMachine):
    patients: list[Patient]
    modalities: list[Modality]
    team: list[Practitioner]
    staff: User
    booked_total = 0

    def __init__(self) -> None:
        super().__init__()
        self._atomic = transaction.atomic()
        self._atomic.__enter__()
        self.expected: dict[int, tuple[int, tuple[int, int], date]] = {}  # id -> (patient id, local time, date)

    def teardown(self) -> None:
        transaction.set_rollback(True)
        self._atomic.__exit__(None, None, None)

    @rule(
        patient=st.integers(0, 3),
        modality=st.integers(0, 1),
        day=st.sampled_from(DAYS),
        wall=st.sampled_from(TIMES),
    )
    def book(self, patient: int, modality: int, day: date, wall: tuple[int, int]) -> None:
        person = self.patients[patient]
        before = Appointment.objects.count()
        try:
            appointment = appointment_book(
                patient=person, modality=self.modalities[modality], starts_at=at(day, *wall), booked_by=person.user
            )
        except BookingRefused:
            assert Appointment.objects.count() == before
            return
        self.expected[appointment.pk] = (person.pk, wall, day)
        BookingMachine.booked_total += 1

    @precondition(lambda self: self.expected)
    @rule(data=st.data())
    def cancel(self, data: st.DataObject) -> None:
        pk = data.draw(st.sampled_from(sorted(self.expected)))
        appointment_cancel(appointment=Appointment.objects.get(pk=pk), by=self.staff)
        del self.expected[pk]

    @precondition(lambda self: self.expected)
    @rule(data=st.data(), day=st.sampled_from(DAYS), wall=st.sampled_from(TIMES))
    def reschedule(self, data: st.DataObject, day: date, wall: tuple[int, int]) -> None:
        pk = data.draw(st.sampled_from(sorted(self.expected)))
        try:
            appointment_reschedule(appointment=Appointment.objects.get(pk=pk), starts_at=at(day, *wall), by=self.staff)
        except BookingRefused:
            return
        self.expected[pk] = (self.expected[pk][0], wall, day)

    @precondition(lambda self: self.expected)
    @rule(data=st.data(), day=st.sampled_from(DAYS), wall=st.sampled_from(TIMES), practitioner=st.integers(0, 2))
    def move_to_practitioner(self, data: st.DataObject, day: date, wall: tuple[int, int], practitioner: int) -> None:
        """The desk's move on the calendar: a chosen practitioner; a refusal leaves the appointment as it was."""
        pk = data.draw(st.sampled_from(sorted(self.expected)))
        before = Appointment.objects.values_list("starts_at", "practitioner_id", "blocked_until").get(pk=pk)
        try:
            moved = appointment_move(
                actor=self.staff,
                appointment=Appointment.objects.get(pk=pk),
                starts_at=at(day, *wall),
                practitioner=self.team[practitioner],
            )
        except BookingRefused:
            assert Appointment.objects.values_list("starts_at", "practitioner_id", "blocked_until").get(pk=pk) == before
            return
        assert moved.practitioner_id == self.team[practitioner].pk
        self.expected[pk] = (self.expected[pk][0], wall, day)

    @invariant()
    def nothing_is_lost_and_times_stay_on_the_wall_clock(self) -> None:
        active = {a.pk: a for a in Appointment.objects.active()}
        assert set(active) == set(self.expected)
        for pk, (patient_id, wall, day) in self.expected.items():
            local = timezone.localtime(active[pk].starts_at)
            assert active[pk].patient_id == patient_id
            assert (local.date(), (local.hour, local.minute)) == (day, wall)

    @invariant()
    def no_overlaps_and_capacity_respected(self) -> None:
        active = list(Appointment.objects.active().select_related("resource"))
        for index, first in enumerate(active):
            for second in active[index + 1 :]:
                overlap = first.starts_at < second.blocked_until and second.starts_at < first.blocked_until
                if not overlap:
                    continue
                assert first.practitioner_id != second.practitioner_id
                assert first.patient_id != second.patient_id
                if first.resource_id == second.resource_id:
                    assert first.resource.capacity > 1
        for appointment in active:
            if appointment.resource and appointment.resource.capacity > 1:
                at_once = Counter(
                    other.pk
                    for other in active
                    if other.resource_id == appointment.resource_id
                    and other.starts_at <= appointment.starts_at < other.blocked_until
                )
                assert len(at_once) <= appointment.resource.capacity


@pytest.mark.django_db
def test_random_book_cancel_reschedule_across_dst_never_overlaps_or_loses_an_appointment(
    wbc: Modality, acupuncture_follow_up: Modality
) -> None:
    with time_machine.travel(NOW, tick=False):
        team: list[Practitioner] = [
            PractitionerFactory(modalities=[wbc, acupuncture_follow_up]),
            PractitionerFactory(modalities=[wbc, acupuncture_follow_up]),
            PractitionerFactory(modalities=[acupuncture_follow_up]),
        ]
        for person in team:
            working_hours(person)
        BookingMachine.patients = [cleared(PatientFactory()) for _ in range(4)]
        BookingMachine.modalities = [wbc, acupuncture_follow_up]
        BookingMachine.team = team
        BookingMachine.staff = AdminFactory()
        BookingMachine.booked_total = 0
        run_state_machine_as_test(
            BookingMachine,
            settings=settings(
                max_examples=25,
                stateful_step_count=20,
                deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
            ),
        )
    assert BookingMachine.booked_total > 10  # the sequences really booked, not only got refused
