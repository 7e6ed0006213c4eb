"""iCalendar (.ics): one appointment (email attachments) and private feeds (calendar subscriptions)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC
from urllib.parse import urlsplit

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _
from icalendar import Calendar, Event

from bookings.models import Appointment


def appointment_uid(*, appointment: Appointment) -> str:
    """Stable per appointment, so a moved or cancelled booking updates the same calendar entry."""
    host = urlsplit(settings.SITE_URL).hostname or "clinic.localhost"
    return f"appointment-{appointment.pk}@{host}"


def _calendar(*, name: str = "") -> Calendar:
    calendar = Calendar()
    calendar.add("prodid", f"-//{settings.CLINIC_NAME}//Bookings//EN")
    calendar.add("version", "2.0")
    calendar.add("method", "PUBLISH")
    if name:
        calendar.add("x-wr-calname", name)
    return calendar


def _event(*, appointment: Appointment, for_practitioner: bool = False) -> Event:
    event = Event()
    event.add("uid", appointment_uid(appointment=appointment))
    event.add("dtstamp", timezone.now().astimezone(UTC))
    event.add("dtstart", appointment.starts_at.astimezone(UTC))
    event.add("dtend", appointment.ends_at.astimezone(UTC))
    if for_practitioner:
        event.add("summary", f"{appointment.modality.name}: {appointment.patient.full_name}")
    else:
        event.add(
            "summary",
            _("%(modality)s at %(clinic)s") % {"modality": appointment.modality.name, "clinic": settings.CLINIC_NAME},
        )
    # Calendars keep the entry with the highest sequence: each change of the row raises it.
    changed = (
        appointment.updated_at - appointment.created_at if appointment.updated_at and appointment.created_at else None
    )
    event.add("sequence", max(0, int(changed.total_seconds())) if changed else 0)
    cancelled = appointment.status == Appointment.Status.CANCELLED
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    description = [_("With %(practitioner)s.") % {"practitioner": appointment.practitioner.full_name}]
    if appointment.modality.preparation and not for_practitioner:
        description.append(_("How to prepare: %(preparation)s") % {"preparation": appointment.modality.preparation})
    description.append(_("Questions? Call %(phone)s.") % {"phone": settings.CLINIC_PHONE})
    event.add("description", "\n".join(description))
    event.add("location", settings.CLINIC_NAME)
    return event


def appointment_ics(*, appointment: Appointment) -> bytes:
    """A VCALENDAR with one VEVENT, times in UTC; cancelled appointments carry STATUS:CANCELLED."""
    calendar = _calendar()
    calendar.add_component(_event(appointment=appointment))
    return calendar.to_ical()


def appointments_feed_ics(*, appointments: Iterable[Appointment], name: str, for_practitioner: bool = False) -> bytes:
    """A VCALENDAR of many appointments (a private subscription feed)."""
    calendar = _calendar(name=name)
    for appointment in appointments:
        calendar.add_component(_event(appointment=appointment, for_practitioner=for_practitioner))
    return calendar.to_ical()
