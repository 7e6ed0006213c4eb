"""iCalendar (.ics): one appointment (email attachments) and private feeds (calendar subscriptions).

Written directly as RFC 5545 text rather than through the ``icalendar`` library's object model:
every appointment email carries one, and building it through the library cost about a millisecond
a message, more than the three templates of the email together.  The output is what the library
writes for the same event (same properties, order, escaping and folding), which
``tests/bookings/test_ics.py`` checks against it over random texts.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from urllib.parse import urlsplit

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _

from bookings.models import Appointment

FOLD_LIMIT = 75  # octets per line, CRLF excluded (RFC 5545 3.1)


def appointment_uid(*, appointment: Appointment) -> str:
    """Stable per appointment, so a moved or cancelled booking updates the same calendar entry."""
    host = urlsplit(settings.SITE_URL).hostname or "clinic.localhost"
    return f"appointment-{appointment.pk}@{host}"


def _text(value: str) -> str:
    """A TEXT value escaped (RFC 5545 3.3.11): backslash, semicolon, comma and line breaks."""
    return (
        value.replace("\\N", "\\n")
        .replace("\\", "\\\\")
        .replace(";", "\\;")
        .replace(",", "\\,")
        .replace("\r\n", "\\n")
        .replace("\n", "\\n")
    )


def _fold(line: str) -> str:
    """Split a content line into lines of under 75 octets, never inside a character or an escape."""
    if len(line) < FOLD_LIMIT and line.isascii():
        return line
    pieces: list[str] = []
    current: list[str] = []
    size = 0
    for char in line:
        width = len(char.encode())
        if current and size + width >= FOLD_LIMIT:
            if len(current) > 1 and current[-1] in "\\^":
                carried = current.pop()
                pieces.append("".join(current))
                current, size = [carried], len(carried.encode())
            else:
                pieces.append("".join(current))
                current, size = [], 0
        current.append(char)
        size += width
    pieces.append("".join(current))
    return "\r\n ".join(pieces)


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def _calendar_lines(*, name: str = "") -> list[str]:
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", f"PRODID:{_text(f'-//{settings.CLINIC_NAME}//Bookings//EN')}"]
    lines.append("METHOD:PUBLISH")
    if name:
        lines.append(f"X-WR-CALNAME:{_text(name)}")
    return lines


def _event_lines(*, appointment: Appointment, stamp: str, for_practitioner: bool = False) -> list[str]:
    if for_practitioner:
        summary = f"{appointment.modality.name}: {appointment.patient.full_name}"
    else:
        summary = _("%(modality)s at %(clinic)s") % {
            "modality": appointment.modality.name,
            "clinic": settings.CLINIC_NAME,
        }
    # Calendars keep the entry with the highest sequence: each change of the row raises it.
    changed = (
        appointment.updated_at - appointment.created_at if appointment.updated_at and appointment.created_at else None
    )
    sequence = max(0, int(changed.total_seconds())) if changed else 0
    cancelled = appointment.status == Appointment.Status.CANCELLED
    description = [_("With %(practitioner)s.") % {"practitioner": appointment.practitioner.full_name}]
    if appointment.modality.preparation and not for_practitioner:
        description.append(_("How to prepare: %(preparation)s") % {"preparation": appointment.modality.preparation})
    description.append(_("Questions? Call %(phone)s.") % {"phone": settings.CLINIC_PHONE})
    return [
        "BEGIN:VEVENT",
        f"SUMMARY:{_text(summary)}",
        f"DTSTART:{_utc(appointment.starts_at)}",
        f"DTEND:{_utc(appointment.ends_at)}",
        f"DTSTAMP:{stamp}",
        f"UID:{_text(appointment_uid(appointment=appointment))}",
        f"SEQUENCE:{sequence}",
        f"DESCRIPTION:{_text(chr(10).join(description))}",
        f"LOCATION:{_text(settings.CLINIC_NAME)}",
        f"STATUS:{'CANCELLED' if cancelled else 'CONFIRMED'}",
        "END:VEVENT",
    ]


def _ics(lines: list[str]) -> bytes:
    return "".join(f"{_fold(line)}\r\n" for line in [*lines, "END:VCALENDAR"]).encode()


def appointment_ics(*, appointment: Appointment) -> bytes:
    """A VCALENDAR with one VEVENT, times in UTC; cancelled appointments carry STATUS:CANCELLED."""
    stamp = _utc(timezone.now())
    return _ics([*_calendar_lines(), *_event_lines(appointment=appointment, stamp=stamp)])


def appointments_feed_ics(*, appointments: Iterable[Appointment], name: str, for_practitioner: bool = False) -> bytes:
    """A VCALENDAR of many appointments (a private subscription feed)."""
    stamp = _utc(timezone.now())
    lines = _calendar_lines(name=name)
    for appointment in appointments:
        lines += _event_lines(appointment=appointment, stamp=stamp, for_practitioner=for_practitioner)
    return _ics(lines)
