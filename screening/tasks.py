"""Celery tasks for screening: thin, idempotent, enqueued after commit."""

from __future__ import annotations

from smtplib import SMTPException

from celery import shared_task

from screening.services import review_notification_send


@shared_task(acks_late=True, autoretry_for=(SMTPException, ConnectionError), retry_backoff=True, max_retries=6)
def screening_review_notify(review_id: int) -> None:
    """Email the patient a review's outcome; does nothing if it was already sent."""
    review_notification_send(review_id=review_id)
