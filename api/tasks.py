"""Celery tasks of the API app: the webhooks' fan-out and delivery (thin; they call ``api.webhooks.services``).

Two ways in, one truth (the rows): after each commit that published events, ``webhooks_deliver_events``
sends them at once; every minute beat runs ``webhooks_deliver_due``, which takes any event whose queue
message was lost and sends whatever is due (retries after their back-off, leases of dead workers).
"""

from __future__ import annotations

import logging

from celery import shared_task
from kombu.exceptions import OperationalError as BrokerUnavailable

from api.webhooks import services

logger = logging.getLogger(__name__)

# Installed into django-celery-beat's tables by ``manage.py beat_schedules_install``.
BEAT_SCHEDULES = {
    "webhooks: deliver due webhooks": {
        "task": "api.tasks.webhooks_deliver_due",
        "every_seconds": 60,
        "description": "Fan new events out to webhook endpoints and send due deliveries (retries included).",
    },
}


@shared_task(ignore_result=True, acks_late=True, reject_on_worker_lost=True)
def webhooks_deliver_due() -> int:
    """Fan out every event not taken yet, then send the due deliveries; returns how many were attempted."""
    while services.webhook_events_fan_out():
        pass
    return len(services.webhook_deliveries_send_due())


@shared_task(ignore_result=True, acks_late=True, reject_on_worker_lost=True)
def webhooks_deliver_events(event_ids: list[str]) -> int:
    """Fan out the new events and send their deliveries now (the periodic task catches anything missed)."""
    services.webhook_events_fan_out()
    return len(services.webhook_deliveries_send_due(event_ids=event_ids))


def webhooks_events_published(event_ids: list[str]) -> None:
    """Listener of ``notifications.events`` (after the commit): queue the delivery of the new events.

    A broker that is down loses nothing: the events are rows, and the periodic task sends them.
    """
    try:
        webhooks_deliver_events.delay(event_ids)
    except BrokerUnavailable:
        logger.warning("Broker unavailable; webhooks for %s wait for the periodic task", event_ids, exc_info=True)
