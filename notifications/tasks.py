"""Celery tasks of the outbox: thin, idempotent, each calling one service.

A message's own timing lives in its outbox row, never in a per-patient beat entry or a
long ETA; the clinic-wide periodic task below hands due rows to the workers.
"""

from __future__ import annotations

from celery import shared_task
from celery.app.task import Task

from notifications import services
from notifications.services import ReminderRetryLater

# Installed into django-celery-beat's tables by ``manage.py beat_schedules_install`` (which collects
# ``BEAT_SCHEDULES`` from every installed app's tasks module); the admin may then tune the intervals.
BEAT_SCHEDULES = {
    "reminders: send due reminders": {
        "task": "notifications.tasks.reminders_send_due",
        "every_seconds": 60,
        "description": "Hand due pending messages to the workers; re-issues any whose queue message was lost.",
    },
}


@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True, max_retries=None, ignore_result=True)
def reminder_send(self: Task, reminder_id: int) -> str:
    """Send one message.  A no-op when it is already sent, cancelled, failed or not due.

    A transient mail error is recorded on the row and retried with exponential back-off;
    after ``ReminderSettings.max_attempts`` the row is marked failed (see the admin).
    """
    try:
        return services.reminder_deliver(reminder_id=reminder_id).outcome
    except ReminderRetryLater as later:
        if self.request.is_eager:
            # Run inline (tests, CELERY_TASK_ALWAYS_EAGER): no broker to hold the countdown; the row's
            # next_attempt_at already says when reminders_send_due hands it out again.
            return "retry later"
        raise self.retry(countdown=later.seconds, exc=later) from later


@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True, max_retries=None, ignore_result=True)
def reminders_send_batch(self: Task, reminder_ids: list[int]) -> dict[str, int]:
    """Claim and send the due rows among ``reminder_ids`` over one connection (see the service).

    A second copy of this task finds the rows claimed or sent and does nothing; a transient
    failure is recorded on its row and the task retries after the shortest back-off.
    """
    result = services.reminders_send_batch(ids=reminder_ids, limit=len(reminder_ids))
    if result.retry_in is not None and not self.request.is_eager:
        raise self.retry(countdown=result.retry_in)
    return {outcome: result.count(outcome) for outcome in {d.outcome for d in result.outcomes.values()}}


@shared_task(ignore_result=True)
def reminders_send_due() -> int:
    """Enqueue a batch send for the due messages not already on their way."""
    ids = services.reminders_dispatch_due()
    for start in range(0, len(ids), services.BATCH_SIZE):
        reminders_send_batch.delay(ids[start : start + services.BATCH_SIZE])
    return len(ids)
