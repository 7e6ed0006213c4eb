"""Webhooks: fan events out to endpoints, deliver each once (recognisably), retry with back-off.

How it holds together (the ideas of the message outbox, ``notifications.services``):

* FAN-OUT.  Apps publish domain events in the transaction of their change
  (``notifications.events``).  ``webhook_events_fan_out`` takes the events no fan-out has taken
  yet (``SELECT ... FOR UPDATE SKIP LOCKED`` on PostgreSQL, so two workers take disjoint events),
  writes one ``WebhookDelivery`` per active endpoint that chose the event, and marks the events
  taken, all in one transaction.  The pair (endpoint, event) is unique and rows are inserted with
  ``ON CONFLICT DO NOTHING``, so fanning an event out twice creates nothing twice.
* CLAIM.  A worker claims ONE due delivery at a time in a committed step (state "sending", the
  attempt counted, a lease of the timeout plus a minute), then POSTs outside any transaction,
  then records the result as its own UPDATE.  One at a time, so a worker that dies leaves at most
  one delivery waiting for its lease; webhooks are few next to the time a request takes.
* RETRY.  No 2xx (an error status, a refused connection, a timeout) puts the delivery back to
  pending after an exponential back-off (``CLINIC_WEBHOOKS_RETRY_SECONDS`` doubling, up to
  ``CLINIC_WEBHOOKS_RETRY_MAX_SECONDS``); after ``CLINIC_WEBHOOKS_MAX_ATTEMPTS`` it is failed and an
  admin may "send again".  A delivery still "sending" after its lease belongs to a dead worker: it
  is sent again.
* ONCE, RECOGNISABLY.  A timeout does not mean the receiver did not process the request, so a
  receiver may see one event more than once (at least once).  Every copy carries the same
  ``Clinic-Webhook-Id`` (the event's id), so a receiver that keeps the ids it processed sees each
  event once.  Redirects are not followed (a 3xx is a failure).

Targets (SSRF): in production an endpoint must be HTTPS and resolve to public addresses only; the
address is checked when the admin saves the URL and again, after DNS resolution, at every attempt,
and the request goes to the address that was checked (a DNS answer that changes in between is not
followed).  ``CLINIC_WEBHOOKS_ALLOW_PRIVATE_NETWORKS`` (debug and tests) lifts both rules.
"""

from __future__ import annotations

import http.client
import ipaddress
import json
import logging
import socket
import ssl
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from api.webhooks.models import WebhookDelivery, WebhookEndpoint, webhook_secret_new
from api.webhooks.signature import (
    ATTEMPT_HEADER,
    EVENT_HEADER,
    SIGNATURE_HEADER,
    WEBHOOK_ID_HEADER,
    signature_header,
)
from clinic.audit import audit_record
from clinic.models import AuditEvent, Patient, User
from notifications.backoff import retry_backoff
from notifications.events import event_clinical_details, event_type_get
from notifications.models import DomainEvent

logger = logging.getLogger(__name__)

State = WebhookDelivery.State

__all__ = [
    "WebhookTargetRefused",
    "webhook_deliveries_create",
    "webhook_deliveries_send_due",
    "webhook_delivery_send_again",
    "webhook_endpoint_create",
    "webhook_endpoint_secret_rotate",
    "webhook_events_fan_out",
    "webhook_payload",
    "webhook_url_check",
]


class WebhookTargetRefused(Exception):
    """The endpoint's address is not one the clinic sends to (plain HTTP or a private network in production)."""


# --- Endpoints ------------------------------------------------------------------------------


def _require_clinic_admin(actor: User, what: str) -> None:
    if not (actor.is_active and (actor.is_clinic_admin or actor.is_superuser)):
        raise PermissionDenied(f"Only clinic admins {what}.")


def _private_allowed() -> bool:
    return bool(settings.CLINIC_WEBHOOKS_ALLOW_PRIVATE_NETWORKS)


def _address_is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def webhook_url_check(url: str) -> None:
    """Refuse (``ValidationError``) a URL the clinic would never send to; the address itself is
    checked again at each attempt, after DNS resolution."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise ValidationError("Enter a full https:// address.", code="bad_url")
    if parts.username or parts.password:
        raise ValidationError("Leave the user name and password out of the address.", code="credentials_in_url")
    if _private_allowed():
        return
    if parts.scheme != "https":
        raise ValidationError("Webhooks are sent over HTTPS only: use an https:// address.", code="not_https")
    host = parts.hostname
    if host == "localhost" or host.endswith((".localhost", ".local", ".internal")):
        raise ValidationError("Webhooks are not sent to this machine or a local network.", code="private_target")
    try:
        literal = ipaddress.ip_address(host)
    except ValueError:
        return
    if not _address_is_public(str(literal)):
        raise ValidationError("Webhooks are not sent to private or reserved addresses.", code="private_target")


@transaction.atomic
def webhook_endpoint_create(
    *,
    actor: User,
    name: str,
    url: str,
    events: Iterable[str],
    include_clinical_details: bool = False,
    is_active: bool = True,
) -> WebhookEndpoint:
    """Register an endpoint (clinic admins only; audited).  Its new secret is on the returned row: show it once."""
    _require_clinic_admin(actor, "register webhook endpoints")
    endpoint = WebhookEndpoint(
        name=name.strip(),
        url=url.strip(),
        events=sorted(set(events)),
        include_clinical_details=include_clinical_details,
        is_active=is_active,
        created_by=actor,
    )
    webhook_endpoint_validate(endpoint)
    endpoint.save()
    _endpoint_audit(endpoint=endpoint, actor=actor, action=AuditEvent.Action.CREATE, what="registered")
    return endpoint


def webhook_endpoint_validate(endpoint: WebhookEndpoint) -> None:
    """The endpoint's URL and events, checked (``ValidationError`` per field)."""
    errors: dict[str, list[str]] = {}
    try:
        webhook_url_check(endpoint.url)
    except ValidationError as error:
        errors["url"] = error.messages
    unknown = []
    for name in endpoint.events:
        try:
            event_type_get(name)
        except LookupError:
            unknown.append(name)
    if unknown:
        errors["events"] = [f"Unknown events: {', '.join(sorted(unknown))}."]
    if errors:
        raise ValidationError(errors)
    endpoint.full_clean(exclude=["secret"])


def _endpoint_audit(*, endpoint: WebhookEndpoint, actor: User, action: str, what: str) -> None:
    clinical = " with clinical details" if endpoint.include_clinical_details else ""
    audit_record(
        request=None,
        actor=actor,
        patient=None,
        action=action,
        target=endpoint,
        description=f"Webhook endpoint {what}: {endpoint.name} ({endpoint.url}){clinical}; "
        f"events: {', '.join(endpoint.events) or 'none'}",
    )


def webhook_endpoint_saved_audit(*, endpoint: WebhookEndpoint, actor: User, created: bool) -> None:
    """Record an admin's registration or change of an endpoint (its URL, events, opt-in to clinical details)."""
    _require_clinic_admin(actor, "change webhook endpoints")
    action = AuditEvent.Action.CREATE if created else AuditEvent.Action.CHANGE
    _endpoint_audit(endpoint=endpoint, actor=actor, action=action, what="registered" if created else "changed")


@transaction.atomic
def webhook_endpoint_secret_rotate(*, endpoint: WebhookEndpoint, actor: User) -> WebhookEndpoint:
    """Give the endpoint a new signing secret (the old one stops at once); show the returned secret once."""
    _require_clinic_admin(actor, "rotate webhook secrets")
    endpoint = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
    endpoint.secret = webhook_secret_new()
    endpoint.save(update_fields=["secret"])
    _endpoint_audit(endpoint=endpoint, actor=actor, action=AuditEvent.Action.CHANGE, what="secret rotated")
    return endpoint


# --- Fan-out --------------------------------------------------------------------------------


def webhook_deliveries_create(
    *, events: Iterable[DomainEvent], endpoints: Iterable[WebhookEndpoint] | None = None, now: datetime | None = None
) -> int:
    """One pending delivery per (active endpoint that chose the event, event); an existing pair is left as it
    is (ON CONFLICT DO NOTHING), so calling it twice creates nothing twice.  Returns how many are new."""
    now = now or timezone.now()
    events = list(events)
    endpoints = list(WebhookEndpoint.objects.filter(is_active=True)) if endpoints is None else list(endpoints)
    rows = [
        WebhookDelivery(endpoint=endpoint, event=event, next_attempt_at=now)
        for event in events
        for endpoint in endpoints
        if endpoint.wants(event.name)
    ]
    if not rows:
        return 0
    with transaction.atomic():
        before = WebhookDelivery.objects.filter(event__in=events).count()
        WebhookDelivery.objects.bulk_create(rows, ignore_conflicts=True)
        return WebhookDelivery.objects.filter(event__in=events).count() - before


def webhook_events_fan_out(*, limit: int = 500, now: datetime | None = None) -> int:
    """Take up to ``limit`` events no fan-out has taken yet and write their deliveries; returns the events taken."""
    now = now or timezone.now()
    with transaction.atomic():
        events = list(DomainEvent.objects.undispatched().select_for_update(skip_locked=True)[:limit])
        if not events:
            return 0
        webhook_deliveries_create(events=events, now=now)
        DomainEvent.objects.filter(pk__in=[event.pk for event in events]).update(dispatched_at=now)
    return len(events)


# --- Payload and request --------------------------------------------------------------------


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def webhook_payload(*, delivery: WebhookDelivery) -> dict[str, Any]:
    """What the receiver gets: the event's id, name, time and data (ids and times); the clinical details
    (read now from the records) only when an admin opted the endpoint in."""
    event = delivery.event
    payload: dict[str, Any] = {
        "id": str(event.pk),
        "event": event.name,
        "occurred_at": _iso(event.occurred_at),
        "data": event.data,
    }
    if delivery.endpoint.include_clinical_details:
        payload["clinical_details"] = event_clinical_details(event)
    return payload


def webhook_body(*, delivery: WebhookDelivery) -> bytes:
    return json.dumps(webhook_payload(delivery=delivery), sort_keys=True, separators=(",", ":"), default=str).encode()


@dataclass(frozen=True)
class Attempt:
    """What one POST gave: the status code (None without an answer) and, if it failed, why."""

    status_code: int | None
    error: str = ""

    @property
    def delivered(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def _checked_address(host: str, port: int) -> str:
    """The address to connect to: the first DNS answer, if every answer is allowed."""
    try:
        answers = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as error:
        raise WebhookTargetRefused(f"The host name does not resolve: {error}") from error
    addresses = [answer[4][0] for answer in answers]
    if not addresses:
        raise WebhookTargetRefused("The host name has no address.")
    if not _private_allowed() and not all(_address_is_public(address) for address in addresses):
        raise WebhookTargetRefused("The host name resolves to a private or reserved address; not sent.")
    return addresses[0]


def _post(*, url: str, body: bytes, headers: dict[str, str], timeout: float) -> Attempt:
    parts = urlsplit(url)
    https = parts.scheme == "https"
    if not https and not _private_allowed():
        return Attempt(None, "Not sent: webhooks go over HTTPS only.")
    host = parts.hostname or ""
    port = parts.port or (443 if https else 80)
    try:
        address = _checked_address(host, port)
    except WebhookTargetRefused as refused:
        return Attempt(None, str(refused))
    if https:
        connection: http.client.HTTPConnection = http.client.HTTPSConnection(
            host, port, timeout=timeout, context=ssl.create_default_context()
        )
    else:
        connection = http.client.HTTPConnection(host, port, timeout=timeout)

    # Connect to the address that was checked (not a second DNS answer); TLS still checks the host name.
    def connect_checked(_where: Any, timeout: Any = None, source_address: Any = None) -> socket.socket:
        return socket.create_connection((address, port), timeout, source_address)

    connection._create_connection = connect_checked  # type: ignore[attr-defined]
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    try:
        connection.request("POST", path, body=body, headers=headers)
        response = connection.getresponse()
        answer = response.read(1024).decode("utf-8", "replace")
    except (OSError, http.client.HTTPException) as error:
        kind = "Timed out" if isinstance(error, TimeoutError | socket.timeout) else "No answer"
        return Attempt(None, f"{kind}: {type(error).__name__}: {error}"[:2000])
    finally:
        connection.close()
    if 200 <= response.status < 300:
        return Attempt(response.status)
    return Attempt(response.status, f"HTTP {response.status}: {answer}"[:2000])


def webhook_request_headers(*, delivery: WebhookDelivery, body: bytes, timestamp: int | None = None) -> dict[str, str]:
    return {
        "Content-Type": "application/json",
        "User-Agent": f"{settings.CLINIC_NAME} webhooks",
        WEBHOOK_ID_HEADER: str(delivery.event_id),
        EVENT_HEADER: delivery.event.name,
        ATTEMPT_HEADER: str(delivery.attempts),
        SIGNATURE_HEADER: signature_header(secret=delivery.endpoint.secret, body=body, timestamp=timestamp),
    }


# --- Claim, send, record --------------------------------------------------------------------

WORKER_DIED = (
    "Its worker stopped after sending and before recording the answer (the lease ran out); "
    "whether the receiver got it is unknown."
)


def _lease() -> timedelta:
    return timedelta(seconds=settings.CLINIC_WEBHOOKS_TIMEOUT_SECONDS + 60)


def _claim_one(*, now: datetime, event_ids: list[str] | None, skip: set[int]) -> WebhookDelivery | None:
    """Claim the next due delivery in a committed step (attempt counted, lease set), or None."""
    max_attempts = settings.CLINIC_WEBHOOKS_MAX_ATTEMPTS
    while True:
        with transaction.atomic():
            rows = WebhookDelivery.objects.due(now).filter(endpoint__is_active=True).exclude(pk__in=skip)
            if event_ids is not None:
                rows = rows.filter(event_id__in=event_ids)
            delivery = (
                rows.select_for_update(skip_locked=True, of=("self",))
                .select_related("endpoint", "event")
                .order_by("next_attempt_at", "pk")
                .first()
            )
            if delivery is None:
                return None
            if delivery.state == State.SENDING and delivery.attempts >= max_attempts:
                # A dead worker's last allowed attempt: stop for a person to decide (send again).
                delivery.state, delivery.lease_expires_at, delivery.last_error = State.FAILED, None, WORKER_DIED
                delivery.save(update_fields=["state", "lease_expires_at", "last_error", "updated_at"])
                skip.add(delivery.pk)
                continue
            if delivery.state == State.SENDING:
                delivery.last_error = WORKER_DIED
            delivery.state = State.SENDING
            delivery.attempts += 1
            delivery.lease_expires_at = now + _lease()
            delivery.last_attempt_at = now
            delivery.save(
                update_fields=["state", "attempts", "lease_expires_at", "last_attempt_at", "last_error", "updated_at"]
            )
            return delivery


def _record(*, delivery: WebhookDelivery, attempt: Attempt) -> str:
    """Record one attempt's answer as its own UPDATE; returns the outcome ("delivered", "retry", "failed")."""
    now = timezone.now()
    if attempt.delivered:
        # Delivered is true even if a newer claim has started meanwhile (the receiver has it).
        WebhookDelivery.objects.filter(pk=delivery.pk).exclude(state=State.DELIVERED).update(
            state=State.DELIVERED,
            delivered_at=now,
            last_status_code=attempt.status_code,
            last_error="",
            lease_expires_at=None,
            updated_at=now,
        )
        return "delivered"
    changes: dict[str, Any]
    if delivery.attempts < settings.CLINIC_WEBHOOKS_MAX_ATTEMPTS:
        wait = retry_backoff(
            attempts=delivery.attempts,
            first_seconds=settings.CLINIC_WEBHOOKS_RETRY_SECONDS,
            cap_seconds=settings.CLINIC_WEBHOOKS_RETRY_MAX_SECONDS,
        )
        changes, outcome = {"state": State.PENDING, "next_attempt_at": now + wait}, "retry"
    else:
        changes, outcome = {"state": State.FAILED}, "failed"
    # Only this claim's own row: a newer claim after an expired lease records its own answer.
    WebhookDelivery.objects.filter(pk=delivery.pk, state=State.SENDING, attempts=delivery.attempts).update(
        last_status_code=attempt.status_code,
        last_error=attempt.error,
        lease_expires_at=None,
        updated_at=now,
        **changes,
    )
    logger.warning(
        "Webhook delivery %s (attempt %s) %s: %s",
        delivery.pk,
        delivery.attempts,
        "will be retried" if outcome == "retry" else "failed",
        attempt.error,
    )
    return outcome


def webhook_deliveries_send_due(
    *, now: datetime | None = None, limit: int = 100, event_ids: list[str] | None = None
) -> dict[int, str]:
    """Send up to ``limit`` due deliveries (of ``event_ids`` only, if given), one claim at a time.

    Returns delivery id -> outcome ("delivered", "retry", "failed").  Idempotent: a delivery that is
    delivered, failed, not yet due or claimed by another worker is left alone.
    """
    outcomes: dict[int, str] = {}
    skip: set[int] = set()
    while len(outcomes) < limit:
        delivery = _claim_one(now=now or timezone.now(), event_ids=event_ids, skip=skip)
        if delivery is None:
            break
        skip.add(delivery.pk)
        body = webhook_body(delivery=delivery)
        if delivery.endpoint.include_clinical_details:
            _clinical_disclosure_audit(delivery=delivery)
        headers = webhook_request_headers(delivery=delivery, body=body, timestamp=int(time.time()))
        attempt = _post(
            url=delivery.endpoint.url, body=body, headers=headers, timeout=settings.CLINIC_WEBHOOKS_TIMEOUT_SECONDS
        )
        outcomes[delivery.pk] = _record(delivery=delivery, attempt=attempt)
    return outcomes


def _clinical_disclosure_audit(*, delivery: WebhookDelivery) -> None:
    """Clinical details leaving the clinic are in the audit trail, one row per attempt that carries them."""
    patient_id = delivery.event.data.get("patient_id")
    audit_record(
        request=None,
        patient=Patient.objects.filter(pk=patient_id).first() if patient_id else None,
        action=AuditEvent.Action.EXPORT,
        target=delivery,
        description=f"Clinical details sent by webhook (attempt {delivery.attempts}): {delivery.event.name} "
        f"to {delivery.endpoint.name}",
    )


@transaction.atomic
def webhook_delivery_send_again(*, delivery: WebhookDelivery, actor: User) -> WebhookDelivery:
    """Admin: queue a delivered or failed delivery again now (same event, same webhook id), with a fresh
    round of attempts.  A delivery pending or being sent is left as it is.  Audited."""
    _require_clinic_admin(actor, "send a webhook again")
    delivery = (
        WebhookDelivery.objects.select_for_update(of=("self",)).select_related("endpoint", "event").get(pk=delivery.pk)
    )
    if delivery.state in (State.PENDING, State.SENDING):
        return delivery
    audit_record(
        request=None,
        actor=actor,
        patient=None,
        action=AuditEvent.Action.CHANGE,
        target=delivery,
        description=f"Webhook sent again ({delivery.get_state_display()} after {delivery.attempts} attempts): "
        f"{delivery.event.name} to {delivery.endpoint.name}",
    )
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        state=State.PENDING,
        attempts=0,
        next_attempt_at=timezone.now(),
        lease_expires_at=None,
        delivered_at=None,
        last_error=f"Sent again by {actor.get_username()} ({delivery.get_state_display().lower()} before).",
        updated_at=timezone.now(),
    )
    delivery.refresh_from_db()
    return delivery
