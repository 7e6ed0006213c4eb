"""The clinic's wall clock: its time zone, and local dates and times as aware instants.

Everything is stored in UTC; clinical cadence and opening hours are local dates and wall-clock
times in the clinic's zone (``TIME_ZONE``), so 09:00 stays 09:00 across a daylight-saving change.
"""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from django.utils import timezone


def clinic_zone() -> ZoneInfo:
    """The clinic's time zone (the project's ``TIME_ZONE``), whatever zone a request activated."""
    return ZoneInfo(timezone.get_default_timezone_name())


def clinic_datetime(day: date, at: time) -> datetime:
    """Local ``day`` at wall-clock ``at`` in the clinic, as an aware instant (fold=0 in an ambiguous hour)."""
    return datetime.combine(day, at, tzinfo=clinic_zone())


def local_midnight(day: date) -> datetime:
    """The instant the clinic's local ``day`` begins."""
    return clinic_datetime(day, time.min)
