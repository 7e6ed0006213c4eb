"""Writes on appointments.  Views, admin and tasks call these; nothing else saves an Appointment.

Every path that creates or moves an appointment asks the screening gate first, then checks
the clinic's rules (notice, horizon, closures, hours, time off, capacity) against the same
availability the patient was shown, while holding row locks on the room/device and the
practitioners so that even an empty calendar serialises.  On PostgreSQL an exclusion
constraint is the backstop; its IntegrityError becomes a ``BookingRefused``.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import IntegrityError, OperationalError, transaction
from django.utils import timezone, translation
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop, ngettext

from bookings import events, selectors
from bookings.models import Appointment, BookingPolicy
from bookings.notifications import appointment_notify
from clinic.audit import audit_record
from clinic.care_team import (
    CareTeamRefused,
    care_team_grant_for_booking,
    care_team_is_member,
    care_team_may_book,
    patient_is_visible_to,
)
from clinic.clinic_time import format_when
from clinic.models import AuditEvent, Modality, Patient, Practitioner, User
from screening.access import screening_status_word
from screening.services import ScreeningRefused, screening_require_cleared

# Marked for translation here, translated where refused (plain English strings, so callers may compare).
TAKEN_MESSAGE = gettext_noop("Sorry, this time has just been taken.")
BUSY_MESSAGE = gettext_noop(
    "Sorry, many people are booking right now and we could not save this; please try again in a moment."
)
# PostgreSQL's answers to contention that a second attempt may not meet: serialization failure, deadlock,
# lock not available (lock_timeout), query cancelled (statement_timeout).
TRANSIENT_SQLSTATES = frozenset({"40001", "40P01", "55P03", "57014"})
ATTEMPTS = 3


class BookingRefused(Exception):
    """A booking, move or cancellation that the clinic's rules do not allow.

    ``message`` is written for the patient; ``alternatives`` are the nearest free start times
    (aware, clinic zone) when there are any; ``screening`` is the screening gate's decision
    when the gate refused (it has ``status``, ``reasons`` and ``next_step``).
    """

    def __init__(self, message: str, *, alternatives: Sequence[datetime] = (), screening: Any = None) -> None:
        message = str(message)  # a lazy text takes the words of the language active where it is refused
        super().__init__(message)
        self.message = message
        self.alternatives = list(alternatives)
        self.screening = screening


def _screening_gate(*, patient: Patient, modality: Modality, starts_at: datetime, actor: User | None = None) -> None:
    """The screening app decides whether this patient may have this modality on that day.

    The refusal carries the screening's reasons only for the patient themselves and for staff who
    may read the patient's record; anyone else (the front desk) gets the status word alone.
    """
    if timezone.is_naive(starts_at):
        raise BookingRefused(_("The start time must include its time zone."))
    try:
        screening_require_cleared(patient=patient, modality=modality, on_date=timezone.localdate(starts_at))
    except ScreeningRefused as refused:
        if actor is None or actor.pk == patient.user_id or patient_is_visible_to(actor, patient):
            raise BookingRefused(str(refused), screening=refused.decision) from refused
        word = screening_status_word(refused.decision.status)
        raise BookingRefused(
            _("%(modality)s cannot be booked: screening %(status)s. The patient's care team can say more.")
            % {"modality": modality.name, "status": word}
        ) from refused


def _is_contention(error: OperationalError) -> bool:
    """A deadlock, serialization failure or lock/statement timeout (PostgreSQL), or SQLite's busy writer lock."""
    sqlstate = getattr(error.__cause__, "sqlstate", None)
    return sqlstate in TRANSIENT_SQLSTATES or "database is locked" in str(error)


def _retrying_contention(attempt: Callable[[], Appointment]) -> Appointment:
    """Run ``attempt`` (a whole atomic booking) again when the database gave up on it because of
    contention, up to ``ATTEMPTS`` times with a short random pause; then refuse in plain words.

    Each try is its own transaction (a savepoint inside a caller's transaction), so a retry starts clean.
    """
    for number in range(1, ATTEMPTS + 1):
        try:
            return attempt()
        except OperationalError as error:
            if not _is_contention(error):
                raise
            if number == ATTEMPTS:
                raise BookingRefused(_(BUSY_MESSAGE)) from error
            time.sleep(random.uniform(0.02, 0.1) * number)  # noqa: S311 - jitter, not security
    raise AssertionError("unreachable")


_EVENT_NAMES = {"booked": events.BOOKED, "cancelled": events.CANCELLED, "changed": events.MOVED}


def _notify(*, appointment: Appointment, event: str, moved_from: tuple[datetime, int] | None = None) -> None:
    """Queue the booked/cancelled/changed email and publish the event (webhooks): the outbox rows join this
    transaction, the send waits for commit."""
    appointment_notify(appointment=appointment, event=event)
    events.appointment_event_publish(name=_EVENT_NAMES[event], appointment=appointment, moved_from=moved_from)


def _offer_to_waitlist(*, appointment: Appointment) -> None:
    """The slot ``appointment`` held is free once this transaction commits: offer it to the waitlist."""
    from bookings.services.waitlist import waitlist_slot_freed_on_commit  # it builds on this module

    waitlist_slot_freed_on_commit(appointment=appointment)


def _format(moment: datetime) -> str:
    """ "Tuesday 1 December at 08:30" in the active language."""
    return _("%(day)s at %(time)s") % {"day": format_when(moment, "day"), "time": format_when(moment, "time")}


def _format_for_audit(moment: datetime) -> str:
    """The audit trail is one record in the clinic's own language, whoever's language wrote it."""
    with translation.override(settings.LANGUAGE_CODE):
        return _format(moment)


PASSED_MESSAGE = gettext_noop("That time has passed; please choose a later time.")


def _check_time_rules(
    *,
    modality: Modality,
    starts_at: datetime,
    policy: BookingPolicy,
    now: datetime,
    patient: Patient,
    practitioner: Practitioner | None = None,
    exclude_appointment: Appointment | None = None,
) -> None:
    """Refuse a time that has passed, is too soon (notice) or too far (horizon), offering the nearest free times
    on the allowed side of the limit."""
    if not modality.is_active:
        raise BookingRefused(_("%(modality)s is not offered for booking at the moment.") % {"modality": modality.name})
    earliest, latest = policy.earliest_start(now), policy.latest_start(now)
    if starts_at < now:
        message = _(PASSED_MESSAGE)
    elif starts_at < earliest:
        hours = policy.minimum_notice_minutes / 60
        whole = hours == int(hours)
        message = ngettext(
            "Bookings need at least %(hours)s hour's notice; please choose a later time.",
            "Bookings need at least %(hours)s hours' notice; please choose a later time.",
            int(hours) if whole else 2,
        ) % {"hours": number_format(int(hours) if whole else hours)}
    elif starts_at > latest:
        weeks = policy.horizon_days // 7
        message = ngettext(
            "Bookings open %(weeks)d week ahead; please choose an earlier date.",
            "Bookings open %(weeks)d weeks ahead; please choose an earlier date.",
            weeks,
        ) % {"weeks": weeks}
    else:
        return  # Closures are checked in ``_find_slot``, from the availability it reads anyway.
    raise BookingRefused(
        message,
        alternatives=selectors.nearest_free_times(
            modality=modality,
            around=min(max(starts_at, earliest), latest),
            practitioner=practitioner,
            patient=patient,
            exclude_appointment=exclude_appointment,
            now=now,
            policy=policy,
        ),
    )


def _lock(*, modality: Modality, practitioner: Practitioner | None) -> Modality:
    """Serialise every booking that could compete for this slot, even on an empty calendar.

    Always the resource first, then practitioners by id, so two bookings never wait on each other in a circle.
    Returns the modality as it is now (rules, resource), read in the same query that locks its room or device.
    ``FOR NO KEY UPDATE`` serialises bookings just as well and does not hold up unrelated writes that
    merely reference these rows (a session log naming the practitioner).
    """
    current = Modality.objects.select_related("resource")
    locked = None
    if modality.resource_id:
        # An inner join (resource not null): PostgreSQL cannot lock the nullable side of an outer join.
        locked = (
            current.select_for_update(of=("resource",), no_key=True)
            .filter(pk=modality.pk, resource__isnull=False)
            .first()
        )
    modality = locked or current.get(pk=modality.pk)
    practitioners = Practitioner.objects.select_for_update(of=("self",), no_key=True).order_by("pk")
    if practitioner is not None:
        practitioners = practitioners.filter(pk=practitioner.pk)
    else:
        practitioners = practitioners.filter(is_active=True, modalities=modality)
    list(practitioners.only("pk"))
    return modality


def _find_slot(
    *,
    modality: Modality,
    starts_at: datetime,
    patient: Patient,
    practitioner: Practitioner | None,
    policy: BookingPolicy,
    now: datetime,
    exclude_appointment: Appointment | None = None,
) -> selectors.FreeSlot:
    """The free slot starting at ``starts_at``, or a refusal saying why there is none."""
    day = timezone.localdate(starts_at)
    options: dict[str, Any] = {
        "modality": modality,
        "start": day,
        "end": day,
        "practitioner": practitioner,
        "now": now,
        "policy": policy,
    }
    (available,) = selectors.availability(**options, patient=patient, exclude_appointment=exclude_appointment)
    if available.closed_reason:
        raise BookingRefused(
            _("The clinic is closed on %(day)s (%(reason)s).")
            % {"day": format_when(day, "day"), "reason": available.closed_reason}
        )
    for slot in available.slots:
        if slot.starts_at == starts_at:
            return slot
    on_empty_calendar = selectors.free_slots(**options, include_appointments=False)
    if not any(slot.starts_at == starts_at for slot in on_empty_calendar):
        words = {"practitioner": practitioner.full_name if practitioner else "", "modality": modality.name}
        words["when"] = _format(starts_at)
        if practitioner:
            message = _(
                "%(practitioner)s does not offer %(modality)s at %(when)s; please choose one of the times shown."
            )
        else:
            message = _("No practitioner offers %(modality)s at %(when)s; please choose one of the times shown.")
        raise BookingRefused(
            message % words,
            alternatives=selectors.nearest_free_times(
                modality=modality,
                around=starts_at,
                practitioner=practitioner,
                patient=patient,
                exclude_appointment=exclude_appointment,
            ),
        )
    raise _taken(
        modality=modality,
        starts_at=starts_at,
        practitioner=practitioner,
        patient=patient,
        exclude_appointment=exclude_appointment,
    )


def _taken(
    *,
    modality: Modality,
    starts_at: datetime,
    practitioner: Practitioner | None,
    patient: Patient,
    exclude_appointment: Appointment | None = None,
) -> BookingRefused:
    alternatives = selectors.nearest_free_times(
        modality=modality,
        around=starts_at,
        practitioner=practitioner,
        patient=patient,
        exclude_appointment=exclude_appointment,
    )
    return BookingRefused(
        _("Sorry, this time has just been taken. Please choose another time."), alternatives=alternatives
    )


def _place(*, appointment: Appointment, slot: selectors.FreeSlot, modality: Modality, prefer: int | None) -> None:
    """Fill in practitioner, resource and times from ``slot``."""
    appointment.practitioner_id = prefer if prefer in slot.practitioner_ids else slot.practitioner_ids[0]
    appointment.place(modality=modality, starts_at=slot.starts_at)


def appointment_book(
    *,
    patient: Patient,
    modality: Modality,
    starts_at: datetime,
    booked_by: User,
    practitioner: Practitioner | None = None,
) -> Appointment:
    """Book ``modality`` for ``patient`` at ``starts_at`` (with ``practitioner`` or whoever is free).

    Raises ``BookingRefused`` (with a patient-readable message) when the screening gate or any booking
    rule says no, including when another booking took the time first or the database stayed too busy
    (deadlock, lock timeout) over a few quick retries.  Atomic: each try is one transaction.
    """
    return _retrying_contention(
        lambda: _appointment_book(
            patient=patient, modality=modality, starts_at=starts_at, booked_by=booked_by, practitioner=practitioner
        )
    )


def appointment_book_check(
    *,
    patient: Patient,
    modality: Modality,
    starts_at: datetime,
    actor: User,
    practitioner: Practitioner | None = None,
) -> selectors.FreeSlot:
    """Whether ``appointment_book`` would take this time now: the same rules in the same order (who may
    book, the screening gate, passed/notice/horizon, closures, offered and free), without locks or writes.

    For the confirm page, so a time that cannot be booked is explained before "Book this time" is shown.
    Raises ``BookingRefused`` (with the nearest free times where there are some) or ``CareTeamRefused``;
    returns the free slot otherwise.  The booking itself checks everything again under its locks.
    """
    if not care_team_may_book(actor=actor, patient=patient, practitioner=practitioner):
        raise CareTeamRefused(_("You may not book for this patient with this practitioner."))
    _screening_gate(patient=patient, modality=modality, starts_at=starts_at, actor=actor)
    now = timezone.now()
    policy = BookingPolicy.load()
    _check_time_rules(
        modality=modality, starts_at=starts_at, policy=policy, now=now, patient=patient, practitioner=practitioner
    )
    return _find_slot(
        modality=modality, starts_at=starts_at, patient=patient, practitioner=practitioner, policy=policy, now=now
    )


@transaction.atomic
def _appointment_book(
    *,
    patient: Patient,
    modality: Modality,
    starts_at: datetime,
    booked_by: User,
    practitioner: Practitioner | None,
) -> Appointment:
    if not care_team_may_book(actor=booked_by, patient=patient, practitioner=practitioner):
        raise CareTeamRefused(_("You may not book for this patient with this practitioner."))
    _screening_gate(patient=patient, modality=modality, starts_at=starts_at, actor=booked_by)
    now = timezone.now()
    policy = BookingPolicy.load()
    modality = _lock(modality=modality, practitioner=practitioner)
    _check_time_rules(
        modality=modality, starts_at=starts_at, policy=policy, now=now, patient=patient, practitioner=practitioner
    )
    slot = _find_slot(
        modality=modality, starts_at=starts_at, patient=patient, practitioner=practitioner, policy=policy, now=now
    )
    appointment = Appointment(patient=patient, created_by=booked_by)
    _place(appointment=appointment, slot=slot, modality=modality, prefer=None)
    try:
        with transaction.atomic():
            appointment.save()
    except IntegrityError as error:
        raise _taken(modality=modality, starts_at=starts_at, practitioner=practitioner, patient=patient) from error
    _care_team_join(appointment=appointment, actor=booked_by)
    if booked_by.pk != patient.user_id:
        audit_record(
            request=None,
            actor=booked_by,
            patient=patient,
            action=AuditEvent.Action.CREATE,
            target=appointment,
            description=f"Appointment booked by staff: {modality.name} with {appointment.practitioner}",
        )
    _notify(appointment=appointment, event="booked")
    return appointment


def _care_team_join(*, appointment: Appointment, actor: User) -> None:
    """Booking with a practitioner is the act that puts them on the patient's care team."""
    care_team_grant_for_booking(
        patient=appointment.patient,
        practitioner=appointment.practitioner_id,
        appointment_starts_at=appointment.starts_at,
        actor=actor,
    )


def _check_patient_may_change(*, appointment: Appointment, by: User, policy: BookingPolicy, now: datetime) -> None:
    if appointment.status != Appointment.Status.BOOKED:
        raise BookingRefused(
            _("This appointment is %(status)s; it cannot be changed.")
            % {"status": appointment.get_status_display().lower()}
        )
    if by.is_clinic_staff:
        patient = appointment.patient
        if not (by.is_active and (by.is_clinic_admin or by.is_front_desk or patient_is_visible_to(by, patient))):
            raise CareTeamRefused(_("You may not change this patient's appointments."))
        return
    if by.pk != appointment.patient.user_id:
        raise BookingRefused(_("You can only change your own appointments."))
    if not policy.allows_online_change(starts_at=appointment.starts_at, now=now):
        raise BookingRefused(
            ngettext(
                "Changes are possible online up to %(hours)d hour before the appointment; please call the clinic.",
                "Changes are possible online up to %(hours)d hours before the appointment; please call the clinic.",
                policy.cancellation_cutoff_hours,
            )
            % {"hours": policy.cancellation_cutoff_hours}
        )


def appointment_can_change_online(*, appointment: Appointment, policy: BookingPolicy | None = None) -> bool:
    """Whether the patient may still cancel or move it themselves (before the cut-off)."""
    policy = policy or BookingPolicy.load()
    return appointment.status == Appointment.Status.BOOKED and policy.allows_online_change(
        starts_at=appointment.starts_at, now=timezone.now()
    )


@transaction.atomic
def appointment_cancel(*, appointment: Appointment, by: User, reason: str = "") -> Appointment:
    """Cancel a booked appointment.

    Patients may cancel online up to the cut-off; past it they call the clinic and staff cancel for them,
    which is recorded as a late cancellation.  Staff may always cancel.
    """
    appointment = Appointment.objects.select_for_update().get(pk=appointment.pk)
    policy = BookingPolicy.load()
    now = timezone.now()
    _check_patient_may_change(appointment=appointment, by=by, policy=policy, now=now)
    appointment.status = Appointment.Status.CANCELLED
    appointment.cancelled_at = now
    appointment.cancelled_by = by
    appointment.cancelled_late = not policy.allows_online_change(starts_at=appointment.starts_at, now=now)
    appointment.cancellation_reason = reason[:300]
    appointment.save(
        update_fields=["status", "cancelled_at", "cancelled_by", "cancelled_late", "cancellation_reason", "updated_at"]
    )
    if by.is_clinic_staff:
        audit_record(
            request=None,
            actor=by,
            patient=appointment.patient,
            action=AuditEvent.Action.CHANGE,
            target=appointment,
            description="Appointment cancelled by staff",
        )
    _notify(appointment=appointment, event="cancelled")
    _offer_to_waitlist(appointment=appointment)
    return appointment


def appointment_reschedule(*, appointment: Appointment, starts_at: datetime, by: User) -> Appointment:
    """The patient's own "change time" (same practitioner when free, else whoever is); see ``appointment_move``."""
    return appointment_move(actor=by, appointment=appointment, starts_at=starts_at)


def appointment_move(
    *, actor: User, appointment: Appointment, starts_at: datetime, practitioner: Practitioner | None = None
) -> Appointment:
    """Move a booked appointment to ``starts_at``, with ``practitioner``, or (None) the same one when free.

    The booking path, not a copy of it: the screening gate, the time rules, the locks on the room or
    device and the practitioners, the availability the calendar shows, and the exclusion constraint as
    the backstop.  Who may move it: the patient online, before the cut-off and with the same practitioner
    rules as booking; the front desk and admins; the appointment's practitioner; and a practitioner on
    the patient's care team (not through emergency access).  A refusal leaves the appointment as it was.
    Retries briefly on database contention, then refuses; atomic per try.
    """
    return _retrying_contention(
        lambda: _appointment_move(actor=actor, appointment=appointment, starts_at=starts_at, practitioner=practitioner)
    )


def _check_may_move(
    *, actor: User, appointment: Appointment, practitioner: Practitioner | None, policy: BookingPolicy, now: datetime
) -> None:
    if not actor.is_clinic_staff:
        _check_patient_may_change(appointment=appointment, by=actor, policy=policy, now=now)
        if practitioner is not None and practitioner.pk != appointment.practitioner_id:
            raise BookingRefused(_("To see another practitioner, please cancel and book again, or call the clinic."))
        return
    # As for booking (``care_team_may_book``): never for an erased or deactivated patient.
    allowed = (
        actor.is_active
        and appointment.patient.user.is_active
        and (
            actor.is_clinic_admin
            or actor.is_front_desk
            or appointment.practitioner.user_id == actor.pk
            or care_team_is_member(user=actor, patient=appointment.patient, include_emergency=False)
        )
    )
    if not allowed:
        raise CareTeamRefused(_("You may not move this patient's appointments."))
    if appointment.status != Appointment.Status.BOOKED:
        raise BookingRefused(
            _("This appointment is %(status)s; it cannot be moved.")
            % {"status": appointment.get_status_display().lower()}
        )
    if appointment.has_started(now):
        raise BookingRefused(_("This appointment has already started; it cannot be moved."))


def appointment_reschedule_check(*, appointment: Appointment, starts_at: datetime, by: User) -> selectors.FreeSlot:
    """The patient's own "change time", checked: see ``appointment_move_check``."""
    return appointment_move_check(actor=by, appointment=appointment, starts_at=starts_at)


def appointment_move_check(
    *, actor: User, appointment: Appointment, starts_at: datetime, practitioner: Practitioner | None = None
) -> selectors.FreeSlot:
    """Whether ``appointment_move`` would move ``appointment`` to ``starts_at`` now (no locks, no writes).

    The same rules in the same order; raises ``BookingRefused`` or ``CareTeamRefused``, returns the free slot.
    """
    _, slot = _move_rules(actor=actor, appointment=appointment, starts_at=starts_at, practitioner=practitioner)
    return slot


def _move_rules(
    *,
    actor: User,
    appointment: Appointment,
    starts_at: datetime,
    practitioner: Practitioner | None,
    lock: bool = False,
) -> tuple[Modality, selectors.FreeSlot]:
    """Every rule a move obeys, in order; with ``lock`` the room or device and practitioners are
    locked before the free slot is looked up (the move itself).  Returns the modality and the slot."""
    policy = BookingPolicy.load()
    now = timezone.now()
    _check_may_move(actor=actor, appointment=appointment, practitioner=practitioner, policy=policy, now=now)
    if starts_at == appointment.starts_at and practitioner in (None, appointment.practitioner):
        raise BookingRefused(_("The appointment is already at that time."))
    modality = Modality.objects.select_related("resource").get(pk=appointment.modality_id)
    _screening_gate(patient=appointment.patient, modality=modality, starts_at=starts_at, actor=actor)
    _check_time_rules(
        modality=modality,
        starts_at=starts_at,
        policy=policy,
        now=now,
        patient=appointment.patient,
        practitioner=practitioner,
        exclude_appointment=appointment,
    )
    if lock:
        modality = _lock(modality=modality, practitioner=practitioner)
    slot = _find_slot(
        modality=modality,
        starts_at=starts_at,
        patient=appointment.patient,
        practitioner=practitioner,
        policy=policy,
        now=now,
        exclude_appointment=appointment,
    )
    return modality, slot


@transaction.atomic
def _appointment_move(
    *, actor: User, appointment: Appointment, starts_at: datetime, practitioner: Practitioner | None
) -> Appointment:
    # Lock the row alone: PostgreSQL cannot lock the nullable side of the join to the resource.
    appointment = (
        Appointment.objects.select_for_update(of=("self",))
        .select_related("patient__user", "practitioner__user")
        .get(pk=appointment.pk)
    )
    was_at, was_with = appointment.starts_at, appointment.practitioner
    modality, slot = _move_rules(
        actor=actor, appointment=appointment, starts_at=starts_at, practitioner=practitioner, lock=True
    )
    # What the appointment held until now, offered to the waitlist once the move commits.
    freed = Appointment(modality_id=appointment.modality_id, practitioner_id=was_with.pk, starts_at=was_at)
    _place(appointment=appointment, slot=slot, modality=modality, prefer=was_with.pk)
    try:
        with transaction.atomic():
            appointment.save()
    except IntegrityError as error:
        raise _taken(
            modality=modality,
            starts_at=starts_at,
            practitioner=practitioner,
            patient=appointment.patient,
            exclude_appointment=appointment,
        ) from error
    # From here (on commit) the old time, ``was_at`` with ``was_with``, is free for someone else.
    _care_team_join(appointment=appointment, actor=actor)
    if actor.is_clinic_staff:
        now_with = Practitioner.objects.select_related("user").get(pk=appointment.practitioner_id)
        audit_record(
            request=None,
            actor=actor,
            patient=appointment.patient,
            action=AuditEvent.Action.CHANGE,
            target=appointment,
            description=f"Appointment moved by staff: {modality.name} from {_format_for_audit(was_at)} with {was_with} "
            f"to {_format_for_audit(appointment.starts_at)} with {now_with}",
        )
    _notify(appointment=appointment, event="changed", moved_from=(was_at, was_with.pk))
    _offer_to_waitlist(appointment=freed)
    return appointment


@transaction.atomic
def appointment_mark_attended(*, appointment: Appointment, by: User) -> Appointment:
    """Record that the patient came, once the appointment has started.  Idempotent: attended stays attended."""
    appointment = Appointment.objects.select_for_update().get(pk=appointment.pk)
    if appointment.status == Appointment.Status.CANCELLED:
        raise ValueError(_("A cancelled appointment cannot be marked attended."))
    if not appointment.has_started():
        raise BookingRefused(
            _("This appointment has not started yet (it starts at %(time)s).")
            % {"time": format_when(appointment.starts_at, "time")}
        )
    if appointment.status != Appointment.Status.ATTENDED:
        appointment.status = Appointment.Status.ATTENDED
        appointment.save(update_fields=["status", "updated_at"])
        events.appointment_event_publish(name=events.ATTENDED, appointment=appointment)
    return appointment


@transaction.atomic
def appointment_mark_no_show(*, appointment: Appointment, by: User) -> Appointment:
    """Record that the patient did not come.  Only once the appointment has started."""
    appointment = Appointment.objects.select_for_update().get(pk=appointment.pk)
    if appointment.status == Appointment.Status.CANCELLED:
        raise BookingRefused(_("A cancelled appointment cannot be marked as a no-show."))
    if not appointment.has_started():
        raise BookingRefused(_("An appointment can be marked as a no-show only once it has started."))
    if appointment.status != Appointment.Status.NO_SHOW:
        appointment.status = Appointment.Status.NO_SHOW
        appointment.save(update_fields=["status", "updated_at"])
        events.appointment_event_publish(name=events.NO_SHOW, appointment=appointment)
    return appointment


__all__ = [
    "BUSY_MESSAGE",
    "TAKEN_MESSAGE",
    "BookingRefused",
    "appointment_book",
    "appointment_can_change_online",
    "appointment_cancel",
    "appointment_mark_attended",
    "appointment_mark_no_show",
    "appointment_move",
    "appointment_reschedule",
]
