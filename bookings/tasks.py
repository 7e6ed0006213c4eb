"""Celery tasks of bookings: thin, idempotent, each calling one service.

Only clinic-wide periodic tasks exist (see ``BEAT_SCHEDULES``); a reminder's own timing
lives in its outbox row (the ``notifications`` app sends it), never in a per-patient beat
entry or a long ETA.
"""

from __future__ import annotations

from celery import shared_task

from bookings.services import reminders as reminder_services

# Installed into django-celery-beat's tables by ``manage.py beat_schedules_install``; the admin
# may then tune the intervals (re-installing keeps their tuning).
BEAT_SCHEDULES = {
    "reminders: plan due reminders": {
        "task": "bookings.tasks.reminders_plan_due",
        "every_seconds": 5 * 60,
        "description": "Create the outbox rows of reminders whose time has come (idempotent).",
    },
}


@shared_task(ignore_result=True)
def reminders_plan_due() -> dict[str, int]:
    """Create the outbox rows of reminders whose time has come (idempotent)."""
    return reminder_services.reminders_plan_due()
