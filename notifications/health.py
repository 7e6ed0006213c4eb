"""What ``/health/`` (clinic.health) asks of the messaging side: is the outbox moving, is beat alive?

- outbox: the age of the oldest message that is due and not yet sent, failing past
  ``CLINIC_HEALTH_OUTBOX_MAX_DELAY_MINUTES`` (workers or the dispatcher are stuck);
- beat: how long ago beat last ran one of the clinic's periodic tasks, failing past
  ``CLINIC_HEALTH_BEAT_MAX_SILENCE_MINUTES``; skipped while no schedule is installed.

Registered in ``NotificationsConfig.ready()``; each costs one query on indexed columns.
"""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.db.models import Count, Max, Min
from django_celery_beat.models import PeriodicTask

from clinic.health import FAIL, OK, SKIPPED, Check, seconds_since
from notifications.models import Reminder


def check_outbox(now: datetime) -> Check:
    oldest = Reminder.objects.sendable(now).aggregate(oldest=Min("next_attempt_at"))["oldest"]
    if oldest is None:
        return {"status": OK, "oldest_due_seconds": None}
    age = seconds_since(oldest, now)
    limit = settings.CLINIC_HEALTH_OUTBOX_MAX_DELAY_MINUTES * 60
    return {"status": OK if age <= limit else FAIL, "oldest_due_seconds": age}


def check_beat(now: datetime) -> Check:
    # Celery's own housekeeping is not the clinic's work; a task never run counts from its installation.
    clinic_tasks = PeriodicTask.objects.filter(enabled=True).exclude(task__startswith="celery.")
    seen = clinic_tasks.aggregate(tasks=Count("id"), last_run=Max("last_run_at"), installed=Max("date_changed"))
    if not seen["tasks"]:
        return {"status": SKIPPED}
    age = seconds_since(seen["last_run"] or seen["installed"], now)
    limit = settings.CLINIC_HEALTH_BEAT_MAX_SILENCE_MINUTES * 60
    return {"status": OK if age <= limit else FAIL, "last_run_seconds_ago": age}
