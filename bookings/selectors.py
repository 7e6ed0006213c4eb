"""Reads that need more than a filter: availability, calendars.

Availability costs a constant number of queries whatever the number of appointments: the
few schedule tables and the appointments of the range are fetched once, the rest is done
in Python.  Dates and wall-clock times are the clinic's (``TIME_ZONE``); every instant is
compared in UTC, so a 09:00 start stays 09:00 local across a daylight-saving change.
"""

from __future__ import annotations

import bisect
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from django.db.models import DateField, IntegerField, Q, QuerySet, Value
from django.utils import timezone

from bookings.models import Appointment, BookingPolicy, ClinicClosure, ExtraHours, TimeOff, WorkingHours
from clinic.clinic_time import clinic_datetime, clinic_zone, local_midnight
from clinic.models import Modality, Patient, Practitioner
from screening.selectors import screening_statuses

Interval = tuple[datetime, datetime]


@dataclass(frozen=True)
class FreeSlot:
    """A bookable start time and the practitioners free to take it (ids, best candidate first)."""

    starts_at: datetime
    ends_at: datetime
    practitioner_ids: tuple[int, ...]


@dataclass
class DayAvailability:
    day: date
    slots: list[FreeSlot] = field(default_factory=list)
    closed_reason: str = ""


def _wall_clock(day: date, at: time) -> datetime:
    """Local ``day`` at wall-clock ``at``, as a UTC instant (compared in UTC in the loop below)."""
    return clinic_datetime(day, at).astimezone(UTC)


def week_start(day: date) -> date:
    """The Monday of ``day``'s week."""
    return day - timedelta(days=day.weekday())


def _merge(intervals: Iterable[Interval]) -> list[Interval]:
    merged: list[Interval] = []
    for start, end in sorted(intervals):
        if merged and start <= merged[-1][1]:
            if end > merged[-1][1]:
                merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    return merged


def _saturated(intervals: Iterable[Interval], capacity: int) -> list[Interval]:
    """The stretches of time during which at least ``capacity`` of ``intervals`` run at once."""
    events: list[tuple[datetime, int]] = []
    for start, end in intervals:
        events.append((start, 1))
        events.append((end, -1))
    events.sort(key=lambda event: (event[0], event[1]))  # an end frees the place before a start at the same instant
    stretches: list[Interval] = []
    running = 0
    opened: datetime | None = None
    for instant, change in events:
        running += change
        if running >= capacity and opened is None:
            opened = instant
        elif running < capacity and opened is not None:
            if instant > opened:
                stretches.append((opened, instant))
            opened = None
    return _merge(stretches)


def _overlaps(merged: list[Interval], starts: list[datetime], start: datetime, end: datetime) -> bool:
    """Whether ``[start, end)`` meets any of ``merged`` (sorted, disjoint; ``starts`` their start times)."""
    index = bisect.bisect_left(starts, end)
    return index > 0 and merged[index - 1][1] > start


@dataclass
class _Busy:
    merged: list[Interval]
    starts: list[datetime]

    @classmethod
    def of(cls, intervals: list[Interval]) -> _Busy:
        merged = _merge(intervals)
        return cls(merged=merged, starts=[start for start, _ in merged])

    def meets(self, start: datetime, end: datetime) -> bool:
        return _overlaps(self.merged, self.starts, start, end)


def availability(
    *,
    modality: Modality,
    start: date,
    end: date,
    practitioner: Practitioner | None = None,
    patient: Patient | None = None,
    exclude_appointment: Appointment | None = None,
    now: datetime | None = None,
    policy: BookingPolicy | None = None,
    include_appointments: bool = True,
) -> list[DayAvailability]:
    """Bookable start times of ``modality`` on the local dates ``start`` to ``end`` (inclusive), per day.

    Accounts for the practitioners who deliver the modality (or just ``practitioner``), their weekly and
    extra hours, time off, clinic closures, active appointments with their buffers, the room or device
    capacity, the patient's own other bookings, minimum notice and horizon.  ``exclude_appointment``
    is ignored as an obstacle (used when moving it); ``include_appointments=False`` answers "would this
    be open on an empty calendar" (to tell "taken" from "never offered").  Five queries (four with
    ``policy`` given) when ``modality.resource`` is already loaded, whatever the number of appointments.
    """
    now = now or timezone.now()
    policy = policy or BookingPolicy.load()
    zone = clinic_zone()
    days = [start + timedelta(days=offset) for offset in range((end - start).days + 1)]
    if not days:
        return []
    range_start = local_midnight(start)
    range_end = local_midnight(end + timedelta(days=1))

    practitioners = Practitioner.objects.filter(is_active=True, modalities=modality)
    if practitioner is not None:
        practitioners = practitioners.filter(pk=practitioner.pk)
    practitioner_ids = practitioners.values("pk")

    weekly: dict[tuple[int, int], list[tuple[time, time]]] = defaultdict(list)
    extra: dict[tuple[int, date], list[tuple[time, time]]] = defaultdict(list)
    candidate_ids: set[int] = set()
    # Weekly and extra hours in one round trip: a weekly row has no date, an extra row no weekday.
    weekly_hours = (
        WorkingHours.objects.filter(practitioner__in=practitioner_ids)
        .order_by()
        .values_list("practitioner_id", "weekday", Value(None, output_field=DateField()), "start_time", "end_time")
    )
    extra_hours = (
        ExtraHours.objects.filter(practitioner__in=practitioner_ids, date__gte=start, date__lte=end)
        .order_by()
        .values_list("practitioner_id", Value(None, output_field=IntegerField()), "date", "start_time", "end_time")
    )
    for practitioner_id, weekday, extra_date, opens, closes in weekly_hours.union(extra_hours, all=True):
        if extra_date is None:
            weekly[(practitioner_id, weekday)].append((opens, closes))
        else:
            extra[(practitioner_id, extra_date)].append((opens, closes))
        candidate_ids.add(practitioner_id)

    practitioner_busy: dict[int, list[Interval]] = defaultdict(list)
    for practitioner_id, off_start, off_end in TimeOff.objects.filter(
        practitioner__in=practitioner_ids, starts_at__lt=range_end, ends_at__gt=range_start
    ).values_list("practitioner_id", "starts_at", "ends_at"):
        practitioner_busy[practitioner_id].append((off_start, off_end))

    closures: dict[date, str] = {}
    for closure_start, closure_end, reason in ClinicClosure.objects.filter(
        start_date__lte=end, end_date__gte=start
    ).values_list("start_date", "end_date", "reason"):
        for day in days:
            if closure_start <= day <= closure_end:
                closures.setdefault(day, reason)

    resource = modality.resource if modality.resource_id else None
    obstacles = Q(practitioner__in=practitioner_ids)
    if resource is not None:
        obstacles |= Q(resource_id=resource.pk)
    if patient is not None:
        obstacles |= Q(patient_id=patient.pk)
    appointments = (
        Appointment.objects.active().overlapping(range_start, range_end + timedelta(days=1)).filter(obstacles)
    )
    if exclude_appointment is not None:
        appointments = appointments.exclude(pk=exclude_appointment.pk)
    if not include_appointments:
        appointments = appointments.none()
    resource_intervals: list[Interval] = []
    patient_intervals: list[Interval] = []
    for practitioner_id, resource_id, patient_id, booked_start, booked_until in appointments.values_list(
        "practitioner_id", "resource_id", "patient_id", "starts_at", "blocked_until"
    ):
        interval = (booked_start, booked_until)
        practitioner_busy[practitioner_id].append(interval)
        if resource is not None and resource_id == resource.pk:
            resource_intervals.append(interval)
        if patient is not None and patient_id == patient.pk:
            patient_intervals.append(interval)

    busy = {practitioner_id: _Busy.of(intervals) for practitioner_id, intervals in practitioner_busy.items()}
    no_one_busy = _Busy.of([])
    resource_full = _Busy.of(_saturated(resource_intervals, resource.capacity) if resource else [])
    patient_busy = _Busy.of(patient_intervals)
    # Fewest bookings first spreads the work and keeps a single practitioner free for longer.
    load = {practitioner_id: len(practitioner_busy.get(practitioner_id, [])) for practitioner_id in candidate_ids}
    ordered_candidates = sorted(candidate_ids, key=lambda practitioner_id: (load[practitioner_id], practitioner_id))

    earliest = policy.earliest_start(now)
    latest = policy.latest_start(now)
    step = policy.slot_step
    slot = modality.slot_length
    blocked = modality.occupied_length

    result = []
    for day in days:
        day_result = DayAvailability(day=day, closed_reason=closures.get(day, ""))
        result.append(day_result)
        if day_result.closed_reason:
            continue
        # start instant -> practitioners free then, in candidate order
        free: dict[datetime, list[int]] = defaultdict(list)
        for practitioner_id in ordered_candidates:
            hours = weekly.get((practitioner_id, day.weekday()), []) + extra.get((practitioner_id, day), [])
            practitioner_obstacles = busy.get(practitioner_id, no_one_busy)
            for opens, closes in hours:
                opening = _wall_clock(day, opens)
                closing = _wall_clock(day, closes)
                # Start times step through the local wall clock, so they sit on the same grid every day.
                wall = datetime.combine(day, opens)
                wall_close = datetime.combine(day, closes)
                while wall < wall_close:
                    starts_at = wall.replace(tzinfo=zone).astimezone(UTC)
                    wall += step
                    if starts_at < opening or starts_at + slot > closing:
                        continue
                    if starts_at < earliest or starts_at > latest:
                        continue
                    until = starts_at + blocked
                    if practitioner_obstacles.meets(starts_at, until):
                        continue
                    if resource_full.meets(starts_at, until) or patient_busy.meets(starts_at, until):
                        continue
                    if practitioner_id not in free[starts_at]:
                        free[starts_at].append(practitioner_id)
        day_result.slots = [
            FreeSlot(
                starts_at=timezone.localtime(starts_at, zone),
                ends_at=timezone.localtime(starts_at + slot, zone),
                practitioner_ids=tuple(ids),
            )
            for starts_at, ids in sorted(free.items())
        ]
    return result


def free_slots(**kwargs) -> list[FreeSlot]:
    """``availability`` flattened to one list of slots in time order."""
    return [slot for day in availability(**kwargs) for slot in day.slots]


def nearest_free_times(
    *,
    modality: Modality,
    around: datetime,
    practitioner: Practitioner | None = None,
    patient: Patient | None = None,
    exclude_appointment: Appointment | None = None,
    count: int = 3,
) -> list[datetime]:
    """The ``count`` free start times closest to ``around`` within a week either side (for refusals)."""
    day = timezone.localtime(around, clinic_zone()).date()
    slots = free_slots(
        modality=modality,
        start=day - timedelta(days=7),
        end=day + timedelta(days=7),
        practitioner=practitioner,
        patient=patient,
        exclude_appointment=exclude_appointment,
    )
    slots.sort(key=lambda slot: abs((slot.starts_at - around).total_seconds()))
    return sorted(slot.starts_at for slot in slots[:count])


def practitioner_appointments(*, practitioner: Practitioner | None, start: date, end: date) -> QuerySet[Appointment]:
    """Appointments (cancelled included) on local dates ``start``..``end`` for one practitioner or, if None, all."""
    appointments = Appointment.objects.filter(
        starts_at__gte=local_midnight(start), starts_at__lt=local_midnight(end + timedelta(days=1))
    ).select_related("patient__user", "practitioner__user", "modality", "resource")
    if practitioner is not None:
        appointments = appointments.filter(practitioner=practitioner)
    return appointments.order_by("starts_at")


def patient_appointments(*, patient: Patient) -> tuple[list[Appointment], list[Appointment]]:
    """A patient's upcoming booked appointments (soonest first) and the rest (most recent first)."""
    appointments = list(
        Appointment.objects.filter(patient=patient).select_related("modality", "practitioner__user", "resource")
    )
    now = timezone.now()
    upcoming = [a for a in appointments if a.is_upcoming(now)]
    upcoming_ids = {a.pk for a in upcoming}
    past = [a for a in appointments if a.pk not in upcoming_ids]
    past.sort(key=lambda a: a.starts_at, reverse=True)
    return upcoming, past


def appointments_with_screening(*, appointments: list[Appointment], on_date: date) -> list[tuple[Appointment, Any]]:
    """Each appointment with its patient's screening decision for its modality (a fixed number of queries)."""
    if not appointments:
        return []
    patients = {appointment.patient_id: appointment.patient for appointment in appointments}.values()
    modalities = {appointment.modality_id: appointment.modality for appointment in appointments}.values()
    statuses = screening_statuses(patients=patients, modalities=modalities, on_date=on_date)
    return [
        (appointment, statuses.get(appointment.patient_id, {}).get(appointment.modality_id))
        for appointment in appointments
    ]
