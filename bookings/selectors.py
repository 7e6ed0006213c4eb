"""Reads that need more than a filter: availability, calendars.

Availability costs a constant number of queries whatever the number of appointments: the
few schedule tables and the appointments of the range are fetched once, the rest is done
in Python.  Dates and wall-clock times are the clinic's (``TIME_ZONE``); every instant is
compared in UTC, so a 09:00 start stays 09:00 local across a daylight-saving change.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.db import connections
from django.db.models import BigIntegerField, DateField, Func, IntegerField, Q, QuerySet, Value
from django.utils import timezone

from bookings.models import Appointment, BookingPolicy, ClinicClosure, ExtraHours, TimeOff, WorkingHours
from clinic.clinic_time import clinic_zone, local_midnight
from clinic.models import MAX_APPOINTMENT_MINUTES, Modality, Patient, Practitioner
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


def week_start(day: date) -> date:
    """The Monday of ``day``'s week."""
    return day - timedelta(days=day.weekday())


# Inside ``availability`` every instant is a whole number of microseconds since the epoch (UTC): the
# sweep over a week of start times then compares plain integers, and each datetime is converted once.
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


def _micros(moment: datetime) -> int:
    return (moment - _EPOCH) // _MICROSECOND


def _span(length: timedelta) -> int:
    return length // _MICROSECOND


class _EpochMicros(Func):
    """A stored instant as whole microseconds since the epoch, worked out by the database (exactly).

    Reading instants as integers skips making an aware datetime of every one (most of the read's cost).
    SQLite stores ``YYYY-MM-DD HH:MM:SS[.ffffff]`` in UTC, the fraction, when there is one, with six digits.
    """

    arity = 1
    output_field = BigIntegerField()

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> tuple[str, list]:
        # ``%%%%s``: once for this template, once for the driver's placeholders, leaving strftime's %s.
        template = (
            "(CAST(strftime('%%%%s', %(expressions)s) AS INTEGER) * 1000000"
            " + CAST(substr(%(expressions)s, 21) AS INTEGER))"
        )
        return self.as_sql(compiler, connection, template=template, **extra)

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> tuple[str, list]:
        template = "CAST(EXTRACT(EPOCH FROM %(expressions)s) * 1000000 AS BIGINT)"
        return self.as_sql(compiler, connection, template=template, **extra)


# The SQL of availability's reads, compiled once per shape (which optional filters apply) and database:
# Django takes several times longer to build and compile these queries than SQLite or PostgreSQL take
# to run them.  A shape is kept only once the parameters ``availability`` lists are checked equal to
# those Django compiled, so a change in how Django orders them costs speed, never correctness.
_COMPILED: dict[tuple, str] = {}


def _rows(key: tuple, build: Callable[[], QuerySet], params: list[Any]) -> list[tuple]:
    """The rows of ``build()``'s ``values_list`` query, straight from the cursor (no per-value converters)."""
    sql = _COMPILED.get(key)
    if sql is None:
        queryset = build()
        sql, compiled = queryset.query.get_compiler(queryset.db).as_sql()
        if list(compiled) == params:
            _COMPILED[key] = sql
        params = list(compiled)
    with connections[key[0]].cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _saturated(intervals: Iterable[tuple[int, int]], capacity: int) -> list[tuple[int, int]]:
    """The stretches of time during which at least ``capacity`` of ``intervals`` run at once."""
    events: list[tuple[int, int]] = []
    for start, end in intervals:
        events.append((start, 1))
        events.append((end, -1))
    events.sort()  # an end (-1) frees the place before a start (+1) at the same instant
    stretches: list[tuple[int, int]] = []
    running = 0
    opened: int | None = None
    for instant, change in events:
        running += change
        if running >= capacity and opened is None:
            opened = instant
        elif running < capacity and opened is not None:
            if instant > opened:
                stretches.append((opened, instant))
            opened = None
    return stretches


@dataclass(frozen=True)
class _Forbidden:
    """The start times a set of busy intervals rules out, for sessions that block ``blocked`` microseconds.

    A start ``s`` meets a busy ``[a, b)`` when ``a < s + blocked`` and ``s < b``: ``s`` lies in the open
    interval ``(a - blocked, b)``.  Those open intervals, merged (touching ones stay apart: the
    shared point is free) and sorted, so one sweep filters a sorted list of start times.
    """

    lows: list[int]
    highs: list[int]

    @classmethod
    def of(cls, intervals: Iterable[tuple[int, int]], blocked: int) -> _Forbidden:
        lows: list[int] = []
        highs: list[int] = []
        for low, high in sorted((start - blocked, end) for start, end in intervals):
            if low >= high:
                continue
            if highs and low < highs[-1]:
                if high > highs[-1]:
                    highs[-1] = high
            else:
                lows.append(low)
                highs.append(high)
        return cls(lows=lows, highs=highs)

    def allowed(self, starts: list[int]) -> list[int]:
        """``starts`` (sorted) without those this rules out."""
        lows, highs = self.lows, self.highs
        if not lows:
            return starts
        kept = []
        index = 0
        count = len(lows)
        for start in starts:
            # Skip the intervals that end at or before this start; the next one rules it out if it began before.
            while index < count and highs[index] <= start:
                index += 1
            if index < count and lows[index] < start:
                continue
            kept.append(start)
        return kept


def _wall_grid(*, day: date, opens: time, closes: time, step: timedelta, slot: int, zone: ZoneInfo) -> list[int]:
    """The start instants (microseconds) of one stretch of opening hours on the local ``day``.

    Start times step through the local wall clock, so they sit on the same grid every day; a session
    must end by closing time.  On a day whose UTC offset does not change between opening and closing
    (every day but two a year) that is plain arithmetic; across a change each wall time is converted.
    """
    wall = datetime.combine(day, opens)
    wall_close = datetime.combine(day, closes)
    opening = wall.replace(tzinfo=zone)
    closing = wall_close.replace(tzinfo=zone)
    opening_micros = _micros(opening)
    closing_micros = _micros(closing)
    if opening.utcoffset() == closing.utcoffset():
        step_micros = _span(step)
        count = -(-(wall_close - wall) // step) if wall_close > wall else 0
        last = closing_micros - slot
        return [
            start for start in range(opening_micros, opening_micros + count * step_micros, step_micros) if start <= last
        ]
    starts = []
    while wall < wall_close:
        start = _micros(wall.replace(tzinfo=zone))
        wall += step
        if start < opening_micros or start + slot > closing_micros:
            continue
        starts.append(start)
    return starts


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
    be open on an empty calendar" (to tell "taken" from "never offered").  Four queries (three with
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

    resource = modality.resource if modality.resource_id else None
    alias = Appointment.objects.db
    ops = connections[alias].ops
    first_day, last_day = ops.adapt_datefield_value(start), ops.adapt_datefield_value(end)
    who = [modality.pk] if practitioner is None else [modality.pk, practitioner.pk]

    def practitioner_ids() -> QuerySet:
        practitioners = Practitioner.objects.filter(is_active=True, modalities=modality)
        if practitioner is not None:
            practitioners = practitioners.filter(pk=practitioner.pk)
        return practitioners.values("pk")

    def hours_query() -> QuerySet:
        # Weekly and extra hours in one round trip: a weekly row has no date, an extra row no weekday.
        weekly_hours = (
            WorkingHours.objects.filter(practitioner__in=practitioner_ids())
            .order_by()
            .values_list("practitioner_id", "weekday", Value(None, output_field=DateField()), "start_time", "end_time")
        )
        extra_hours = (
            ExtraHours.objects.filter(practitioner__in=practitioner_ids(), date__gte=start, date__lte=end)
            .order_by()
            .values_list("practitioner_id", Value(None, output_field=IntegerField()), "date", "start_time", "end_time")
        )
        return weekly_hours.union(extra_hours, all=True)

    weekly: dict[tuple[int, int], list[tuple[time, time]]] = defaultdict(list)
    extra: dict[tuple[int, date], list[tuple[time, time]]] = defaultdict(list)
    candidate_ids: set[int] = set()
    hours_key = (alias, "hours", practitioner is None)
    for practitioner_id, weekday, extra_date, opens, closes in _rows(
        hours_key, hours_query, [*who, first_day, last_day, *who]
    ):
        if extra_date is None:
            weekly[(practitioner_id, weekday)].append((opens, closes))
        else:
            if isinstance(extra_date, str):  # SQLite types a union's column by its first part, here NULL
                extra_date = date.fromisoformat(extra_date)
            extra[(practitioner_id, extra_date)].append((opens, closes))
        candidate_ids.add(practitioner_id)

    def closures_query() -> QuerySet:
        return ClinicClosure.objects.filter(start_date__lte=end, end_date__gte=start).values_list(
            "start_date", "end_date", "reason"
        )

    closures: dict[date, str] = {}
    for closure_start, closure_end, reason in _rows((alias, "closures"), closures_query, [first_day, last_day]):
        for day in days:
            if closure_start <= day <= closure_end:
                closures.setdefault(day, reason)

    def busy_query() -> QuerySet:
        # Time off and appointments in one round trip: a time-off row has no resource or patient.
        time_off = (
            TimeOff.objects.filter(
                practitioner__in=practitioner_ids(), starts_at__lt=range_end, ends_at__gt=range_start
            )
            .order_by()
            .values_list(
                "practitioner_id",
                Value(None, output_field=IntegerField()),
                Value(None, output_field=IntegerField()),
                _EpochMicros("starts_at"),
                _EpochMicros("ends_at"),
            )
        )
        if not include_appointments:
            return time_off
        obstacles = Q(practitioner__in=practitioner_ids())
        if resource is not None:
            obstacles |= Q(resource_id=resource.pk)
        if patient is not None:
            obstacles |= Q(patient_id=patient.pk)
        appointments = (
            Appointment.objects.active().overlapping(range_start, range_end + timedelta(days=1)).filter(obstacles)
        )
        if exclude_appointment is not None:
            appointments = appointments.exclude(pk=exclude_appointment.pk)
        return time_off.union(
            appointments.order_by().values_list(
                "practitioner_id", "resource_id", "patient_id", _EpochMicros("starts_at"), _EpochMicros("blocked_until")
            ),
            all=True,
        )

    busy_params = [ops.adapt_datetimefield_value(range_start), *who, ops.adapt_datetimefield_value(range_end)]
    if include_appointments:
        busy_params += [
            Appointment.Status.CANCELLED,
            ops.adapt_datetimefield_value(range_start),
            ops.adapt_datetimefield_value(range_start - timedelta(minutes=MAX_APPOINTMENT_MINUTES)),
            ops.adapt_datetimefield_value(range_end + timedelta(days=1)),
            *who,
            *([resource.pk] if resource is not None else []),
            *([patient.pk] if patient is not None else []),
            *([exclude_appointment.pk] if exclude_appointment is not None else []),
        ]
    busy_key = (
        alias,
        "busy",
        practitioner is None,
        include_appointments,
        resource is None,
        patient is None,
        exclude_appointment is None,
    )
    practitioner_busy: dict[int, list[tuple[int, int]]] = defaultdict(list)
    resource_intervals: list[tuple[int, int]] = []
    patient_intervals: list[tuple[int, int]] = []
    resource_pk = resource.pk if resource is not None else None
    patient_pk = patient.pk if patient is not None else None
    for practitioner_id, resource_id, patient_id, busy_start, busy_end in _rows(busy_key, busy_query, busy_params):
        interval = (busy_start, busy_end)
        practitioner_busy[practitioner_id].append(interval)
        if resource_pk is not None and resource_id == resource_pk:
            resource_intervals.append(interval)
        if patient_pk is not None and patient_id == patient_pk:
            patient_intervals.append(interval)

    slot = _span(modality.slot_length)
    blocked = _span(modality.occupied_length)
    step = policy.slot_step
    earliest = _micros(policy.earliest_start(now))
    latest = _micros(policy.latest_start(now))
    # What rules a start out for everyone: the room or device full, the patient's own bookings.
    everyone = _Forbidden.of(
        [*(_saturated(resource_intervals, resource.capacity) if resource else []), *patient_intervals], blocked
    )
    forbidden = {
        practitioner_id: _Forbidden.of(intervals, blocked) for practitioner_id, intervals in practitioner_busy.items()
    }
    no_one_busy = _Forbidden.of([], blocked)
    # Fewest bookings first spreads the work and keeps a single practitioner free for longer.
    load = {practitioner_id: len(practitioner_busy.get(practitioner_id, [])) for practitioner_id in candidate_ids}
    ordered_candidates = sorted(candidate_ids, key=lambda practitioner_id: (load[practitioner_id], practitioner_id))

    # The start times of one stretch of hours on one day, within notice and horizon and free for everyone:
    # practitioners mostly share their hours, so each stretch is worked out once per call.
    grids: dict[tuple[date, time, time], list[int]] = {}
    moments: dict[int, datetime] = {}

    def local(micros: int) -> datetime:
        moment = moments.get(micros)
        if moment is None:
            moment = moments[micros] = (_EPOCH + timedelta(microseconds=micros)).astimezone(zone)
        return moment

    result = []
    for day in days:
        day_result = DayAvailability(day=day, closed_reason=closures.get(day, ""))
        result.append(day_result)
        if day_result.closed_reason:
            continue
        # start instant -> practitioners free then, in candidate order
        free: dict[int, list[int]] = {}
        weekday = day.weekday()
        for practitioner_id in ordered_candidates:
            hours = weekly.get((practitioner_id, weekday), []) + extra.get((practitioner_id, day), [])
            if not hours:
                continue
            practitioner_forbidden = forbidden.get(practitioner_id, no_one_busy)
            for opens, closes in hours:
                key = (day, opens, closes)
                grid = grids.get(key)
                if grid is None:
                    starts = _wall_grid(day=day, opens=opens, closes=closes, step=step, slot=slot, zone=zone)
                    grid = grids[key] = everyone.allowed([s for s in starts if earliest <= s <= latest])
                for starts_at in practitioner_forbidden.allowed(grid):
                    ids = free.get(starts_at)
                    if ids is None:
                        free[starts_at] = [practitioner_id]
                    elif ids[-1] != practitioner_id:
                        ids.append(practitioner_id)
        day_result.slots = [
            FreeSlot(starts_at=local(starts_at), ends_at=local(starts_at + slot), practitioner_ids=tuple(ids))
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
    now: datetime | None = None,
    policy: BookingPolicy | None = None,
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
        now=now,
        policy=policy,
    )
    slots.sort(key=lambda slot: abs((slot.starts_at - around).total_seconds()))
    return sorted(slot.starts_at for slot in slots[:count])


def first_free_day(
    *,
    modality: Modality,
    patient: Patient | None = None,
    practitioner: Practitioner | None = None,
    exclude_appointment: Appointment | None = None,
    now: datetime | None = None,
    policy: BookingPolicy | None = None,
) -> date | None:
    """The first local date from today to the booking horizon with a free time of ``modality``, or None.

    What a booking page opens on.  Two availability reads at most (the rest of this week, then the rest
    of the horizon at once), so a constant number of queries however far the first free time is.
    """
    now = now or timezone.now()
    policy = policy or BookingPolicy.load()
    zone = clinic_zone()
    today = timezone.localtime(now, zone).date()
    last = timezone.localtime(policy.latest_start(now), zone).date()
    this_week_end = min(week_start(today) + timedelta(days=6), last)
    options: dict[str, Any] = {
        "modality": modality,
        "patient": patient,
        "practitioner": practitioner,
        "exclude_appointment": exclude_appointment,
        "now": now,
        "policy": policy,
    }
    for first, final in ((today, this_week_end), (this_week_end + timedelta(days=1), last)):
        if first > final:
            continue
        for day in availability(start=first, end=final, **options):
            if day.slots:
                return day.day
    return None


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
