"""The clinic's wall clock: its time zone, and local dates and times as aware instants.

Everything is stored in UTC; clinical cadence and opening hours are local dates and wall-clock
times in the clinic's zone (``TIME_ZONE``), so 09:00 stays 09:00 across a daylight-saving change.
"""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from django.utils import dateformat, timezone
from django.utils.formats import get_format_modules
from django.utils.translation import get_language


def clinic_zone() -> ZoneInfo:
    """The clinic's time zone (the project's ``TIME_ZONE``), whatever zone a request activated."""
    return ZoneInfo(timezone.get_default_timezone_name())


def clinic_datetime(day: date, at: time) -> datetime:
    """Local ``day`` at wall-clock ``at`` in the clinic, as an aware instant (fold=0 in an ambiguous hour)."""
    return datetime.combine(day, at, tzinfo=clinic_zone())


def local_midnight(day: date) -> datetime:
    """The instant the clinic's local ``day`` begins."""
    return clinic_datetime(day, time.min)


def clinic_format(name: str) -> str:
    """The active language's format called ``name`` (see ``CLINIC_FORMATS`` in ``clinic.formats``).

    A name no format module defines is a programming error, so it raises ``KeyError`` rather than
    printing a date in some other shape.
    """
    for module in get_format_modules(get_language()):
        formats = getattr(module, "CLINIC_FORMATS", None)
        if formats is not None and name in formats:
            return formats[name]
    from clinic.formats.en_GB.formats import CLINIC_FORMATS

    return CLINIC_FORMATS[name]


def format_when(value: datetime | date | time | None, name: str = "day_time") -> str:
    """``value`` in the clinic's words for the active language, an aware time shown in the current
    (the clinic's) time zone: "Tuesday 1 December, 08:30", "martes, 1 de diciembre, 08:30"."""
    if value is None or value == "":
        return ""
    if isinstance(value, datetime) and timezone.is_aware(value):
        value = timezone.localtime(value)
    if isinstance(value, time):
        return dateformat.time_format(value, clinic_format(name))
    return dateformat.format(value, clinic_format(name))
