"""Webhook deliveries as a state machine: publish, deliver, fail, time out, die mid-send, let leases and
back-offs run out, send again, in any order.

Whatever the sequence: every copy of a delivery carries its event's id; a delivery is never POSTed again
after the receiver answered 2xx (unless an admin sends it again); attempts never pass the limit; a
delivery marked delivered was received; and once workers are left alone with a healthy receiver nothing
is lost: every delivery ends delivered (each event processed once per endpoint) or failed for an admin.
The HTTP edge is a function here (the real receiver is in test_webhooks.py).
"""

from __future__ import annotations

import contextlib
from collections import Counter
from datetime import timedelta

import pytest
import time_machine
from django.db import transaction
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test

from api.webhooks import services
from api.webhooks.models import WebhookDelivery, WebhookEndpoint
from api.webhooks.services import Attempt, webhook_deliveries_send_due, webhook_delivery_send_again
from api.webhooks.services import webhook_events_fan_out as fan_out
from clinic.models import User
from notifications.events import event_publish
from tests.bookings.conftest import NOW

MAX_ATTEMPTS = 4
TIMEOUT = 10  # the lease is the timeout plus a minute
State = WebhookDelivery.State


class WorkerKilled(BaseException):
    pass


class WebhookMachine(RuleBasedStateMachine):
    admin: User
    current: WebhookMachine  # the run in progress, whose receiver answers the POSTs

    def __init__(self) -> None:
        super().__init__()
        self._atomic = transaction.atomic()
        self._atomic.__enter__()
        self.now = NOW
        self.answer = "ok"
        self.processed: Counter = Counter()  # (url, webhook id) processed by the receiver
        self.acknowledged: set[tuple[str, str]] = set()  # answered 2xx: must not be POSTed again
        self.reposted_after_ack: list[tuple[str, str]] = []
        self.wrong_ids: list[str] = []
        WebhookMachine.current = self

    def teardown(self) -> None:
        try:
            self.left_alone_nothing_is_lost()
        finally:
            transaction.set_rollback(True)
            self._atomic.__exit__(None, None, None)

    def _travel(self) -> time_machine.travel:
        return time_machine.travel(self.now, tick=False)

    def receive(self, *, url: str, body: bytes, headers: dict[str, str], timeout: float) -> Attempt:
        """The receiver and the network: ``self.answer`` decides what this request meets."""
        key = (url, headers["Clinic-Webhook-Id"])
        if f'"id":"{key[1]}"' not in body.decode():
            self.wrong_ids.append(key[1])
        if key in self.acknowledged:
            self.reposted_after_ack.append(key)
        if self.answer == "die_before":
            raise WorkerKilled
        if self.answer == "error":
            return Attempt(503, "HTTP 503: busy")
        if self.processed[key] == 0:
            self.processed[key] += 1  # a repeat of the same webhook id is dropped
        if self.answer == "die_after":
            raise WorkerKilled
        if self.answer == "timeout":
            return Attempt(None, "Timed out: TimeoutError")
        self.acknowledged.add(key)
        return Attempt(200)

    @rule()
    def publish(self) -> None:
        with self._travel():
            event_publish(name="appointment.booked", about=None, data={"appointment_id": 1})
            fan_out()

    @rule(answer=st.sampled_from(["ok", "error", "timeout", "die_before", "die_after"]), limit=st.integers(1, 3))
    def worker_sends(self, answer: str, limit: int) -> None:
        self.answer = answer
        with self._travel(), contextlib.suppress(WorkerKilled):
            webhook_deliveries_send_due(limit=limit)

    @rule(seconds=st.sampled_from([1, 59, 61, TIMEOUT + 61, 240, 3600, 7 * 3600]))
    def time_passes(self, seconds: int) -> None:
        self.now += timedelta(seconds=seconds)

    @rule(pick=st.integers(0, 20))
    def admin_sends_again(self, pick: int) -> None:
        done = list(WebhookDelivery.objects.filter(state__in=[State.FAILED, State.DELIVERED]).order_by("pk"))
        if not done:
            return
        delivery = done[pick % len(done)]
        self.acknowledged.discard((delivery.endpoint.url, str(delivery.event_id)))
        with self._travel():
            webhook_delivery_send_again(delivery=delivery, actor=self.admin)

    @invariant()
    def copies_carry_their_event_id_and_none_follows_a_2xx(self) -> None:
        assert self.wrong_ids == []
        assert self.reposted_after_ack == [], "POSTed again after the receiver answered 2xx"

    @invariant()
    def attempts_stay_within_the_limit_and_delivered_means_received(self) -> None:
        for delivery in WebhookDelivery.objects.select_related("endpoint"):
            assert delivery.attempts <= MAX_ATTEMPTS
            if delivery.state == State.DELIVERED:
                assert self.processed[(delivery.endpoint.url, str(delivery.event_id))] == 1

    def left_alone_nothing_is_lost(self) -> None:
        self.answer = "ok"
        for _ in range(MAX_ATTEMPTS + 2):
            self.now += timedelta(hours=7)  # past every lease and back-off
            with self._travel():
                webhook_deliveries_send_due(limit=1000)
        for delivery in WebhookDelivery.objects.select_related("endpoint"):
            assert delivery.state in (State.DELIVERED, State.FAILED), delivery.state
            if delivery.state == State.DELIVERED:
                assert self.processed[(delivery.endpoint.url, str(delivery.event_id))] == 1
            else:
                assert delivery.attempts == MAX_ATTEMPTS


@pytest.mark.django_db
def test_webhook_delivery_state_machine(settings, monkeypatch) -> None:
    from tests.factories import AdminFactory

    settings.CLINIC_WEBHOOKS_MAX_ATTEMPTS = MAX_ATTEMPTS
    settings.CLINIC_WEBHOOKS_TIMEOUT_SECONDS = TIMEOUT
    settings.CLINIC_WEBHOOKS_RETRY_SECONDS = 60
    settings.CLINIC_WEBHOOKS_RETRY_MAX_SECONDS = 6 * 3600
    monkeypatch.setattr("notifications.events._LISTENERS", [])  # the machine's workers deliver
    WebhookMachine.admin = AdminFactory()
    with time_machine.travel(NOW, tick=False):
        for name in ("accounting", "website"):
            url = f"https://{name}.example.com/in"
            WebhookEndpoint.objects.create(name=name, url=url, events=["appointment.booked"])
    monkeypatch.setattr(services, "_post", lambda **request: WebhookMachine.current.receive(**request))
    run_state_machine_as_test(
        WebhookMachine,
        settings=hypothesis_settings(
            max_examples=40,
            stateful_step_count=25,
            deadline=None,
            suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
        ),
    )
