"""The waitlist under concurrency, against a real PostgreSQL server (threads, one connection each).

Two patients pressing "Book this time" for one freed slot at the same moment: one booking and one
kind refusal.  Two dispatchers (and two offerers) at once: each offer made once and sent once.
An unanswered offer passes to the next patient when its hold runs out.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.db import connection, connections

from bookings.models import Appointment, WaitlistOffer
from bookings.services.appointments import appointment_book, appointment_cancel
from bookings.services.waitlist import (
    WaitlistOfferGone,
    waitlist_offer_accept,
    waitlist_offers_advance,
    waitlist_slot_freed,
)
from notifications import services as outbox
from notifications.models import Reminder
from tests.bookings.conftest import MONDAY, NOW, at, cleared, working_hours
from tests.bookings.test_waitlist import join
from tests.factories import PatientFactory, PractitionerFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

TUESDAY = MONDAY + timedelta(days=1)
Offer = WaitlistOffer.Status


@pytest.fixture(scope="module", autouse=True)
def _leave_the_seeded_rows_behind(django_db_blocker):
    """Put the seeded catalogue back after the last flush here (as tests/bookings/test_concurrency.py does)."""
    yield
    with django_db_blocker.unblock():
        serialized = getattr(connection, "_test_serialized_contents", None)
        if serialized:
            connection.creation.deserialize_db_from_string(serialized)


@pytest.fixture
def frozen():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def _race(attempts: list[Callable[[], object]]) -> Counter:
    """Run every attempt at once, each in its own thread and connection; count the outcomes."""
    barrier = threading.Barrier(len(attempts))
    outcomes: Counter = Counter()
    lock = threading.Lock()

    def run(attempt: Callable[[], object]) -> None:
        try:
            barrier.wait()
            result = attempt()
            outcome = "ok" if result is not None else "none"
        except WaitlistOfferGone:
            outcome = "gone"
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
        thread.join(timeout=60)
    return outcomes


@pytest.fixture
def freed_slot(frozen, wbc):
    """A chamber slot on Tuesday at 10:00 that was booked and is now cancelled (nobody waited then);
    returns its practitioner."""
    practitioner = PractitionerFactory()
    working_hours(practitioner)
    holder = cleared(PatientFactory())
    appointment = appointment_book(patient=holder, modality=wbc, starts_at=at(TUESDAY, 10), booked_by=holder.user)
    appointment_cancel(appointment=appointment, by=holder.user)
    return practitioner


def test_two_patients_accepting_one_slot_at_once_get_one_booking_and_one_kind_refusal(freed_slot, frozen, wbc):
    first, second = (cleared(PatientFactory()) for _ in range(2))
    join(first, wbc)
    join(second, wbc)
    offer_first = waitlist_slot_freed(modality=wbc, starts_at=at(TUESDAY, 10), practitioner=freed_slot)
    frozen.shift(timedelta(minutes=31))
    waitlist_offers_advance()  # the first said nothing in time: the second is offered it too
    offer_second = WaitlistOffer.objects.get(patient=second)
    assert offer_second.status == Offer.OPEN

    outcomes = _race(
        [
            lambda: waitlist_offer_accept(offer=offer_first, actor=first.user),
            lambda: waitlist_offer_accept(offer=offer_second, actor=second.user),
        ]
    )

    assert outcomes == Counter({"ok": 1, "gone": 1})
    assert Appointment.objects.active().filter(starts_at=at(TUESDAY, 10)).count() == 1
    statuses = sorted(WaitlistOffer.objects.values_list("status", flat=True))
    assert statuses == sorted([Offer.ACCEPTED, Offer.GONE])


def test_an_offer_is_made_and_sent_once_even_with_two_offerers_and_two_dispatchers(
    freed_slot, frozen, wbc, monkeypatch
):
    waiting = cleared(PatientFactory())
    join(waiting, wbc)
    # No worker is asked on commit: only the dispatchers hand the message out.
    monkeypatch.setattr(outbox, "_send_after_commit", lambda ids: None)
    mail.outbox.clear()

    offered = _race([lambda: waitlist_slot_freed(modality=wbc, starts_at=at(TUESDAY, 10), practitioner=freed_slot)] * 2)
    assert offered == Counter({"ok": 1, "none": 1})
    assert Reminder.objects.filter(kind="waitlist_offer").count() == 1

    def dispatcher() -> list:
        return [outbox.reminder_deliver(reminder_id=pk) for pk in outbox.reminders_dispatch_due(now=NOW)] or None

    _race([dispatcher, dispatcher])
    # A row leased by one dispatcher and then handed out again (lease expired) is still sent once.
    for reminder_id in Reminder.objects.values_list("pk", flat=True):
        outbox.reminder_deliver(reminder_id=reminder_id)
    assert [message.to for message in mail.outbox] == [[waiting.user.email]]
    assert Reminder.objects.get(kind="waitlist_offer").state == Reminder.State.SENT


def test_an_unanswered_offer_moves_to_the_next_patient_after_it_expires(freed_slot, frozen, wbc):
    first, second, third = (cleared(PatientFactory()) for _ in range(3))
    for patient in (first, second, third):
        join(patient, wbc)
    waitlist_slot_freed(modality=wbc, starts_at=at(TUESDAY, 10), practitioner=freed_slot)
    assert WaitlistOffer.objects.filter(status=Offer.OPEN).get().patient == first

    frozen.shift(timedelta(minutes=29, seconds=59))
    assert waitlist_offers_advance() == 0
    frozen.shift(timedelta(seconds=1))
    assert waitlist_offers_advance() == 1
    assert WaitlistOffer.objects.filter(status=Offer.OPEN).get().patient == second

    frozen.shift(timedelta(minutes=30))
    assert waitlist_offers_advance() == 1
    assert WaitlistOffer.objects.filter(status=Offer.OPEN).get().patient == third
    sent_to = [message.to[0] for message in mail.outbox if "come free" in message.subject]
    assert sent_to == [first.user.email, second.user.email, third.user.email]
