"""Several workers fanning out and delivering at once, against a real PostgreSQL server: each event gets
one delivery per endpoint and reaches the receiver exactly once (``SKIP LOCKED`` claims, unique pairs)."""

from __future__ import annotations

import threading
from collections import Counter

import pytest
from django.db import connection, connections

from api.webhooks.models import WebhookDelivery
from api.webhooks.services import webhook_deliveries_send_due, webhook_endpoint_create, webhook_events_fan_out
from notifications.events import event_publish
from tests.api.webhook_receiver import receiver_running
from tests.factories import AdminFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

WORKERS = 6
EVENTS = 60


@pytest.fixture(scope="module", autouse=True)
def _leave_the_seeded_rows_behind(django_db_blocker):
    """Put the seeded catalogue back after the last flush here (see tests/bookings/test_concurrency.py)."""
    yield
    with django_db_blocker.unblock():
        serialized = getattr(connection, "_test_serialized_contents", None)
        if serialized:
            connection.creation.deserialize_db_from_string(serialized)


def test_concurrent_workers_deliver_every_event_once(settings, monkeypatch):
    settings.CLINIC_WEBHOOKS_ALLOW_PRIVATE_NETWORKS = True
    settings.CLINIC_WEBHOOKS_TIMEOUT_SECONDS = 5
    monkeypatch.setattr("notifications.events._LISTENERS", [])  # only the workers below deliver
    with receiver_running() as receiver:
        admin = AdminFactory()
        for name in ("Accounting", "Website"):
            endpoint = webhook_endpoint_create(
                actor=admin, name=name, url=f"{receiver.url}?to={name}", events=["appointment.booked"]
            )
            receiver.secrets.append(endpoint.secret)
        events = [
            event_publish(name="appointment.booked", about=None, data={"appointment_id": n}) for n in range(EVENTS)
        ]

        barrier = threading.Barrier(WORKERS)
        outcomes: Counter = Counter()
        errors: list[BaseException] = []
        lock = threading.Lock()

        def worker() -> None:
            try:
                barrier.wait()
                while webhook_events_fan_out(limit=7):
                    pass
                done = webhook_deliveries_send_due(limit=1000)
                with lock:
                    outcomes.update(done.values())
            except BaseException as error:  # pragma: no cover - reported below
                errors.append(error)
            finally:
                connections.close_all()

        threads = [threading.Thread(target=worker) for _ in range(WORKERS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    assert errors == []
    assert WebhookDelivery.objects.count() == 2 * EVENTS
    assert outcomes == Counter({"delivered": 2 * EVENTS})
    per_endpoint = Counter(
        (request.headers["Clinic-Webhook-Id"], request.payload["data"]["appointment_id"])
        for request in receiver.requests
    )
    assert len(receiver.requests) == 2 * EVENTS
    assert set(per_endpoint.values()) == {2}  # each event once to each of the two endpoints
    assert {webhook_id for webhook_id, _ in per_endpoint} == {str(event.pk) for event in events}
    assert set(WebhookDelivery.objects.values_list("attempts", flat=True)) == {1}
