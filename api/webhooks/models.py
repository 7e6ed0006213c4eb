"""Webhook endpoints (registered by an admin) and deliveries (one per endpoint and event: the log).

A delivery is the outbox row of one webhook: it exists before anything is sent, its unique
(endpoint, event) pair means fanning an event out twice creates nothing twice, and its state,
attempts and lease make "sent once, recognisably" checkable (see ``api.webhooks.services``).
"""

from __future__ import annotations

import secrets
from datetime import datetime

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from notifications.models import DomainEvent

SECRET_PREFIX = "whsec_"  # noqa: S105 - a marker that lets secret scanners recognise a leaked signing secret


def webhook_secret_new() -> str:
    return SECRET_PREFIX + secrets.token_urlsafe(32)


class WebhookEndpoint(models.Model):
    name = models.CharField(
        max_length=100, help_text="Who receives the events, e.g. 'accounting system'.", verbose_name=_("name")
    )
    url = models.URLField(
        _("URL"),
        max_length=500,
        help_text="Where the events are POSTed. HTTPS to a public address in production.",
    )
    events = models.JSONField(
        default=list,
        blank=True,
        help_text="The event names this endpoint receives, e.g. ['appointment.booked'].",
        verbose_name=_("events"),
    )
    secret = models.CharField(
        max_length=80,
        default=webhook_secret_new,
        editable=False,
        help_text="Signs every request (HMAC-SHA256). Shown once when created or rotated.",
        verbose_name=_("secret"),
    )
    is_active = models.BooleanField(
        _("active"), default=True, help_text="Paused endpoints keep their deliveries waiting until active again."
    )
    include_clinical_details = models.BooleanField(
        default=False,
        help_text="Send clinical details (notes, readings, screening answers, reasons) with the events. Only for "
        "a system that may hold health records under the clinic's data-protection agreement.",
        verbose_name=_("include clinical details"),
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False, verbose_name=_("created at"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        editable=False,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("created by"),
    )

    class Meta:
        verbose_name = _("webhook endpoint")
        verbose_name_plural = _("webhook endpoints")
        app_label = "api"
        ordering = ["name", "pk"]

    def __str__(self) -> str:
        return f"{self.name} ({self.url})"

    def wants(self, event_name: str) -> bool:
        return event_name in self.events


class WebhookDeliveryQuerySet(models.QuerySet):
    def due(self, now: datetime) -> WebhookDeliveryQuerySet:
        """Pending deliveries whose time has come, and ones still "sending" after their worker's lease ran out."""
        return self.filter(
            Q(state=WebhookDelivery.State.PENDING, next_attempt_at__lte=now)
            | Q(state=WebhookDelivery.State.SENDING, lease_expires_at__lte=now)
        )


class WebhookDelivery(models.Model):
    class State(models.TextChoices):
        PENDING = "pending", "Pending"
        SENDING = "sending", "Sending"
        DELIVERED = "delivered", "Delivered"
        FAILED = "failed", "Failed"

    endpoint = models.ForeignKey(
        WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries", verbose_name=_("endpoint")
    )
    event = models.ForeignKey(
        DomainEvent,
        on_delete=models.CASCADE,
        related_name="+",
        help_text="What happened; its id is the Clinic-Webhook-Id, the same on every attempt.",
        verbose_name=_("event"),
    )
    state = models.CharField(
        max_length=10, choices=State.choices, default=State.PENDING, db_index=True, verbose_name=_("state")
    )
    attempts = models.PositiveSmallIntegerField(
        default=0, help_text="Requests made (counted, and committed, before each one).", verbose_name=_("attempts")
    )
    next_attempt_at = models.DateTimeField(
        help_text="Earliest time of the next attempt (later after a failure).", verbose_name=_("next attempt at")
    )
    lease_expires_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="While 'sending': when the worker's claim runs out; after it the delivery is sent again "
        "(the same webhook id, so the receiver can drop a copy).",
        verbose_name=_("lease expires at"),
    )
    last_attempt_at = models.DateTimeField(null=True, blank=True, verbose_name=_("last attempt at"))
    last_status_code = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        help_text="The receiver's HTTP status of the last attempt (empty: no answer).",
        verbose_name=_("last status code"),
    )
    last_error = models.TextField(blank=True, help_text="Why the last attempt failed.", verbose_name=_("last error"))
    delivered_at = models.DateTimeField(
        null=True, blank=True, help_text="When the receiver answered 2xx.", verbose_name=_("delivered at")
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False, verbose_name=_("created at"))
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))

    objects = WebhookDeliveryQuerySet.as_manager()

    class Meta:
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        app_label = "api"
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["state", "next_attempt_at"], name="webhookdelivery_due_idx")]
        constraints = [
            models.UniqueConstraint(fields=["endpoint", "event"], name="webhookdelivery_once_per_endpoint_event"),
            models.CheckConstraint(
                condition=~Q(state="sending") | Q(lease_expires_at__isnull=False), name="webhookdelivery_sending_leased"
            ),
            models.CheckConstraint(
                condition=~Q(state="delivered") | Q(delivered_at__isnull=False), name="webhookdelivery_delivered_at"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.event.name} to {self.endpoint.name} ({self.get_state_display()})"
