"""Celery tasks of bookings: thin, idempotent, each calling one service.

Only clinic-wide periodic tasks exist (see ``BEAT_SCHEDULES``); a reminder's own timing
lives in its outbox row (the ``notifications`` app sends it), never in a per-patient beat
entry or a long ETA.
"""

from __future__ import annotations

from datetime import datetime

from celery import shared_task

from bookings.services import reminders as reminder_services
from bookings.services import waitlist as waitlist_services
from clinic.models import Modality, Practitioner

# Installed into django-celery-beat's tables by ``manage.py beat_schedules_install``; the admin
# may then tune the intervals (re-installing keeps their tuning).
BEAT_SCHEDULES = {
    "reminders: plan due reminders": {
        "task": "bookings.tasks.reminders_plan_due",
        "every_seconds": 5 * 60,
        "description": "Create the outbox rows of reminders whose time has come (idempotent).",
    },
    "waitlist: pass on unanswered offers": {
        "task": "bookings.tasks.waitlist_offers_advance",
        "every_seconds": 60,
        "description": "Offer each freed time whose hold has run out to the next patient on the waitlist.",
    },
}


@shared_task(ignore_result=True)
def reminders_plan_due() -> dict[str, int]:
    """Create the outbox rows of reminders whose time has come (idempotent)."""
    return reminder_services.reminders_plan_due()


@shared_task(ignore_result=True)
def waitlist_offers_advance() -> int:
    """Pass every waitlist offer whose hold has run out to the next matching patient (idempotent)."""
    return waitlist_services.waitlist_offers_advance()


@shared_task(ignore_result=True)
def waitlist_slot_offer(modality_id: int, practitioner_id: int, starts_at: str) -> int | None:
    """Offer a freed slot to the waitlist (idempotent: a slot already held or taken is left alone)."""
    modality = Modality.objects.filter(pk=modality_id).first()
    practitioner = Practitioner.objects.filter(pk=practitioner_id).first()
    if modality is None or practitioner is None:
        return None
    offer = waitlist_services.waitlist_slot_freed(
        modality=modality, starts_at=datetime.fromisoformat(starts_at), practitioner=practitioner
    )
    return offer.pk if offer else None


@shared_task(ignore_result=True)
def waitlist_hours_opened(practitioner_id: int, ranges: list[list[str]], time_off: bool = False) -> int:
    """Offer the free slots of a practitioner's newly bookable time to the waitlist (idempotent)."""
    practitioner = Practitioner.objects.filter(pk=practitioner_id).first()
    if practitioner is None:
        return 0
    opened = [(datetime.fromisoformat(start), datetime.fromisoformat(end)) for start, end in ranges]
    return len(waitlist_services.waitlist_hours_opened(practitioner=practitioner, ranges=opened, time_off=time_off))
