"""New bookable time offers its slots to the waitlist.

Model signals, not the admin or a service, because a practitioner's hours and time off are saved
from several places (the admin's own pages, the inlines on the practitioner's admin page, the
practitioner's time-off page, the shell): a signal on the model sees every ``save()`` and
``delete()`` (a queryset ``delete()`` sends ``post_delete`` per row too).  Only ``bulk_create``,
``QuerySet.update()`` and raw SQL pass by unseen; the demo and test fixtures use ``bulk_create``
to lay out a week of hours without telling anyone, and nothing in the app edits hours that way.

``pre_save`` remembers the row as it was; ``post_save``/``post_delete`` work out the time that
became bookable (the new interval minus the old one, or the old time off minus the new) and hand
it, after the commit, to a Celery task (``bookings.tasks.waitlist_hours_opened``), so an admin
save stays fast.  The task offers only what is free, bookable and wanted; time that closes
(hours removed, time off added) needs nothing.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any, TypeVar

from django.db.models.signals import post_delete, post_save, pre_save
from django.utils import timezone

from bookings.models import BookingPolicy, ExtraHours, TimeOff, WorkingHours
from bookings.services.waitlist import waitlist_hours_opened_on_commit
from clinic.clinic_time import clinic_datetime

T = TypeVar("T", time, datetime)
Ranges = list[tuple[datetime, datetime]]

_BEFORE = "_waitlist_before"


def _minus(new: tuple[T, T], old: tuple[T, T] | None) -> list[tuple[T, T]]:
    """The parts of the interval ``new`` outside ``old``."""
    if old is None or old[1] <= new[0] or old[0] >= new[1]:
        return [new]
    parts = []
    if new[0] < old[0]:
        parts.append((new[0], old[0]))
    if old[1] < new[1]:
        parts.append((old[1], new[1]))
    return parts


def _on(day: date, parts: list[tuple[time, time]]) -> Ranges:
    return [(clinic_datetime(day, start), clinic_datetime(day, end)) for start, end in parts]


def _weekly_dates(weekday: int) -> list[date]:
    """The dates of ``weekday`` from today to the last day bookings are open."""
    today = timezone.localdate()
    last = timezone.localdate(BookingPolicy.load().latest_start(timezone.now()))
    first = today + timedelta(days=(weekday - today.weekday()) % 7)
    return [first + timedelta(weeks=week) for week in range((last - first).days // 7 + 1)] if first <= last else []


def _remember(sender: type, instance: Any, raw: bool = False, **kwargs: Any) -> None:
    if raw or instance._state.adding or instance.pk is None:
        setattr(instance, _BEFORE, None)
        return
    setattr(instance, _BEFORE, sender.objects.filter(pk=instance.pk).first())


def _working_hours_saved(instance: WorkingHours, raw: bool = False, **kwargs: Any) -> None:
    if raw:
        return
    before: WorkingHours | None = getattr(instance, _BEFORE, None)
    same = before is not None and (before.practitioner_id, before.weekday) == (
        instance.practitioner_id,
        instance.weekday,
    )
    parts = _minus((instance.start_time, instance.end_time), (before.start_time, before.end_time) if same else None)
    opened = [moment for day in _weekly_dates(instance.weekday) for moment in _on(day, parts)]
    waitlist_hours_opened_on_commit(practitioner_id=instance.practitioner_id, ranges=opened)


def _extra_hours_saved(instance: ExtraHours, raw: bool = False, **kwargs: Any) -> None:
    if raw:
        return
    before: ExtraHours | None = getattr(instance, _BEFORE, None)
    same = before is not None and (before.practitioner_id, before.date) == (instance.practitioner_id, instance.date)
    parts = _minus((instance.start_time, instance.end_time), (before.start_time, before.end_time) if same else None)
    waitlist_hours_opened_on_commit(practitioner_id=instance.practitioner_id, ranges=_on(instance.date, parts))


def _time_off_saved(instance: TimeOff, raw: bool = False, **kwargs: Any) -> None:
    before: TimeOff | None = getattr(instance, _BEFORE, None)
    if raw or before is None:  # new time off closes time, it opens none
        return
    if before.practitioner_id != instance.practitioner_id:
        opened = [(before.starts_at, before.ends_at)]
    else:
        opened = _minus((before.starts_at, before.ends_at), (instance.starts_at, instance.ends_at))
    waitlist_hours_opened_on_commit(practitioner_id=before.practitioner_id, ranges=opened, time_off=True)


def _time_off_deleted(instance: TimeOff, **kwargs: Any) -> None:
    waitlist_hours_opened_on_commit(
        practitioner_id=instance.practitioner_id, ranges=[(instance.starts_at, instance.ends_at)], time_off=True
    )


def schedule_signals_connect() -> None:
    """Called once from ``BookingsConfig.ready``."""
    for model in (WorkingHours, ExtraHours, TimeOff):
        pre_save.connect(_remember, sender=model, dispatch_uid=f"waitlist-remember-{model.__name__}")
    post_save.connect(_working_hours_saved, sender=WorkingHours, dispatch_uid="waitlist-working-hours-saved")
    post_save.connect(_extra_hours_saved, sender=ExtraHours, dispatch_uid="waitlist-extra-hours-saved")
    post_save.connect(_time_off_saved, sender=TimeOff, dispatch_uid="waitlist-time-off-saved")
    post_delete.connect(_time_off_deleted, sender=TimeOff, dispatch_uid="waitlist-time-off-deleted")
