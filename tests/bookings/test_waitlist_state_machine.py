"""Random sequences of joins, cancellations, direct bookings, accepts, declines, leaves, expiries and
new hours (extra evening hours, time off taken back).

Whatever the order: a slot never holds two bookings, at most one offer of a slot holds at a time,
a slot is offered in join order (nobody who joined earlier and still waits is skipped), each offer
has exactly one outbox message, no patient is offered one slot twice, and no patient holds two
offers at once.
"""

from __future__ import annotations

import contextlib
from collections import Counter
from datetime import time, timedelta

import pytest
import time_machine
from django.db import transaction
from django.db.models import Q
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule, run_state_machine_as_test

from bookings.models import Appointment, ExtraHours, TimeOff, WaitlistEntry, WaitlistOffer
from bookings.services.appointments import BookingRefused, appointment_book, appointment_cancel
from bookings.services.waitlist import (
    WaitlistOfferGone,
    WaitlistRefused,
    waitlist_hours_opened,
    waitlist_join,
    waitlist_leave,
    waitlist_offer_accept,
    waitlist_offer_decline,
    waitlist_offers_advance,
    waitlist_slot_freed,
)
from clinic.models import Modality, Patient, Practitioner, User
from notifications.models import Reminder
from tests.bookings.conftest import MONDAY, NOW, at, cleared, working_hours
from tests.factories import AdminFactory, PatientFactory, PractitionerFactory

TUESDAY = MONDAY + timedelta(days=1)
SLOTS = [at(TUESDAY, 10), at(TUESDAY, 10, 30), at(TUESDAY, 11)]
Offer = WaitlistOffer.Status


class WaitlistMachine(RuleBasedStateMachine):
    waiters: list[Patient]
    holder: Patient
    practitioner: Practitioner
    modality: Modality
    staff: User
    accepted_total = 0

    def __init__(self) -> None:
        super().__init__()
        self._atomic = transaction.atomic()
        self._atomic.__enter__()
        self._clock = time_machine.travel(NOW, tick=False)
        self.clock = self._clock.start()
        for starts_at in SLOTS:
            appointment_book(
                patient=self.holder, modality=self.modality, starts_at=starts_at, booked_by=self.holder.user
            )
        self.seen_offer_ids: set[int] = set()

    def teardown(self) -> None:
        self._clock.stop()
        transaction.set_rollback(True)
        self._atomic.__exit__(None, None, None)

    def _freed(self, starts_at) -> None:
        """What the cancellation's on-commit hook does (on-commit callbacks do not run inside this test's atomic)."""
        waitlist_slot_freed(modality=self.modality, starts_at=starts_at, practitioner=self.practitioner)

    def _offers(self, *statuses: str) -> list[WaitlistOffer]:
        return list(WaitlistOffer.objects.filter(status__in=statuses).order_by("pk"))

    @rule(waiter=st.integers(0, 3))
    def join(self, waiter: int) -> None:
        patient = self.waiters[waiter]
        try:
            waitlist_join(
                patient=patient,
                modality=self.modality,
                weekdays=list(range(7)),
                earliest_time=time(8),
                latest_time=time(18),
                available_from=MONDAY,
                available_until=MONDAY + timedelta(days=7),
                actor=patient.user,
            )
        except WaitlistRefused:
            assert WaitlistEntry.objects.filter(patient=patient, status=WaitlistEntry.Status.WAITING).exists()
            return
        # A patient who joins after a slot freed is offered it only if it is not held for someone.
        for starts_at in SLOTS:
            self._freed(starts_at)

    @rule(slot=st.sampled_from(SLOTS))
    def cancel(self, slot) -> None:
        appointment = Appointment.objects.active().filter(starts_at=slot).first()
        if appointment is None:
            return
        appointment_cancel(appointment=appointment, by=self.staff)
        self._freed(slot)

    @rule(slot=st.sampled_from(SLOTS))
    def book_directly(self, slot) -> None:
        with contextlib.suppress(BookingRefused):
            appointment_book(patient=self.holder, modality=self.modality, starts_at=slot, booked_by=self.holder.user)

    @precondition(lambda self: WaitlistOffer.objects.filter(status__in=[Offer.OPEN, Offer.PASSED]).exists())
    @rule(data=st.data())
    def accept(self, data: st.DataObject) -> None:
        offer = data.draw(st.sampled_from(self._offers(Offer.OPEN, Offer.PASSED)))
        try:
            appointment = waitlist_offer_accept(offer=offer, actor=offer.patient.user)
        except WaitlistOfferGone:
            offer.refresh_from_db()
            assert offer.status != Offer.ACCEPTED
            return
        assert appointment.patient_id == offer.patient_id
        WaitlistMachine.accepted_total += 1
        for starts_at in SLOTS:  # other times held for this patient pass on (on commit in real life)
            self._freed(starts_at)

    @precondition(lambda self: WaitlistOffer.objects.filter(status=Offer.OPEN).exists())
    @rule(data=st.data())
    def decline(self, data: st.DataObject) -> None:
        offer = data.draw(st.sampled_from(self._offers(Offer.OPEN)))
        waitlist_offer_decline(offer=offer, actor=offer.patient.user)
        self._freed(offer.starts_at)  # its on-commit hook

    @rule(waiter=st.integers(0, 3))
    def leave(self, waiter: int) -> None:
        entry = WaitlistEntry.objects.filter(patient=self.waiters[waiter], status=WaitlistEntry.Status.WAITING).first()
        if entry is None:
            return
        held = [offer.starts_at for offer in entry.offers.filter(status=Offer.OPEN)]
        waitlist_leave(entry=entry, actor=entry.patient.user)
        for starts_at in held:
            self._freed(starts_at)

    @precondition(lambda self: not ExtraHours.objects.exists())
    @rule()
    def evening_hours_added(self) -> None:
        ExtraHours.objects.create(practitioner=self.practitioner, date=TUESDAY, start_time=time(17), end_time=time(18))
        waitlist_hours_opened(practitioner=self.practitioner, ranges=[(at(TUESDAY, 17), at(TUESDAY, 18))])  # its task

    @rule(slot=st.sampled_from(SLOTS))
    def time_off_taken_back(self, slot) -> None:
        time_off = TimeOff.objects.create(
            practitioner=self.practitioner, starts_at=slot, ends_at=slot + timedelta(hours=1)
        )
        time_off.delete()
        waitlist_hours_opened(practitioner=self.practitioner, ranges=[(slot, slot + timedelta(hours=1))], time_off=True)

    @rule()
    def hold_runs_out(self) -> None:
        self.clock.shift(timedelta(minutes=31))
        waitlist_offers_advance()

    @invariant()
    def never_two_bookings_of_one_slot(self) -> None:
        starts = Counter(Appointment.objects.active().values_list("starts_at", flat=True))
        assert all(count == 1 for count in starts.values())

    @invariant()
    def one_holding_offer_per_slot_and_never_twice_to_a_patient(self) -> None:
        open_slots = Counter(WaitlistOffer.objects.filter(status=Offer.OPEN).values_list("starts_at", flat=True))
        assert all(count == 1 for count in open_slots.values())
        pairs = Counter(WaitlistOffer.objects.values_list("patient_id", "starts_at"))
        assert all(count == 1 for count in pairs.values())

    @invariant()
    def each_offer_has_one_message(self) -> None:
        offers = WaitlistOffer.objects.count()
        assert Reminder.objects.filter(kind="waitlist_offer").count() == offers
        assert len(set(Reminder.objects.filter(kind="waitlist_offer").values_list("about_id", flat=True))) == offers

    @invariant()
    def offers_go_in_join_order(self) -> None:
        for offer in WaitlistOffer.objects.exclude(pk__in=self.seen_offer_ids).select_related("entry"):
            skipped = (
                WaitlistEntry.objects.filter(
                    status=WaitlistEntry.Status.WAITING, modality=self.modality, created_at__lt=offer.entry.created_at
                )
                # Never twice to one patient: one who left and joined again was offered it on the old entry.
                .exclude(patient__waitlist_offers__starts_at=offer.starts_at)
                .exclude(patient__appointments__starts_at=offer.starts_at, patient__appointments__status="booked")
                # One held offer per patient: one holding another offer then was rightly passed over.
                .exclude(patient__in=self._holding_when(offer))
            )
            assert not skipped.exists(), f"offer {offer.pk} skipped an earlier entry"
            self.seen_offer_ids.add(offer.pk)

    @staticmethod
    def _holding_when(offer: WaitlistOffer):
        return (
            WaitlistOffer.objects.exclude(pk=offer.pk)
            .filter(offered_at__lte=offer.offered_at)
            .filter(Q(status=Offer.OPEN) | Q(answered_at__gte=offer.offered_at))
            .values("patient")
        )

    @invariant()
    def one_held_offer_per_patient(self) -> None:
        holding = Counter(WaitlistOffer.objects.filter(status=Offer.OPEN).values_list("patient_id", flat=True))
        assert all(count == 1 for count in holding.values())

    @invariant()
    def a_waiter_booked_in_a_slot_accepted_its_offer(self) -> None:
        for appointment in Appointment.objects.active().exclude(patient=self.holder):
            assert WaitlistOffer.objects.filter(appointment=appointment, status=Offer.ACCEPTED).exists()


@pytest.mark.django_db
def test_random_waitlist_sequences_keep_the_offer_rules(wbc: Modality) -> None:
    with time_machine.travel(NOW, tick=False):
        practitioner = PractitionerFactory(modalities=[wbc])
        working_hours(practitioner)
        WaitlistMachine.practitioner = practitioner
        WaitlistMachine.modality = wbc
        WaitlistMachine.holder = cleared(PatientFactory())
        WaitlistMachine.waiters = [cleared(PatientFactory()) for _ in range(4)]
        WaitlistMachine.staff = AdminFactory()
        WaitlistMachine.accepted_total = 0
    run_state_machine_as_test(
        WaitlistMachine,
        settings=settings(
            max_examples=15,
            stateful_step_count=15,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
        ),
    )
    assert WaitlistMachine.accepted_total > 0  # the sequences really booked from offers
