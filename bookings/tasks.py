"""Celery tasks of bookings: thin, idempotent, each calling one service.

Only clinic-wide periodic tasks exist (see ``BEAT_SCHEDULES``); a reminder's own timing
lives in its outbox row, never in a per-patient beat entry or a long ETA.
"""

from __future__ import annotations

from celery import shared_task
from celery.app.task import Task

from bookings.services import reminders as reminder_services
from bookings.services.reminders import ReminderRetryLater

# Installed into django-celery-beat's tables by ``manage.py beat_schedules_install``; the admin
# may then tune the intervals (re-installing keeps their tuning).
BEAT_SCHEDULES = {
    "reminders: plan due reminders": {
        "task": "bookings.tasks.reminders_plan_due",
        "every_seconds": 5 * 60,
        "description": "Create the outbox rows of reminders whose time has come (idempotent).",
    },
    "reminders: send due reminders": {
        "task": "bookings.tasks.reminders_send_due",
        "every_seconds": 60,
        "description": "Hand due pending reminders to the workers; re-issues any whose message was lost.",
    },
}


@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True, max_retries=None, ignore_result=True)
def reminder_send(self: Task, reminder_id: int) -> str:
    """Send one reminder.  A no-op when it is already sent, cancelled, failed or not due.

    A transient mail error is recorded on the row and retried with exponential back-off;
    after ``ReminderSettings.max_attempts`` the row is marked failed (see the admin).
    """
    try:
        return reminder_services.reminder_deliver(reminder_id=reminder_id).outcome
    except ReminderRetryLater as later:
        if self.request.is_eager:
            # Run inline (tests, CELERY_TASK_ALWAYS_EAGER): no broker to hold the countdown; the row's
            # next_attempt_at already says when reminders_send_due hands it out again.
            return "retry later"
        raise self.retry(countdown=later.seconds, exc=later) from later


@shared_task(ignore_result=True)
def reminders_plan_due() -> dict[str, int]:
    """Create the outbox rows of reminders whose time has come (idempotent)."""
    return reminder_services.reminders_plan_due()


@shared_task(ignore_result=True)
def reminders_send_due() -> int:
    """Enqueue a send for every due reminder not already on its way."""
    ids = reminder_services.reminders_dispatch_due()
    for reminder_id in ids:
        reminder_send.delay(reminder_id)
    return len(ids)
