"""Celery tasks of treatments: thin, idempotent, each calling one service."""

from __future__ import annotations

from celery import shared_task

from treatments.followup import followups_plan_due

# Installed into django-celery-beat by ``manage.py beat_schedules_install`` (see clinic).
BEAT_SCHEDULES = {
    "treatments: plan questionnaires and relief check-ins": {
        "task": "treatments.tasks.followups_plan",
        "every_seconds": 15 * 60,
        "description": "Send the questionnaires due (plan start, every few weeks, discharge) and plan the "
        "relief check-ins after cryotherapy sessions (idempotent).",
    },
}


@shared_task(ignore_result=True)
def followups_plan() -> dict[str, int]:
    """Plan the questionnaires and relief check-ins due now (idempotent)."""
    return followups_plan_due()
