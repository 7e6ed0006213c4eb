"""Writes on schedules: blocked time and private calendar feeds."""

from __future__ import annotations

from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from bookings.models import Appointment, CalendarFeed, TimeOff
from bookings.models.schedules import _new_feed_token
from clinic.models import Patient, Practitioner, User


@transaction.atomic
def time_off_create(
    *, practitioner: Practitioner, starts_at: datetime, ends_at: datetime, by: User, reason: str = ""
) -> TimeOff:
    """Block a practitioner's time so nothing new is booked in it.

    Existing appointments in the range are kept (the practitioner decides what to do with them);
    the caller can list them with ``time_off_clashes``.
    """
    if ends_at <= starts_at:
        raise ValidationError({"ends_at": _("The end must be after the start.")})
    time_off = TimeOff(practitioner=practitioner, starts_at=starts_at, ends_at=ends_at, reason=reason)
    time_off.full_clean()
    time_off.save()
    return time_off


def time_off_clashes(*, time_off: TimeOff) -> list[Appointment]:
    """Booked appointments of the practitioner inside a block of time off."""
    return list(
        Appointment.objects.filter(practitioner=time_off.practitioner, status=Appointment.Status.BOOKED)
        .overlapping(time_off.starts_at, time_off.ends_at)
        .select_related("patient__user", "modality")
    )


def calendar_feed_get_or_create(
    *, practitioner: Practitioner | None = None, patient: Patient | None = None
) -> CalendarFeed:
    """The owner's private feed, created on first use."""
    if (practitioner is None) == (patient is None):
        raise ValueError("A calendar feed belongs to exactly one practitioner or patient.")
    feed, _ = CalendarFeed.objects.get_or_create(practitioner=practitioner, patient=patient)
    return feed


@transaction.atomic
def calendar_feed_regenerate(*, feed: CalendarFeed) -> CalendarFeed:
    """Give the feed a new secret; the old URL stops working at once."""
    feed = CalendarFeed.objects.select_for_update().get(pk=feed.pk)
    feed.token = _new_feed_token()
    feed.regenerated_at = timezone.now()
    feed.save(update_fields=["token", "regenerated_at"])
    return feed
