"""Writes on the waitlist: joining and leaving it, offering a freed slot, accepting, declining, passing on.

The rules, in one place:

* A patient (online) or staff for them (the desk, an admin, their care team; audited) joins the
  list for a modality with the weekdays and clinic-time window they can make and a date range
  that starts no earlier than today and ends within the booking horizon.  The screening gate
  applies as it does to booking: a patient who may not book the modality cannot join, and is
  told why.
* When a practitioner's slot frees (a cancellation or a move; ``waitlist_slot_freed``), it is
  offered to the first matching waiting entry in join order, one patient at a time.  The offer
  is an outbox message with a unique key (sent once) and holds for the booking policy's
  ``waitlist_offer_hold_minutes``; the database refuses a second open offer of one slot and a
  second offer of one slot to one patient.
* A patient holds one open offer at a time: while they hold one, the next matching patient is
  offered the next slot instead.
* New bookable time (extra hours, weekly hours added or widened, time off removed or shortened;
  ``waitlist_hours_opened``) offers its free slots, in time order, each to the first matching
  waiting patient, without offering two overlapping times of one practitioner at once.
* An offer not answered in time passes to the next matching entry (``waitlist_offers_advance``,
  a periodic task).  A passed offer may still be accepted while the slot is free: the first to
  accept gets it, through the booking service (screening gate, locks, constraints); anyone
  later is told kindly that it has gone, and stays on the list.
* The slot is not hidden from online booking while it is held: a patient booking it directly
  wins, and the waiting patient is told it has gone.  Holding it would mean availability
  reading offers on every page; the clinic preferred the simpler rule.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, time
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop, ngettext

from bookings import selectors
from bookings.models import Appointment, BookingPolicy, WaitlistEntry, WaitlistOffer
from bookings.services.appointments import (
    BookingRefused,
    _appointment_book,
    _retrying_contention,
    _screening_gate,
)
from bookings.services.reminders import BookingMessage
from clinic.audit import audit_record
from clinic.care_team import CareTeamRefused, care_team_may_book
from clinic.clinic_time import clinic_datetime, format_when
from clinic.models import AuditEvent, Modality, Patient, Practitioner, User
from notifications.models import Reminder
from notifications.services import reminder_plan, reminders_cancel
from screening.services import screening_gate

GONE_MESSAGE = gettext_noop(
    "Sorry, this time has just gone to someone else. You are still on the waitlist, "
    "and we will tell you when another time frees up."
)

Offer = WaitlistOffer.Status


class WaitlistRefused(Exception):
    """Joining or answering refused; ``message`` is for the person who tried, ``field`` names the form
    field it is about (or None), ``screening`` is the gate's decision when the screening said no."""

    def __init__(self, message: str, *, field: str | None = None, screening: Any = None) -> None:
        message = str(message)  # a lazy text takes the words of the language active where it is refused
        super().__init__(message)
        self.message = message
        self.field = field
        self.screening = screening


class WaitlistOfferGone(WaitlistRefused):
    """The offered time went to someone else (or was answered already); the patient stays on the list."""


# --- Joining and leaving ------------------------------------------------------------------------


def waitlist_dates_check(*, available_from: date, available_until: date, policy: BookingPolicy, today: date) -> None:
    """The date range rule: from today at the earliest, to no later than bookings open (the horizon)."""
    if available_from < today:
        raise WaitlistRefused(_("The first day cannot be in the past."), field="available_from")
    if available_until < available_from:
        raise WaitlistRefused(_("The last day must be on or after the first day."), field="available_until")
    last_bookable = timezone.localdate(policy.latest_start(timezone.now()))
    if available_until > last_bookable:
        weeks = policy.horizon_days // 7
        raise WaitlistRefused(
            ngettext(
                "Bookings open %(weeks)d week ahead, so the last day can be %(day)s at the latest.",
                "Bookings open %(weeks)d weeks ahead, so the last day can be %(day)s at the latest.",
                weeks,
            )
            % {"weeks": weeks, "day": format_when(last_bookable, "long_date")},
            field="available_until",
        )


@transaction.atomic
def waitlist_join(
    *,
    patient: Patient,
    modality: Modality,
    weekdays: list[int],
    earliest_time: time,
    latest_time: time,
    available_from: date,
    available_until: date,
    actor: User,
    practitioner: Practitioner | None = None,
    note: str = "",
) -> WaitlistEntry:
    """Put ``patient`` on the waitlist for ``modality``; ``actor`` is the patient or staff acting for them."""
    if not care_team_may_book(actor=actor, patient=patient, practitioner=practitioner):
        raise CareTeamRefused(_("You may not put this patient on the waitlist."))
    if not modality.is_active:
        raise WaitlistRefused(
            _("%(modality)s is not offered at the moment.") % {"modality": modality.name}, field="modality"
        )
    if practitioner is not None and not practitioner.modalities.filter(pk=modality.pk).exists():
        raise WaitlistRefused(
            _("%(practitioner)s does not offer %(modality)s.")
            % {"practitioner": practitioner.full_name, "modality": modality.name},
            field="practitioner",
        )
    days = sorted({int(day) for day in weekdays})
    if not days or any(day not in range(7) for day in days):
        raise WaitlistRefused(_("Choose at least one day of the week."), field="weekdays")
    if latest_time <= earliest_time:
        raise WaitlistRefused(_("The latest time must be after the earliest."), field="latest_time")
    policy = BookingPolicy.load()
    waitlist_dates_check(
        available_from=available_from, available_until=available_until, policy=policy, today=timezone.localdate()
    )
    try:
        _screening_gate(
            patient=patient, modality=modality, starts_at=clinic_datetime(available_from, time(12)), actor=actor
        )
    except BookingRefused as refused:
        raise WaitlistRefused(refused.message, field=None, screening=refused.screening) from refused
    mine = WaitlistEntry.objects.filter(patient=patient, modality=modality, status=WaitlistEntry.Status.WAITING)
    # An entry whose last day has passed no longer holds the patient's place: end it, so they can join again.
    mine.filter(available_until__lt=timezone.localdate()).update(
        status=WaitlistEntry.Status.LAPSED, ended_at=timezone.now()
    )
    if mine.exists():
        raise WaitlistRefused(
            _("Already on the waitlist for %(modality)s; change or leave that entry.") % {"modality": modality.name}
        )
    entry = WaitlistEntry(
        patient=patient,
        modality=modality,
        practitioner=practitioner,
        weekdays=days,
        earliest_time=earliest_time,
        latest_time=latest_time,
        available_from=available_from,
        available_until=available_until,
        note=note[:300],
        created_by=actor,
    )
    try:
        with transaction.atomic():
            entry.save()
    except IntegrityError as error:  # a second join racing the first
        raise WaitlistRefused(_("Already on the waitlist for %(modality)s.") % {"modality": modality.name}) from error
    if actor.pk != patient.user_id:
        audit_record(
            request=None,
            actor=actor,
            patient=patient,
            action=AuditEvent.Action.CREATE,
            target=entry,
            description=f"Put on the waitlist by staff: {modality.name}",
        )
    return entry


def _may_act_for(*, actor: User, patient: Patient) -> bool:
    return actor.pk == patient.user_id or care_team_may_book(actor=actor, patient=patient, practitioner=None)


@transaction.atomic
def waitlist_leave(*, entry: WaitlistEntry, actor: User) -> WaitlistEntry:
    """Take the entry off the list; its offers still holding pass to the next patient at once."""
    entry = WaitlistEntry.objects.select_for_update().select_related("patient").get(pk=entry.pk)
    if not _may_act_for(actor=actor, patient=entry.patient):
        raise CareTeamRefused(_("You may not change this patient's waitlist."))
    if entry.status != WaitlistEntry.Status.WAITING:
        return entry
    now = timezone.now()
    entry.status = WaitlistEntry.Status.LEFT
    entry.ended_at = now
    entry.save(update_fields=["status", "ended_at"])
    holding = list(entry.offers.filter(status=Offer.OPEN))
    entry.offers.filter(status__in=[Offer.OPEN, Offer.PASSED]).update(status=Offer.WITHDRAWN, answered_at=now)
    _cancel_offer_messages(offers=holding, reason="The patient left the waitlist.")
    if actor.pk != entry.patient.user_id:
        audit_record(
            request=None,
            actor=actor,
            patient=entry.patient,
            action=AuditEvent.Action.CHANGE,
            target=entry,
            description=f"Taken off the waitlist by staff: {entry.modality}",
        )
    for offer in holding:
        _offer_slot_on_commit(modality_id=offer.modality_id, practitioner_id=offer.practitioner_id, at=offer.starts_at)
    return entry


# --- Offering a freed slot ------------------------------------------------------------------------


def _offer_slot_on_commit(*, modality_id: int, practitioner_id: int, at: datetime) -> None:
    from bookings.tasks import waitlist_slot_offer  # the task module imports this one

    waitlist_slot_offer.delay_on_commit(modality_id, practitioner_id, at.isoformat())


def waitlist_slot_freed_on_commit(*, appointment: Appointment) -> None:
    """Once the caller's transaction commits, offer ``appointment``'s slot (as it was) to the waitlist.

    Call it from any service that frees a slot: cancelling, moving, new hours, time off removed.
    """
    _offer_slot_on_commit(
        modality_id=appointment.modality_id, practitioner_id=appointment.practitioner_id, at=appointment.starts_at
    )


def _slot_is_free(
    *, modality: Modality, practitioner: Practitioner, starts_at: datetime, policy: BookingPolicy
) -> bool:
    now = timezone.now()
    if not (policy.earliest_start(now) <= starts_at <= policy.latest_start(now)):
        return False
    day = timezone.localdate(starts_at)
    slots = selectors.free_slots(
        modality=modality, start=day, end=day, practitioner=practitioner, policy=policy, now=now
    )
    return any(slot.starts_at == starts_at for slot in slots)


def _may_take(*, entry: WaitlistEntry, modality: Modality, starts_at: datetime, ends_at: datetime) -> bool:
    """The patient can make it, may have it (screening) and has nothing else then."""
    if not entry.can_make(starts_at=starts_at, ends_at=ends_at) or not entry.patient.user.is_active:
        return False
    if not screening_gate(patient=entry.patient, modality=modality, on_date=timezone.localdate(starts_at)).allowed:
        return False
    return not (
        Appointment.objects.active()
        .filter(patient=entry.patient)
        .overlapping(starts_at, modality.occupies_until(starts_at))
        .exists()
    )


@transaction.atomic
def waitlist_slot_freed(*, modality: Modality, starts_at: datetime, practitioner: Practitioner) -> WaitlistOffer | None:
    """Offer ``practitioner``'s freed ``modality`` slot at ``starts_at`` to the next matching waiting patient.

    Returns the new offer, or None when the slot is held for someone already, is no longer free or
    bookable, or nobody waiting matches.  Idempotent: call it as often as you like.
    """
    # The booking service locks the practitioner too: a booking of this slot and its offer never interleave.
    Practitioner.objects.select_for_update(of=("self",), no_key=True).filter(pk=practitioner.pk).first()
    offered = WaitlistOffer.objects.of_slot(modality=modality, practitioner=practitioner, starts_at=starts_at)
    if offered.filter(status=Offer.OPEN).exists():
        return None
    policy = BookingPolicy.load()
    modality = Modality.objects.select_related("resource").get(pk=modality.pk)
    if not modality.is_active or not _slot_is_free(
        modality=modality, practitioner=practitioner, starts_at=starts_at, policy=policy
    ):
        return None
    ends_at = modality.slot_end(starts_at)
    day = timezone.localdate(starts_at)
    candidates = (
        WaitlistEntry.objects.waiting(today=timezone.localdate())
        .filter(modality=modality, available_from__lte=day, available_until__gte=day)
        .filter(Q(practitioner__isnull=True) | Q(practitioner=practitioner))
        .exclude(patient__in=offered.values("patient"))
        # One held offer per patient at a time: opening a day of new hours must not email one patient ten times.
        .exclude(patient__in=WaitlistOffer.objects.filter(status=Offer.OPEN).values("patient"))
        .select_related("patient__user")
        .in_join_order()
    )
    for entry in candidates:
        if _may_take(entry=entry, modality=modality, starts_at=starts_at, ends_at=ends_at):
            return _offer_make(
                entry=entry, practitioner=practitioner, starts_at=starts_at, ends_at=ends_at, policy=policy
            )
    return None


def waitlist_hours_opened(
    *, practitioner: Practitioner, ranges: Iterable[tuple[datetime, datetime]], time_off: bool = False
) -> list[WaitlistOffer]:
    """Offer the free slots that newly bookable time of ``practitioner`` (aware ``ranges``) opened to the waitlist.

    A slot counts when it is bookable now (notice, horizon, hours, the room, other bookings: the
    availability rules) and its session overlaps a range, or, when the ranges were ``time_off`` removed,
    its session with the buffer after it (time off keeps the buffer out too, hours only the session).
    Slots are taken in time order, each offered through ``waitlist_slot_freed`` (its own transaction,
    like ``waitlist_offers_advance``, so one slot's trouble does not hold up the rest); a slot
    overlapping a time this practitioner already has on offer is left alone, so two patients are never
    offered one session of the same person.  Idempotent: a second run offers nothing the first did not.
    Returns the offers made.
    """
    if not practitioner.is_active:
        return []
    now = timezone.now()
    policy = BookingPolicy.load()
    latest = policy.latest_start(now)
    earliest = policy.earliest_start(now)
    wanted = sorted((start, end) for start, end in ranges if start < end and end > earliest and start <= latest)
    if not wanted:
        return []
    today = timezone.localdate()
    modalities = list(practitioner.modalities.filter(is_active=True).select_related("resource"))
    waiting = list(
        WaitlistEntry.objects.waiting(today=today)
        .filter(modality__in=modalities)
        .filter(Q(practitioner__isnull=True) | Q(practitioner=practitioner))
    )
    holding = set(WaitlistOffer.objects.filter(status=Offer.OPEN).values_list("patient_id", flat=True))
    waiting = [entry for entry in waiting if entry.patient_id not in holding]
    if not waiting:  # the usual case: nobody to tell, so no availability to work out
        return []
    first_day = max(timezone.localdate(max(wanted[0][0], earliest)), today)
    last_day = min(timezone.localdate(max(end for _, end in wanted)), timezone.localdate(latest))
    candidates: list[tuple[datetime, datetime, datetime, Modality]] = []
    for modality in modalities:
        if not any(entry.modality_id == modality.pk for entry in waiting):
            continue
        for slot in selectors.free_slots(
            modality=modality, start=first_day, end=last_day, practitioner=practitioner, policy=policy, now=now
        ):
            until = modality.occupies_until(slot.starts_at)
            reach = until if time_off else slot.ends_at
            if any(slot.starts_at < end and reach > start for start, end in wanted):
                candidates.append((slot.starts_at, slot.ends_at, until, modality))
    held = [
        (offer.starts_at, offer.modality.occupies_until(offer.starts_at))
        for offer in WaitlistOffer.objects.filter(practitioner=practitioner, status=Offer.OPEN).select_related(
            "modality"
        )
    ]
    offers = []
    for starts_at, ends_at, until, modality in sorted(candidates, key=lambda slot: (slot[0], slot[3].pk)):
        if not waiting:  # everyone who could be offered a time holds one now
            break
        if any(starts_at < held_until and until > held_from for held_from, held_until in held):
            continue
        if not any(
            entry.modality_id == modality.pk and entry.can_make(starts_at=starts_at, ends_at=ends_at)
            for entry in waiting
        ):
            continue
        offer = waitlist_slot_freed(modality=modality, starts_at=starts_at, practitioner=practitioner)
        if offer is not None:
            offers.append(offer)
            held.append((starts_at, until))
            waiting = [entry for entry in waiting if entry.patient_id != offer.patient_id]
    return offers


def waitlist_hours_opened_on_commit(
    *, practitioner_id: int, ranges: list[tuple[datetime, datetime]], time_off: bool = False
) -> None:
    """Once the caller's transaction commits, offer the slots of newly bookable ``ranges`` (in a Celery task)."""
    from bookings.tasks import waitlist_hours_opened as task  # the task module imports this one

    if ranges:
        task.delay_on_commit(
            practitioner_id, [[start.isoformat(), end.isoformat()] for start, end in ranges], time_off=time_off
        )


def _offer_make(
    *, entry: WaitlistEntry, practitioner: Practitioner, starts_at: datetime, ends_at: datetime, policy: BookingPolicy
) -> WaitlistOffer | None:
    now = timezone.now()
    offer = WaitlistOffer(
        entry=entry,
        patient=entry.patient,
        modality=entry.modality,
        practitioner=practitioner,
        starts_at=starts_at,
        ends_at=ends_at,
        offered_at=now,
        expires_at=now + policy.waitlist_offer_hold,
    )
    try:
        with transaction.atomic():
            offer.save()
    except IntegrityError:  # another process offered this slot in the same instant (SQLite has no row locks)
        return None
    reminder_plan(
        key=f"waitlist-offer:{offer.pk}",
        kind=BookingMessage.WAITLIST_OFFER,
        patient=entry.patient,
        about=offer,
        about_at=starts_at,
        due_at=now,
        send_now=True,
    )
    return offer


def waitlist_offers_advance(*, now: datetime | None = None) -> int:
    """Pass every offer whose hold has run out to the next matching patient; returns how many passed.

    Each in its own transaction, so one slot's trouble does not hold up the others.  Idempotent.
    """
    now = now or timezone.now()
    passed = 0
    for offer_id in list(WaitlistOffer.objects.expired(now).order_by("expires_at").values_list("pk", flat=True)):
        if _offer_pass(offer_id=offer_id, now=now):
            passed += 1
    return passed


@transaction.atomic
def _offer_pass(*, offer_id: int, now: datetime) -> bool:
    offer = WaitlistOffer.objects.select_related("modality", "practitioner").filter(pk=offer_id).first()
    if offer is None:
        return False
    # The practitioner first, then the offer: the order accepting uses, so the two never deadlock.
    Practitioner.objects.select_for_update(of=("self",), no_key=True).filter(pk=offer.practitioner_id).first()
    locked = WaitlistOffer.objects.select_for_update().filter(pk=offer_id, status=Offer.OPEN).first()
    if locked is None or locked.expires_at > now:
        return False
    locked.status = Offer.PASSED
    locked.answered_at = now
    locked.save(update_fields=["status", "answered_at"])
    waitlist_slot_freed(modality=offer.modality, starts_at=offer.starts_at, practitioner=offer.practitioner)
    return True


# --- Answering an offer ---------------------------------------------------------------------------


def _offer_for(*, offer_id: int, actor: User) -> WaitlistOffer:
    offer = (
        WaitlistOffer.objects.select_for_update(of=("self",))
        .select_related("patient__user", "modality", "entry")
        .get(pk=offer_id)
    )
    if not _may_act_for(actor=actor, patient=offer.patient):
        raise CareTeamRefused(_("This offer is for someone else."))
    return offer


def waitlist_offer_accept(*, offer: WaitlistOffer, actor: User) -> Appointment:
    """Book the offered time for the offer's patient.  The first to accept gets it.

    Raises ``WaitlistOfferGone`` (a kind message; the patient stays on the list) when the time went
    to someone else or the offer was withdrawn, and ``WaitlistRefused`` when the screening says no.
    A second press of the same button returns the appointment the first one booked.  Retries
    briefly on database contention, like booking.
    """
    try:
        return _retrying_contention(lambda: _offer_accept(offer_id=offer.pk, actor=actor))
    except BookingRefused as refused:
        if refused.screening is not None:
            raise WaitlistRefused(refused.message, screening=refused.screening) from refused
        current = WaitlistOffer.objects.select_related("appointment").get(pk=offer.pk)
        if current.status == Offer.ACCEPTED and current.appointment is not None:
            return current.appointment
        _offer_mark_gone(offer_id=offer.pk)
        raise WaitlistOfferGone(_(GONE_MESSAGE)) from refused


@transaction.atomic
def _offer_accept(*, offer_id: int, actor: User) -> Appointment:
    offer = WaitlistOffer.objects.select_related("patient__user", "modality", "practitioner", "appointment").get(
        pk=offer_id
    )
    if not _may_act_for(actor=actor, patient=offer.patient):
        raise CareTeamRefused(_("This offer is for someone else."))
    if offer.status == Offer.ACCEPTED and offer.appointment is not None:
        return offer.appointment
    if not offer.may_be_accepted:
        raise WaitlistOfferGone(_(GONE_MESSAGE))
    # Booking locks the room and the practitioner, so every accept of this slot queues here; the offer
    # rows are locked only after, in one order everywhere: practitioner, entry, offers.
    appointment = _appointment_book(
        patient=offer.patient,
        modality=offer.modality,
        starts_at=offer.starts_at,
        booked_by=actor,
        practitioner=offer.practitioner,
    )
    # Entry before offer, as leaving the list locks them.
    WaitlistEntry.objects.select_for_update().filter(pk=offer.entry_id).first()
    offer = WaitlistOffer.objects.select_for_update().get(pk=offer_id)
    if not offer.may_be_accepted:  # withdrawn or declined while we booked: undo the booking
        raise WaitlistOfferGone(_(GONE_MESSAGE))
    now = timezone.now()
    offer.status = Offer.ACCEPTED
    offer.answered_at = now
    offer.appointment = appointment
    offer.save(update_fields=["status", "answered_at", "appointment"])
    WaitlistEntry.objects.filter(pk=offer.entry_id).update(status=WaitlistEntry.Status.BOOKED, ended_at=now)
    others = WaitlistOffer.objects.filter(
        modality_id=offer.modality_id, practitioner_id=offer.practitioner_id, starts_at=offer.starts_at
    ).filter(status__in=[Offer.OPEN, Offer.PASSED])
    _cancel_offer_messages(offers=list(others.filter(status=Offer.OPEN)), reason="Another patient took the time.")
    others.update(status=Offer.GONE, answered_at=now)
    # Whatever else this patient was offered for this treatment, they no longer wait for it: the times
    # held for them go to the next patient.
    mine = WaitlistOffer.objects.filter(entry_id=offer.entry_id, status__in=[Offer.OPEN, Offer.PASSED]).exclude(
        pk=offer.pk
    )
    holding = list(mine.filter(status=Offer.OPEN))
    mine.update(status=Offer.WITHDRAWN, answered_at=now)
    _cancel_offer_messages(offers=holding, reason="The patient booked another offered time.")
    for other in holding:
        _offer_slot_on_commit(modality_id=other.modality_id, practitioner_id=other.practitioner_id, at=other.starts_at)
    return appointment


@transaction.atomic
def _offer_mark_gone(*, offer_id: int) -> None:
    WaitlistOffer.objects.filter(pk=offer_id, status__in=[Offer.OPEN, Offer.PASSED]).update(
        status=Offer.GONE, answered_at=timezone.now()
    )


@transaction.atomic
def waitlist_offer_decline(*, offer: WaitlistOffer, actor: User) -> WaitlistOffer:
    """The patient cannot take this time; they stay on the list and the time goes to the next patient now."""
    offer = _offer_for(offer_id=offer.pk, actor=actor)
    if not offer.may_be_accepted:
        return offer
    was_holding = offer.status == Offer.OPEN
    offer.status = Offer.DECLINED
    offer.answered_at = timezone.now()
    offer.save(update_fields=["status", "answered_at"])
    if was_holding:
        _cancel_offer_messages(offers=[offer], reason="The patient declined the offer.")
        _offer_slot_on_commit(modality_id=offer.modality_id, practitioner_id=offer.practitioner_id, at=offer.starts_at)
    return offer


def _cancel_offer_messages(*, offers: list[WaitlistOffer], reason: str) -> None:
    """An offer no longer holding needs no email if it has not gone out yet."""
    for offer in offers:
        reminders_cancel(reminders=Reminder.objects.about(offer), reason=reason)


__all__ = [
    "GONE_MESSAGE",
    "WaitlistOfferGone",
    "WaitlistRefused",
    "waitlist_dates_check",
    "waitlist_hours_opened",
    "waitlist_hours_opened_on_commit",
    "waitlist_join",
    "waitlist_leave",
    "waitlist_offer_accept",
    "waitlist_offer_decline",
    "waitlist_offers_advance",
    "waitlist_slot_freed",
    "waitlist_slot_freed_on_commit",
]
