"""Signed webhooks, end to end: a booking in the clinic, a real HTTP receiver on 127.0.0.1 that checks
the signature and processes each webhook id once, and the outbox rows in between."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError

from api.tasks import webhooks_deliver_due
from api.webhooks import SignatureInvalid, signature_header, signature_verify
from api.webhooks.models import WebhookDelivery, WebhookEndpoint
from api.webhooks.services import (
    webhook_deliveries_create,
    webhook_delivery_send_again,
    webhook_endpoint_create,
    webhook_events_fan_out,
    webhook_url_check,
)
from bookings.services.appointments import BookingRefused, appointment_book, appointment_cancel
from clinic.models import AuditEvent
from notifications.models import DomainEvent
from tests.api.webhook_receiver import Receiver, receiver_running
from tests.bookings.conftest import MONDAY, NOW, at, cleared, working_hours
from tests.factories import AdminFactory, PatientFactory

pytestmark = pytest.mark.django_db

State = WebhookDelivery.State


@pytest.fixture(autouse=True)
def _webhook_settings(settings) -> None:
    settings.TIME_ZONE = "Europe/London"
    settings.CLINIC_WEBHOOKS_ALLOW_PRIVATE_NETWORKS = True  # the receiver is on 127.0.0.1 over plain HTTP
    # Generous: a busy CI machine must not turn a quick answer into a timeout.
    settings.CLINIC_WEBHOOKS_TIMEOUT_SECONDS = 2.0
    settings.CLINIC_WEBHOOKS_RETRY_SECONDS = 60
    settings.CLINIC_WEBHOOKS_MAX_ATTEMPTS = 5


@pytest.fixture
def clock() -> Iterator[time_machine.Coordinates]:
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with receiver_running() as running:
        yield running


@pytest.fixture
def clinic_admin(db):
    return AdminFactory()


def endpoint_for(receiver: Receiver, admin, *, events: list[str] | None = None, **extra) -> WebhookEndpoint:
    endpoint = webhook_endpoint_create(
        actor=admin,
        name="Practice software",
        url=receiver.url,
        events=events or ["appointment.booked", "appointment.cancelled", "session_log.signed"],
        **extra,
    )
    receiver.secrets.append(endpoint.secret)
    return endpoint


@pytest.fixture
def bookable(clock, practitioner, patient, wbc):
    working_hours(practitioner)
    cleared(patient)
    return patient


def book(patient, wbc, hour: int = 11, days_later: int = 0):
    starts_at = at(MONDAY + timedelta(days=days_later), hour)
    return appointment_book(patient=patient, modality=wbc, starts_at=starts_at, booked_by=patient.user)


def test_a_booking_reaches_the_receiver_once_signed_with_ids_and_times(
    bookable, wbc, receiver, clinic_admin, django_capture_on_commit_callbacks
):
    endpoint_for(receiver, clinic_admin)
    with django_capture_on_commit_callbacks(execute=True):
        appointment = book(bookable, wbc)

    assert len(receiver.requests) == 1
    request = receiver.requests[0]
    assert request.verified
    event = DomainEvent.objects.get(name="appointment.booked")
    assert request.headers["Clinic-Webhook-Id"] == str(event.pk)
    assert request.headers["Clinic-Event"] == "appointment.booked"
    assert receiver.seen == [str(event.pk)]
    payload = request.payload
    assert payload["id"] == str(event.pk)
    assert payload["event"] == "appointment.booked"
    assert payload["occurred_at"] == "2027-03-22T07:00:00Z"
    assert payload["data"] == {
        "appointment_id": appointment.pk,
        "patient_id": bookable.pk,
        "practitioner_id": appointment.practitioner_id,
        "modality": wbc.slug,
        "starts_at": "2027-03-22T11:00:00Z",
        "ends_at": appointment.ends_at.isoformat().replace("+00:00", "Z"),
        "status": "booked",
    }
    assert "clinical_details" not in payload
    assert WebhookDelivery.objects.get().state == State.DELIVERED


def test_a_refused_booking_publishes_nothing(bookable, wbc, receiver, clinic_admin, django_capture_on_commit_callbacks):
    endpoint_for(receiver, clinic_admin)
    book(bookable, wbc)
    someone_else = cleared(PatientFactory())
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(BookingRefused, match="just been taken"):
        book(someone_else, wbc)
    assert DomainEvent.objects.count() == 1  # the first booking's, whose transaction committed


def test_the_receiver_sees_the_event_once_when_the_first_delivery_times_out(
    bookable, wbc, receiver, clinic_admin, clock, django_capture_on_commit_callbacks
):
    endpoint_for(receiver, clinic_admin)
    receiver.answers = [("slow", 4.0)]  # processes it, answers after the clinic's 2 s have passed
    with django_capture_on_commit_callbacks(execute=True):
        book(bookable, wbc)

    delivery = WebhookDelivery.objects.get()
    assert delivery.state == State.PENDING
    assert delivery.attempts == 1
    assert delivery.last_status_code is None
    assert delivery.last_error.startswith("Timed out")
    assert delivery.next_attempt_at == NOW + timedelta(seconds=60)

    clock.shift(timedelta(seconds=61))
    webhooks_deliver_due()

    delivery.refresh_from_db()
    assert delivery.state == State.DELIVERED
    assert delivery.attempts == 2
    assert len(receiver.requests) == 2
    assert {request.webhook_id for request in receiver.requests} == {str(delivery.event_id)}
    assert all(request.verified for request in receiver.requests)
    assert receiver.seen == [str(delivery.event_id)]  # processed once, the repeat dropped
    assert [event["event"] for event in receiver.events] == ["appointment.booked"]


def test_a_receiver_with_the_wrong_secret_refuses_every_request_and_nothing_counts_as_delivered(
    bookable, wbc, receiver, clinic_admin, django_capture_on_commit_callbacks
):
    endpoint_for(receiver, clinic_admin)
    receiver.secrets = ["whsec_not-the-one-the-clinic-signs-with"]
    with django_capture_on_commit_callbacks(execute=True):
        book(bookable, wbc)

    assert [request.verified for request in receiver.requests] == [False]
    assert receiver.seen == []
    delivery = WebhookDelivery.objects.get()
    assert (delivery.state, delivery.last_status_code) == (State.PENDING, 401)


def test_signature_verify_refuses_a_wrong_secret_a_changed_body_and_an_old_timestamp():
    body = b'{"id":"e1","event":"appointment.booked"}'
    header = signature_header(secret="whsec_right", body=body, timestamp=1_800_000_000)

    assert signature_verify(secret="whsec_right", body=body, header=header, now=1_800_000_010) == 1_800_000_000
    with pytest.raises(SignatureInvalid, match="No signature matches"):
        signature_verify(secret="whsec_wrong", body=body, header=header, now=1_800_000_010)
    with pytest.raises(SignatureInvalid, match="No signature matches"):
        signature_verify(secret="whsec_right", body=body.replace(b"booked", b"cancelled"), header=header,
                         now=1_800_000_010)  # fmt: skip
    with pytest.raises(SignatureInvalid, match="outside the tolerance"):
        signature_verify(secret="whsec_right", body=body, header=header, now=1_800_000_000 + 301)
    with pytest.raises(SignatureInvalid, match="no timestamp"):
        signature_verify(secret="whsec_right", body=body, header="v1=abc")


def test_fanning_an_event_out_twice_creates_no_second_delivery(bookable, wbc, receiver, clinic_admin):
    endpoint_for(receiver, clinic_admin)
    cancellations_only = webhook_endpoint_create(
        actor=clinic_admin, name="Marketing", url=receiver.url + "/other", events=["appointment.cancelled"]
    )
    book(bookable, wbc)

    assert webhook_events_fan_out() == 1
    assert webhook_events_fan_out() == 0  # taken already
    event = DomainEvent.objects.get()
    assert webhook_deliveries_create(events=[event]) == 0  # the unique (endpoint, event) refuses a copy
    assert WebhookDelivery.objects.count() == 1
    assert not WebhookDelivery.objects.filter(endpoint=cancellations_only).exists()


def test_payloads_carry_no_clinical_text_unless_an_admin_opted_the_endpoint_in(
    bookable, wbc, receiver, clinic_admin, django_capture_on_commit_callbacks
):
    endpoint_for(receiver, clinic_admin, events=["appointment.cancelled"])
    records = webhook_endpoint_create(
        actor=clinic_admin,
        name="Records system",
        url=receiver.url + "?records=1",
        events=["appointment.cancelled"],
        include_clinical_details=True,
    )
    receiver.secrets.append(records.secret)
    appointment = book(bookable, wbc, days_later=2)  # before the online cut-off
    with django_capture_on_commit_callbacks(execute=True):
        appointment_cancel(appointment=appointment, by=bookable.user, reason="My Raynaud's flared up")

    assert len(receiver.requests) == 2
    assert all(request.verified for request in receiver.requests)
    plain = [request for request in receiver.requests if "clinical_details" not in request.payload]
    opted_in = [request for request in receiver.requests if "clinical_details" in request.payload]
    assert len(plain) == len(opted_in) == 1
    assert "Raynaud" not in plain[0].body.decode()
    assert plain[0].payload["data"]["appointment_id"] == appointment.pk
    assert plain[0].payload["data"]["cancelled_late"] is False
    assert opted_in[0].payload["clinical_details"] == {"cancellation_reason": "My Raynaud's flared up"}
    disclosures = AuditEvent.objects.filter(action=AuditEvent.Action.EXPORT, patient=bookable)
    assert [row.description for row in disclosures] == [
        "Clinical details sent by webhook (attempt 1): appointment.cancelled to Records system"
    ]


def test_failed_deliveries_back_off_exponentially_then_fail(
    bookable, wbc, receiver, clinic_admin, clock, settings, django_capture_on_commit_callbacks
):
    settings.CLINIC_WEBHOOKS_MAX_ATTEMPTS = 3
    endpoint_for(receiver, clinic_admin)
    receiver.answers = [503, 503, 503, 503]
    with django_capture_on_commit_callbacks(execute=True):
        book(bookable, wbc)
    delivery = WebhookDelivery.objects.get()
    assert (delivery.state, delivery.attempts, delivery.last_status_code) == (State.PENDING, 1, 503)
    assert delivery.next_attempt_at == NOW + timedelta(seconds=60)

    clock.shift(timedelta(seconds=59))
    webhooks_deliver_due()
    assert len(receiver.requests) == 1  # not before its time

    clock.shift(timedelta(seconds=1))
    webhooks_deliver_due()
    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts) == (State.PENDING, 2)
    assert delivery.next_attempt_at == NOW + timedelta(seconds=60 + 120)

    clock.shift(timedelta(seconds=120))
    webhooks_deliver_due()
    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts, delivery.last_status_code) == (State.FAILED, 3, 503)
    assert "HTTP 503" in delivery.last_error

    clock.shift(timedelta(days=1))
    webhooks_deliver_due()
    assert len(receiver.requests) == 3  # failed stays failed until an admin sends it again


class WorkerKilled(BaseException):
    """The worker process dies between the request and recording its answer."""


def test_a_delivery_whose_worker_died_is_sent_again_with_the_same_webhook_id(
    bookable, wbc, receiver, clinic_admin, clock, monkeypatch
):
    from api.webhooks import services

    endpoint_for(receiver, clinic_admin)
    book(bookable, wbc)
    webhook_events_fan_out()
    real_post = services._post

    def post_then_die(**kwargs):
        real_post(**kwargs)
        raise WorkerKilled

    monkeypatch.setattr(services, "_post", post_then_die)
    with pytest.raises(WorkerKilled):
        webhooks_deliver_due()
    monkeypatch.setattr(services, "_post", real_post)

    delivery = WebhookDelivery.objects.get()
    assert (delivery.state, delivery.attempts) == (State.SENDING, 1)
    webhooks_deliver_due()
    assert len(receiver.requests) == 1  # its lease still runs: another worker leaves it alone

    clock.shift(timedelta(seconds=2 + 60 + 1))  # past the lease (the timeout + 60 s)
    webhooks_deliver_due()
    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts) == (State.DELIVERED, 2)
    assert [request.webhook_id for request in receiver.requests] == [str(delivery.event_id)] * 2
    assert receiver.seen == [str(delivery.event_id)]


def test_an_admin_sends_a_failed_delivery_again_with_the_same_webhook_id(
    bookable, wbc, receiver, clinic_admin, settings, client, django_capture_on_commit_callbacks
):
    from tests.factories import verified_login

    settings.CLINIC_WEBHOOKS_MAX_ATTEMPTS = 1
    endpoint_for(receiver, clinic_admin)
    receiver.answers = [500]
    with django_capture_on_commit_callbacks(execute=True):
        book(bookable, wbc)
    delivery = WebhookDelivery.objects.get()
    assert delivery.state == State.FAILED

    verified_login(client, clinic_admin)
    response = client.post(
        "/admin/api/webhookdelivery/", {"action": "send_again", "_selected_action": [delivery.pk]}, follow=True
    )
    assert response.status_code == 200
    assert "1 webhook delivery(ies) queued to be sent again" in response.content.decode()
    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts) == (State.PENDING, 0)
    assert AuditEvent.objects.filter(actor=clinic_admin, description__startswith="Webhook sent again").exists()

    webhooks_deliver_due()
    delivery.refresh_from_db()
    assert delivery.state == State.DELIVERED
    assert [request.webhook_id for request in receiver.requests] == [str(delivery.event_id)] * 2


def test_only_clinic_admins_send_again_or_register_endpoints(bookable, wbc, receiver, clinic_admin, practitioner):
    endpoint_for(receiver, clinic_admin)
    book(bookable, wbc)
    webhook_events_fan_out()
    delivery = WebhookDelivery.objects.get()
    with pytest.raises(PermissionDenied):
        webhook_delivery_send_again(delivery=delivery, actor=practitioner.user)
    with pytest.raises(PermissionDenied):
        webhook_endpoint_create(actor=practitioner.user, name="Mine", url=receiver.url, events=[])


def test_the_admin_shows_a_new_endpoints_secret_once(client, clinic_admin):
    from tests.factories import verified_login

    verified_login(client, clinic_admin)
    response = client.post(
        "/admin/api/webhookendpoint/add/",
        {
            "name": "Accounting",
            "url": "http://127.0.0.1:9/hooks",
            "events": ["appointment.booked", "appointment.no_show"],
            "is_active": "on",
        },
    )
    assert response.status_code == 200, response.content.decode()[:2000]
    endpoint = WebhookEndpoint.objects.get()
    assert endpoint.secret.startswith("whsec_")
    assert endpoint.secret in response.content.decode()
    assert endpoint.events == ["appointment.booked", "appointment.no_show"]
    change_page = client.get(f"/admin/api/webhookendpoint/{endpoint.pk}/change/")
    assert change_page.status_code == 200
    assert endpoint.secret not in change_page.content.decode()


def test_a_practitioner_cannot_open_the_webhook_admin(client, practitioner):
    from tests.factories import verified_login

    verified_login(client, practitioner.user)
    for url in ("/admin/api/webhookendpoint/", "/admin/api/webhookdelivery/"):
        assert client.get(url).status_code in (302, 403)


@pytest.mark.parametrize(
    ("url", "code"),
    [
        ("http://hooks.example.com/in", "not_https"),
        ("https://127.0.0.1/in", "private_target"),
        ("https://10.1.2.3/in", "private_target"),
        ("https://[::1]/in", "private_target"),
        ("https://169.254.169.254/latest/meta-data", "private_target"),
        ("https://localhost:8443/in", "private_target"),
        ("https://user:pw@hooks.example.com/in", "credentials_in_url"),
        ("ftp://hooks.example.com/in", "bad_url"),
    ],
)
def test_production_refuses_plain_http_and_private_targets(settings, url, code):
    settings.CLINIC_WEBHOOKS_ALLOW_PRIVATE_NETWORKS = False
    with pytest.raises(ValidationError) as refused:
        webhook_url_check(url)
    assert refused.value.code == code
    webhook_url_check("https://hooks.example.com/in")  # a public HTTPS address is fine


def test_a_host_that_resolves_to_a_private_address_gets_nothing_in_production(
    bookable, wbc, receiver, clinic_admin, settings
):
    endpoint_for(receiver, clinic_admin)
    WebhookEndpoint.objects.update(url=receiver.url.replace("http://127.0.0.1", "https://localhost"))
    settings.CLINIC_WEBHOOKS_ALLOW_PRIVATE_NETWORKS = False
    book(bookable, wbc)
    webhooks_deliver_due()
    delivery = WebhookDelivery.objects.get()
    assert receiver.requests == []
    assert delivery.state == State.PENDING
    assert "private or reserved address" in delivery.last_error


def test_the_periodic_task_is_declared_for_beat():
    from clinic.management.commands.beat_schedules_install import beat_schedules_declared

    assert beat_schedules_declared()["webhooks: deliver due webhooks"]["task"] == "api.tasks.webhooks_deliver_due"


def test_events_data_is_json_and_names_no_clinical_text(bookable, wbc):
    appointment = book(bookable, wbc, days_later=2)
    appointment_cancel(appointment=appointment, by=bookable.user, reason="Migraine since Tuesday")
    for event in DomainEvent.objects.all():
        assert "Migraine" not in json.dumps(event.data)
