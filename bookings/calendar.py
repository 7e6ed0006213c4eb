"""The staff calendar: a grid of lanes (practitioners, then rooms and devices) by time of day.

A read, like the selectors: a fixed number of queries for any number of days, lanes and
appointments (the schedule tables and the range's appointments are fetched once, the rest is
done in Python).  Rows are the clinic's wall-clock times a ``BookingPolicy.slot_step`` apart,
so a 09:00 row stays 09:00 across a daylight-saving change.

It returns facts: each cell's state, the appointments that start in it, and for each of those
whether the viewer may see the patient's name and move it.  The names follow the care-team
rule (``clinic.care_team``): the front desk and admins see every name (the desk books and
moves them; it never sees clinical data, and the grid holds none), a practitioner the names
of the patients on their care team; anyone else's appointment is only "booked".
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.db.models import Q
from django.utils import timezone

from bookings.models import Appointment, BookingPolicy, ClinicClosure, ExtraHours, TimeOff, WorkingHours
from clinic.care_team import patients_visible_to
from clinic.clinic_time import clinic_datetime, clinic_zone, local_midnight
from clinic.models import Practitioner, Resource, User

__all__ = ["CalendarCell", "CalendarEntry", "CalendarGrid", "CalendarLane", "calendar_grid", "calendar_patients_named"]

DEFAULT_OPENS = time(8)
DEFAULT_CLOSES = time(18)


class CellState:
    FREE = "free"  # the practitioner works then and nothing holds them; the room or device has a place left
    BOOKED = "booked"  # an appointment's treatment time (a room or device: full)
    PARTLY_BOOKED = "partly_booked"  # a room or device holding more than one session has some taken
    BUFFER = "buffer"  # the modality's buffer after a session (cleaning, warming the chamber)
    TIME_OFF = "time_off"  # the practitioner's time off
    OUTSIDE_HOURS = "outside_hours"  # not in the practitioner's working hours
    CLOSED = "closed"  # the clinic is closed all day


@dataclass(frozen=True)
class CalendarLane:
    """One column of a day: a practitioner (``practitioner_id``) or a room or device (``resource_id``)."""

    name: str
    practitioner_id: int | None = None
    resource_id: int | None = None
    capacity: int = 1

    @property
    def is_practitioner(self) -> bool:
        return self.practitioner_id is not None


@dataclass(frozen=True)
class CalendarEntry:
    """An appointment as this viewer may see it: the patient's name only when ``named``."""

    appointment: Appointment
    named: bool
    may_move: bool


@dataclass
class CalendarCell:
    day: date
    lane: CalendarLane
    starts_at: datetime  # aware, clinic zone
    state: str
    entries: list[CalendarEntry] = field(default_factory=list)  # the appointments that start in this cell
    taken: int = 0  # sessions running in a room or device during the cell
    reason: str = ""  # the closure's reason


@dataclass
class CalendarRow:
    at: time
    cells: list[CalendarCell]


@dataclass
class CalendarGrid:
    days: list[date]
    lanes: list[CalendarLane]
    rows: list[CalendarRow]
    step: timedelta
    closures: dict[date, str]


def _hours_by_lane(
    *, practitioner_ids: list[int], start: date, end: date
) -> tuple[dict[tuple[int, int], list[tuple[time, time]]], dict[tuple[int, date], list[tuple[time, time]]]]:
    weekly: dict[tuple[int, int], list[tuple[time, time]]] = defaultdict(list)
    extra: dict[tuple[int, date], list[tuple[time, time]]] = defaultdict(list)
    for practitioner_id, weekday, opens, closes in WorkingHours.objects.filter(
        practitioner__in=practitioner_ids
    ).values_list("practitioner_id", "weekday", "start_time", "end_time"):
        weekly[(practitioner_id, weekday)].append((opens, closes))
    for practitioner_id, on, opens, closes in ExtraHours.objects.filter(
        practitioner__in=practitioner_ids, date__gte=start, date__lte=end
    ).values_list("practitioner_id", "date", "start_time", "end_time"):
        extra[(practitioner_id, on)].append((opens, closes))
    return weekly, extra


def _wall_clock_rows(*, opens: time, closes: time, step: timedelta) -> list[time]:
    rows = []
    at = datetime.combine(date.min, opens)
    end = datetime.combine(date.min, closes)
    while at < end:
        rows.append(at.time())
        at += step
    return rows


def calendar_patients_named(*, viewer: User, patient_ids: set[int]) -> set[int]:
    """Of ``patient_ids``, those whose names ``viewer`` may see next to a booked time (the API's day list too)."""
    if viewer.is_clinic_admin or viewer.is_front_desk:
        return patient_ids
    return set(patients_visible_to(viewer).filter(pk__in=patient_ids).values_list("pk", flat=True))


def _viewer_may_move(*, viewer: User, appointment: Appointment, named: bool, now: datetime) -> bool:
    """Whether to offer "Move": the move service decides again (a care-team member through emergency
    access sees the name but may not move)."""
    if not appointment.is_upcoming(now):
        return False
    if viewer.is_clinic_admin or viewer.is_front_desk:
        return True
    return named or appointment.practitioner.user_id == viewer.pk


def calendar_grid(
    *, viewer: User, start: date, end: date, practitioner: Practitioner | None = None, with_resources: bool = True
) -> CalendarGrid:
    """The calendar from local ``start`` to ``end`` (inclusive) as ``viewer`` may see it.

    Lanes: the active practitioners (or just ``practitioner``), then the active rooms and devices.
    Rows run from the earliest opening to the latest closing of those days (08:00-18:00 when nobody
    works), widened to show any appointment outside them.  Nine queries at most, whatever the range.
    """
    policy = BookingPolicy.load()
    step = policy.slot_step
    now = timezone.now()
    zone = clinic_zone()
    days = [start + timedelta(days=offset) for offset in range((end - start).days + 1)]
    range_start, range_end = local_midnight(start), local_midnight(end + timedelta(days=1))

    practitioners = Practitioner.objects.filter(is_active=True).select_related("user").order_by("user__last_name")
    if practitioner is not None:
        practitioners = Practitioner.objects.filter(pk=practitioner.pk).select_related("user")
    lanes = [CalendarLane(name=p.full_name, practitioner_id=p.pk) for p in practitioners]
    practitioner_ids = [lane.practitioner_id for lane in lanes]
    if with_resources:
        lanes += [
            CalendarLane(name=r.name, resource_id=r.pk, capacity=r.capacity)
            for r in Resource.objects.filter(is_active=True).order_by("name")
        ]
    resource_ids = [lane.resource_id for lane in lanes if lane.resource_id]

    weekly, extra = _hours_by_lane(practitioner_ids=practitioner_ids, start=start, end=end)
    time_off: dict[int, list[tuple[datetime, datetime]]] = defaultdict(list)
    for practitioner_id, off_start, off_end in TimeOff.objects.filter(
        practitioner__in=practitioner_ids, starts_at__lt=range_end, ends_at__gt=range_start
    ).values_list("practitioner_id", "starts_at", "ends_at"):
        time_off[practitioner_id].append((off_start, off_end))
    closures: dict[date, str] = {}
    for closure_start, closure_end, reason in ClinicClosure.objects.filter(
        start_date__lte=end, end_date__gte=start
    ).values_list("start_date", "end_date", "reason"):
        for day in days:
            if closure_start <= day <= closure_end:
                closures.setdefault(day, reason)

    appointments = list(
        Appointment.objects.active()
        .overlapping(range_start, range_end)
        .filter(Q(practitioner__in=practitioner_ids) | Q(resource__in=resource_ids))
        .select_related("patient__user", "practitioner__user", "modality")
        .order_by("starts_at")
    )
    named_ids = calendar_patients_named(viewer=viewer, patient_ids={a.patient_id for a in appointments})
    # Per lane and local day, so each cell looks only at its own day's few appointments.
    by_practitioner: dict[tuple[int, date], list[Appointment]] = defaultdict(list)
    by_resource: dict[tuple[int, date], list[Appointment]] = defaultdict(list)
    for appointment in appointments:
        on = timezone.localtime(appointment.starts_at, zone).date()
        by_practitioner[(appointment.practitioner_id, on)].append(appointment)
        if appointment.resource_id:
            by_resource[(appointment.resource_id, on)].append(appointment)

    # The rows: every opening of those days, and every appointment, fits.
    opens, closes = [], []
    for day in days:
        for practitioner_id in practitioner_ids:
            for hours in weekly.get((practitioner_id, day.weekday()), []) + extra.get((practitioner_id, day), []):
                opens.append(hours[0])
                closes.append(hours[1])
    for appointment in appointments:
        local_start = timezone.localtime(appointment.starts_at, zone)
        local_end = timezone.localtime(appointment.blocked_until, zone)
        opens.append(local_start.time())
        closes.append(local_end.time() if local_end.date() == local_start.date() else time.max)
    first = min(opens, default=DEFAULT_OPENS)
    last = max(closes, default=DEFAULT_CLOSES)
    first = time(first.hour)  # rows begin on the hour
    times = _wall_clock_rows(opens=first, closes=last, step=step)

    rows = [CalendarRow(at=at, cells=[]) for at in times]
    for day in days:
        for lane in lanes:
            for row in rows:
                cell_start = clinic_datetime(day, row.at)
                row.cells.append(
                    _cell(
                        day=day,
                        lane=lane,
                        cell_start=cell_start,
                        cell_end=cell_start + step,
                        closure=closures.get(day, ""),
                        hours=weekly.get((lane.practitioner_id, day.weekday()), [])
                        + extra.get((lane.practitioner_id, day), []),
                        time_off=time_off.get(lane.practitioner_id, []),
                        appointments=(
                            by_practitioner.get((lane.practitioner_id, day), [])
                            if lane.is_practitioner
                            else by_resource.get((lane.resource_id, day), [])
                        ),
                        viewer=viewer,
                        named_ids=named_ids,
                        now=now,
                    )
                )
    return CalendarGrid(days=days, lanes=lanes, rows=rows, step=step, closures=closures)


def _cell(
    *,
    day: date,
    lane: CalendarLane,
    cell_start: datetime,
    cell_end: datetime,
    closure: str,
    hours: list[tuple[time, time]],
    time_off: list[tuple[datetime, datetime]],
    appointments: list[Appointment],
    viewer: User,
    named_ids: set[int],
    now: datetime,
) -> CalendarCell:
    cell = CalendarCell(day=day, lane=lane, starts_at=cell_start, state=CellState.FREE)
    treating = buffering = 0
    for appointment in appointments:
        if appointment.starts_at >= cell_end:
            break  # sorted by start
        if cell_start <= appointment.starts_at:
            named = appointment.patient_id in named_ids
            cell.entries.append(
                CalendarEntry(
                    appointment=appointment,
                    named=named,
                    may_move=_viewer_may_move(viewer=viewer, appointment=appointment, named=named, now=now),
                )
            )
        if appointment.ends_at > cell_start:
            treating += 1
        elif appointment.blocked_until > cell_start:
            buffering += 1
    cell.taken = treating + buffering
    if closure:
        cell.state, cell.reason = CellState.CLOSED, closure
    elif treating >= lane.capacity:
        cell.state = CellState.BOOKED
    elif cell.taken >= lane.capacity:
        cell.state = CellState.BUFFER
    elif cell.taken:
        cell.state = CellState.PARTLY_BOOKED
    elif lane.is_practitioner:
        if any(off_start < cell_end and off_end > cell_start for off_start, off_end in time_off):
            cell.state = CellState.TIME_OFF
        elif not any(
            clinic_datetime(day, opens) <= cell_start and cell_end <= clinic_datetime(day, closes)
            for opens, closes in hours
        ):
            cell.state = CellState.OUTSIDE_HOURS
    return cell
