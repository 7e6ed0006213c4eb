"""The waitlist: who may join, who is offered a freed time and in which order, and who gets it."""

from __future__ import annotations

from datetime import time, timedelta

import pytest
import time_machine
from django.core import mail

from bookings.models import Appointment, BookingPolicy, WaitlistEntry, WaitlistOffer
from bookings.services.appointments import appointment_book, appointment_cancel, appointment_reschedule
from bookings.services.waitlist import (
    WaitlistOfferGone,
    WaitlistRefused,
    waitlist_join,
    waitlist_leave,
    waitlist_offer_accept,
    waitlist_offer_decline,
    waitlist_offers_advance,
    waitlist_slot_freed,
)
from bookings.tasks import BEAT_SCHEDULES
from clinic.care_team import CareTeamRefused
from clinic.models import AuditEvent
from notifications.models import Reminder
from tests.bookings.conftest import MONDAY, NOW, at, cleared
from tests.factories import FrontDeskFactory, PatientFactory, PractitionerFactory
from tests.screening.factories import submission_with_answers

TUESDAY = MONDAY + timedelta(days=1)
Offer = WaitlistOffer.Status


def join(patient, modality, *, actor=None, **overrides) -> WaitlistEntry:
    fields = {
        "weekdays": list(range(7)),
        "earliest_time": time(8),
        "latest_time": time(20),
        "available_from": MONDAY,
        "available_until": MONDAY + timedelta(days=14),
    } | overrides
    return waitlist_join(patient=patient, modality=modality, actor=actor or patient.user, **fields)


def booked(patient, modality, starts_at) -> Appointment:
    return appointment_book(patient=patient, modality=modality, starts_at=starts_at, booked_by=patient.user)


@pytest.fixture
def slot(working_practitioner, screened_other_patient, wbc) -> Appointment:
    """Tuesday 10:00 in the chamber, booked by the other patient (who may cancel it)."""
    return booked(screened_other_patient, wbc, at(TUESDAY, 10))


def waiting_patients(count: int) -> list:
    return [cleared(PatientFactory()) for _ in range(count)]


def cancel(appointment: Appointment, capture) -> None:
    with capture(execute=True):
        appointment_cancel(appointment=appointment, by=appointment.patient.user)


def offers_to(patient) -> list[WaitlistOffer]:
    return list(WaitlistOffer.objects.filter(patient=patient))


# --- Joining ------------------------------------------------------------------------------------


def test_patient_joins_with_days_window_and_dates(screened_patient, wbc):
    entry = join(screened_patient, wbc, weekdays=[1, 3], earliest_time=time(9), latest_time=time(12))
    assert entry.status == WaitlistEntry.Status.WAITING
    assert entry.weekday_names == ["Tuesday", "Thursday"]
    assert not AuditEvent.objects.filter(patient=screened_patient).exists()  # the patient themselves: no audit


def test_patient_whose_screening_forbids_the_modality_cannot_join_and_is_told_why(clock, patient, wbc):
    submission_with_answers(patient=patient, yes=["raynauds"])
    with pytest.raises(WaitlistRefused) as refused:
        join(patient, wbc)
    assert refused.value.screening is not None
    assert "Raynaud" in refused.value.message
    assert not WaitlistEntry.objects.exists()


def test_unscreened_patient_cannot_join(clock, patient, wbc):
    with pytest.raises(WaitlistRefused):
        join(patient, wbc)


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"available_from": MONDAY - timedelta(days=1)}, "available_from"),
        ({"available_until": MONDAY - timedelta(days=1), "available_from": MONDAY}, "available_until"),
        ({"available_until": MONDAY + timedelta(days=120)}, "available_until"),
        ({"weekdays": []}, "weekdays"),
        ({"earliest_time": time(12), "latest_time": time(9)}, "latest_time"),
    ],
)
def test_join_refuses_dates_in_the_past_beyond_the_horizon_or_an_empty_window(screened_patient, wbc, overrides, field):
    with pytest.raises(WaitlistRefused) as refused:
        join(screened_patient, wbc, **overrides)
    assert refused.value.field == field
    assert not WaitlistEntry.objects.exists()


def test_a_second_join_for_the_same_treatment_is_refused(screened_patient, wbc):
    join(screened_patient, wbc)
    with pytest.raises(WaitlistRefused, match="Already on the waitlist"):
        join(screened_patient, wbc)


def test_desk_joins_for_a_patient_and_it_is_audited(screened_patient, wbc):
    desk = FrontDeskFactory()
    entry = join(screened_patient, wbc, actor=desk)
    assert entry.created_by == desk
    event = AuditEvent.objects.get(patient=screened_patient, action=AuditEvent.Action.CREATE)
    assert event.actor == desk
    assert "waitlist" in event.description


def test_desk_is_told_only_the_screening_word_not_the_answers(clock, patient, wbc):
    submission_with_answers(patient=patient, yes=["raynauds"])
    with pytest.raises(WaitlistRefused) as refused:
        join(patient, wbc, actor=FrontDeskFactory())
    assert "Raynaud" not in refused.value.message


def test_practitioner_outside_the_care_team_cannot_add_a_patient(screened_patient, wbc):
    with pytest.raises(CareTeamRefused):
        join(screened_patient, wbc, actor=PractitionerFactory().user)


# --- Offering a freed slot ------------------------------------------------------------------------


def test_cancellation_offers_the_slot_to_the_first_who_joined_by_email(slot, wbc, django_capture_on_commit_callbacks):
    first, second = waiting_patients(2)
    join(first, wbc)
    join(second, wbc)
    cancel(slot, django_capture_on_commit_callbacks)
    (offer,) = WaitlistOffer.objects.all()
    assert offer.patient == first
    assert offer.status == Offer.OPEN
    assert offer.expires_at == NOW + timedelta(minutes=30)
    emails = [message for message in mail.outbox if message.to == [first.user.email]]
    assert len(emails) == 1
    assert "A time has come free" in emails[0].subject
    assert f"/bookings/waitlist/offers/{offer.pk}/" in emails[0].body
    assert not [message for message in mail.outbox if message.to == [second.user.email]]


def test_patient_who_cannot_make_the_day_or_window_is_skipped(slot, wbc, django_capture_on_commit_callbacks):
    mornings_only, wednesdays_only, fits = waiting_patients(3)
    join(mornings_only, wbc, earliest_time=time(7), latest_time=time(10))  # the session ends at 10:15
    join(wednesdays_only, wbc, weekdays=[2])
    join(fits, wbc)
    cancel(slot, django_capture_on_commit_callbacks)
    assert WaitlistOffer.objects.get().patient == fits


def test_preferred_practitioner_is_respected(slot, wbc, django_capture_on_commit_callbacks):
    other = PractitionerFactory()
    wants_other, anyone = waiting_patients(2)
    join(wants_other, wbc, practitioner=other)
    join(anyone, wbc)
    cancel(slot, django_capture_on_commit_callbacks)
    assert WaitlistOffer.objects.get().patient == anyone


def test_moving_an_appointment_offers_its_old_time(slot, wbc, django_capture_on_commit_callbacks):
    (waiting,) = waiting_patients(1)
    join(waiting, wbc)
    with django_capture_on_commit_callbacks(execute=True):
        appointment_reschedule(appointment=slot, starts_at=at(TUESDAY, 14), by=slot.patient.user)
    offer = WaitlistOffer.objects.get()
    assert (offer.patient, offer.starts_at) == (waiting, at(TUESDAY, 10))


def test_a_slot_already_taken_again_is_not_offered(slot, wbc, screened_patient):
    (waiting,) = waiting_patients(1)
    join(waiting, wbc)
    appointment_cancel(appointment=slot, by=slot.patient.user)  # on-commit hook not run here
    booked(screened_patient, wbc, at(TUESDAY, 10))
    assert waitlist_slot_freed(modality=wbc, starts_at=at(TUESDAY, 10), practitioner=slot.practitioner) is None
    assert not WaitlistOffer.objects.exists()


def test_freeing_the_same_slot_twice_makes_one_offer_and_one_email(slot, wbc, django_capture_on_commit_callbacks):
    (waiting,) = waiting_patients(1)
    join(waiting, wbc)
    cancel(slot, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        waitlist_slot_freed(modality=wbc, starts_at=at(TUESDAY, 10), practitioner=slot.practitioner)
    assert WaitlistOffer.objects.count() == 1
    assert Reminder.objects.filter(kind="waitlist_offer").count() == 1
    assert len([message for message in mail.outbox if message.to == [waiting.user.email]]) == 1


# --- Answering ------------------------------------------------------------------------------------


def test_accepting_books_the_time_through_the_booking_service(slot, wbc, django_capture_on_commit_callbacks):
    (waiting,) = waiting_patients(1)
    entry = join(waiting, wbc)
    cancel(slot, django_capture_on_commit_callbacks)
    offer = WaitlistOffer.objects.get()
    appointment = waitlist_offer_accept(offer=offer, actor=waiting.user)
    assert (appointment.patient, appointment.starts_at, appointment.practitioner) == (
        waiting,
        at(TUESDAY, 10),
        slot.practitioner,
    )
    offer.refresh_from_db()
    entry.refresh_from_db()
    assert offer.status == Offer.ACCEPTED
    assert offer.appointment == appointment
    assert entry.status == WaitlistEntry.Status.BOOKED


def test_someone_else_cannot_accept_my_offer(slot, wbc, django_capture_on_commit_callbacks, screened_patient):
    (waiting,) = waiting_patients(1)
    join(waiting, wbc)
    cancel(slot, django_capture_on_commit_callbacks)
    with pytest.raises(CareTeamRefused):
        waitlist_offer_accept(offer=WaitlistOffer.objects.get(), actor=screened_patient.user)
    assert not Appointment.objects.filter(patient=screened_patient).exists()


def test_an_offer_whose_time_was_booked_online_is_refused_kindly_and_the_patient_stays(
    slot, wbc, django_capture_on_commit_callbacks, screened_patient
):
    (waiting,) = waiting_patients(1)
    entry = join(waiting, wbc)
    cancel(slot, django_capture_on_commit_callbacks)
    booked(screened_patient, wbc, at(TUESDAY, 10))
    with pytest.raises(WaitlistOfferGone, match=r"gone to someone else\. You are still on the waitlist"):
        waitlist_offer_accept(offer=WaitlistOffer.objects.get(), actor=waiting.user)
    entry.refresh_from_db()
    assert entry.status == WaitlistEntry.Status.WAITING
    assert WaitlistOffer.objects.get().status == Offer.GONE


def test_unanswered_offer_passes_to_the_next_after_the_hold(slot, wbc, django_capture_on_commit_callbacks, clock):
    first, second = waiting_patients(2)
    join(first, wbc)
    join(second, wbc)
    cancel(slot, django_capture_on_commit_callbacks)
    clock.shift(timedelta(minutes=29))
    assert waitlist_offers_advance() == 0
    clock.shift(timedelta(minutes=1))
    with django_capture_on_commit_callbacks(execute=True):
        assert waitlist_offers_advance() == 1
    assert [offer.status for offer in offers_to(first)] == [Offer.PASSED]
    (offer,) = offers_to(second)
    assert offer.status == Offer.OPEN
    assert [message.to for message in mail.outbox if "come free" in message.subject] == [
        [first.user.email],
        [second.user.email],
    ]


def test_a_late_answer_still_wins_if_first_and_the_next_is_told_kindly(
    slot, wbc, django_capture_on_commit_callbacks, clock
):
    first, second = waiting_patients(2)
    join(first, wbc)
    join(second, wbc)
    cancel(slot, django_capture_on_commit_callbacks)
    clock.shift(timedelta(minutes=31))
    waitlist_offers_advance()
    appointment = waitlist_offer_accept(offer=offers_to(first)[0], actor=first.user)
    assert appointment.patient == first
    with pytest.raises(WaitlistOfferGone):
        waitlist_offer_accept(offer=offers_to(second)[0], actor=second.user)
    assert Appointment.objects.active().filter(starts_at=at(TUESDAY, 10)).count() == 1
    assert offers_to(second)[0].status == Offer.GONE


def test_the_hold_is_the_policys(slot, wbc, django_capture_on_commit_callbacks):
    policy = BookingPolicy.load()
    policy.waitlist_offer_hold_minutes = 45
    policy.save()
    (waiting,) = waiting_patients(1)
    join(waiting, wbc)
    cancel(slot, django_capture_on_commit_callbacks)
    assert WaitlistOffer.objects.get().expires_at == NOW + timedelta(minutes=45)


def test_declining_passes_the_time_on_at_once_and_keeps_the_patient_waiting(
    slot, wbc, django_capture_on_commit_callbacks
):
    first, second = waiting_patients(2)
    entry = join(first, wbc)
    join(second, wbc)
    cancel(slot, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        waitlist_offer_decline(offer=offers_to(first)[0], actor=first.user)
    assert offers_to(first)[0].status == Offer.DECLINED
    assert offers_to(second)[0].status == Offer.OPEN
    entry.refresh_from_db()
    assert entry.status == WaitlistEntry.Status.WAITING


def test_leaving_withdraws_the_held_offer_and_passes_it_on(slot, wbc, django_capture_on_commit_callbacks):
    first, second = waiting_patients(2)
    entry = join(first, wbc)
    join(second, wbc)
    cancel(slot, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        waitlist_leave(entry=entry, actor=first.user)
    assert offers_to(first)[0].status == Offer.WITHDRAWN
    assert offers_to(second)[0].status == Offer.OPEN


def test_a_patient_is_never_offered_the_same_slot_twice(slot, wbc, django_capture_on_commit_callbacks, clock):
    (only,) = waiting_patients(1)
    join(only, wbc)
    cancel(slot, django_capture_on_commit_callbacks)
    clock.shift(timedelta(minutes=31))
    waitlist_offers_advance()
    waitlist_slot_freed(modality=wbc, starts_at=at(TUESDAY, 10), practitioner=slot.practitioner)
    assert len(offers_to(only)) == 1


def test_offer_email_not_sent_once_the_offer_no_longer_holds(slot, wbc, django_capture_on_commit_callbacks):
    (waiting,) = waiting_patients(1)
    entry = join(waiting, wbc)
    appointment_cancel(appointment=slot, by=slot.patient.user)
    offer = waitlist_slot_freed(modality=wbc, starts_at=at(TUESDAY, 10), practitioner=slot.practitioner)
    waitlist_leave(entry=entry, actor=waiting.user)
    assert Reminder.objects.about(offer).get().state == Reminder.State.CANCELLED


def test_the_beat_schedule_declares_the_pass_on_task():
    assert BEAT_SCHEDULES["waitlist: pass on unanswered offers"]["task"] == "bookings.tasks.waitlist_offers_advance"


def test_offers_are_not_made_for_times_inside_the_minimum_notice(
    working_practitioner, screened_other_patient, wbc, django_capture_on_commit_callbacks
):
    appointment = booked(screened_other_patient, wbc, at(MONDAY, 11))  # 4 hours ahead
    (waiting,) = waiting_patients(1)
    join(waiting, wbc)
    with time_machine.travel(NOW + timedelta(hours=3), tick=False), django_capture_on_commit_callbacks(execute=True):
        appointment_cancel(appointment=appointment, by=FrontDeskFactory())
    assert not WaitlistOffer.objects.exists()


def test_an_entry_whose_last_day_passed_does_not_block_joining_again(screened_patient, wbc, clock):
    old = join(screened_patient, wbc, available_until=MONDAY + timedelta(days=1))
    clock.shift(timedelta(days=3))
    cleared(screened_patient)  # the screening is still current; re-signed for good measure
    new = join(screened_patient, wbc, available_from=MONDAY + timedelta(days=3))
    old.refresh_from_db()
    assert old.status == WaitlistEntry.Status.LAPSED
    assert new.status == WaitlistEntry.Status.WAITING


def test_a_lapsed_entry_is_never_offered_anything(slot, wbc, django_capture_on_commit_callbacks):
    (waiting,) = waiting_patients(1)
    join(waiting, wbc, available_from=MONDAY, available_until=MONDAY)  # Monday only; the slot is Tuesday
    cancel(slot, django_capture_on_commit_callbacks)
    assert not WaitlistOffer.objects.exists()


def test_a_patient_holding_an_offer_is_not_offered_a_second_time_the_next_patient_is(
    working_practitioner, screened_other_patient, wbc, django_capture_on_commit_callbacks
):
    ten = booked(screened_other_patient, wbc, at(TUESDAY, 10))
    eleven = booked(screened_other_patient, wbc, at(TUESDAY, 11))
    first, second = waiting_patients(2)
    join(first, wbc)
    join(second, wbc)
    cancel(ten, django_capture_on_commit_callbacks)
    cancel(eleven, django_capture_on_commit_callbacks)
    assert [offer.starts_at for offer in offers_to(first)] == [at(TUESDAY, 10)]
    assert [offer.starts_at for offer in offers_to(second)] == [at(TUESDAY, 11)]
    assert len([message for message in mail.outbox if message.to == [first.user.email]]) == 1
    with django_capture_on_commit_callbacks(execute=True):
        waitlist_offer_accept(offer=offers_to(first)[0], actor=first.user)
    assert offers_to(second)[0].status == Offer.OPEN


def test_accepting_one_time_withdraws_the_other_time_i_was_offered(
    working_practitioner, screened_other_patient, wbc, django_capture_on_commit_callbacks, clock
):
    ten = booked(screened_other_patient, wbc, at(TUESDAY, 10))
    eleven = booked(screened_other_patient, wbc, at(TUESDAY, 11))
    (first,) = waiting_patients(1)
    join(first, wbc)
    cancel(ten, django_capture_on_commit_callbacks)
    clock.shift(timedelta(minutes=31))
    with django_capture_on_commit_callbacks(execute=True):
        waitlist_offers_advance()  # nobody else waits: the ten o'clock offer passes, still acceptable
    cancel(eleven, django_capture_on_commit_callbacks)
    assert {offer.starts_at for offer in offers_to(first)} == {at(TUESDAY, 10), at(TUESDAY, 11)}
    eleven_offer = next(offer for offer in offers_to(first) if offer.starts_at == at(TUESDAY, 11))
    with django_capture_on_commit_callbacks(execute=True):
        waitlist_offer_accept(offer=eleven_offer, actor=first.user)
    ten_offer = WaitlistOffer.objects.get(patient=first, starts_at=at(TUESDAY, 10))
    assert ten_offer.status == Offer.WITHDRAWN
