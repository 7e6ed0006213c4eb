"""The outbox: every message the clinic sends is a row before it is an email.

A row's unique ``key`` says what the message is about (kind, appointment, plan or review,
and the occasion), so planning the same message twice finds the existing row instead of
creating a second one, whichever process or beat run gets there first.

The models were born in ``bookings`` and keep their tables (``bookings_reminder``,
``bookings_remindersettings``): an existing database moves here without copying a row.
What a message is about is the generic ``about`` (content type + id), because this app
sits below every app that sends and may not point at their models.
"""

from __future__ import annotations

import uuid
from datetime import datetime, time, timedelta

from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from clinic.models import Patient, SingletonSettings
from notifications.backoff import retry_backoff
from notifications.kinds import message_kind_label

__all__ = ["Channel", "DomainEvent", "DomainEventQuerySet", "Reminder", "ReminderQuerySet", "ReminderSettings"]


class ReminderSettings(SingletonSettings):
    """The clinic's reminder rules, one row the admin edits (``ReminderSettings.load()``).

    Delivery rules (quiet hours, attempts, back-off, lease) belong to this app.  The two
    planning offsets (hours before an appointment, days before a screening expires) are read
    by the planners in ``bookings`` and ``screening``; they stay in this row so the admin
    keeps one page of reminder settings and no table is split.
    """

    upcoming_hours_before = models.PositiveSmallIntegerField(
        _("appointment reminder (hours before)"),
        default=24,
        help_text=_(
            "How long before a booked session its reminder goes out, for treatments without reminder "
            "times of their own (see the appointment reminder times of Bookings)."
        ),
    )
    screening_expiry_days_before = models.PositiveSmallIntegerField(
        _("screening expiry notice (days before)"),
        default=14,
        help_text=_("How many days before an intake screening expires the patient is told to renew it."),
    )
    quiet_hours_start = models.TimeField(
        default=time(21, 0),
        help_text=_("From this clinic-time hour no reminder is sent (until the end below)."),
        verbose_name=_("quiet hours start"),
    )
    quiet_hours_end = models.TimeField(
        default=time(8, 0),
        help_text=_("Reminders held during the quiet hours go out from this clinic time."),
        verbose_name=_("quiet hours end"),
    )
    max_attempts = models.PositiveSmallIntegerField(
        default=5,
        help_text=_("Failed sends tried this often in total before the reminder is marked failed."),
        verbose_name=_("max attempts"),
    )
    retry_backoff_seconds = models.PositiveIntegerField(
        default=60,
        help_text=_("Wait after the first failed send; it doubles with every further failure (capped at an hour)."),
        verbose_name=_("retry backoff seconds"),
    )
    requeue_after_seconds = models.PositiveIntegerField(
        default=300,
        help_text=_(
            "The lease of a send: a message a worker claimed and has not recorded as sent after this "
            "long is presumed lost with its worker. An email is then sent again with the same Message-ID; a message "
            "on a channel without a recognisable resend stops as 'unknown' for a person to decide."
        ),
        verbose_name=_("requeue after seconds"),
    )

    class Meta:
        db_table = "bookings_remindersettings"
        verbose_name = _("reminder settings")
        verbose_name_plural = _("reminder settings")
        constraints = [
            models.CheckConstraint(condition=Q(max_attempts__gte=1), name="reminder_settings_at_least_one_attempt"),
            models.CheckConstraint(condition=Q(pk=1), name="reminder_settings_single_row"),
        ]

    def __str__(self) -> str:
        return "Reminder settings"

    def is_quiet(self, moment: datetime) -> bool:
        local = timezone.localtime(moment).time()
        start, end = self.quiet_hours_start, self.quiet_hours_end
        if start == end:
            return False
        if start < end:
            return start <= local < end
        return local >= start or local < end

    def after_quiet_hours(self, moment: datetime) -> datetime:
        """``moment`` itself, or the end of the quiet hours it falls in (clinic time, DST-safe)."""
        if not self.is_quiet(moment):
            return moment
        local = timezone.localtime(moment)
        day = local.date()
        if local.time() >= self.quiet_hours_end:
            day += timedelta(days=1)
        return datetime.combine(day, self.quiet_hours_end, tzinfo=timezone.get_current_timezone())

    def backoff(self, attempts: int) -> timedelta:
        return retry_backoff(attempts=attempts, first_seconds=self.retry_backoff_seconds, cap_seconds=3600)


class Channel(models.TextChoices):
    """How a message travels; each has a sender in ``notifications.channels``."""

    EMAIL = "email", _("Email")
    SMS = "sms", _("Text message (SMS)")


class ReminderQuerySet(models.QuerySet):
    def pending(self) -> ReminderQuerySet:
        return self.filter(state=Reminder.State.PENDING)

    def sendable(self, now: datetime) -> ReminderQuerySet:
        """Pending rows whose time (and back-off after a failed try) has come."""
        return self.pending().filter(next_attempt_at__lte=now)

    def lease_expired(self, now: datetime) -> ReminderQuerySet:
        """Rows still "sending" after their worker's claim ran out: the outcome of the hand-over is unknown."""
        return self.filter(state=Reminder.State.SENDING, lease_expires_at__lte=now)

    def about(self, obj: models.Model) -> ReminderQuerySet:
        """Rows about this object (an appointment, a care plan, a review)."""
        return self.filter(**Reminder.about_fields(obj))


class Reminder(models.Model):
    """One message to one patient; the outbox row that makes sending once checkable."""

    class State(models.TextChoices):
        PENDING = "pending", _("Pending")
        SENDING = "sending", _("Sending")
        SENT = "sent", _("Sent")
        UNKNOWN = "unknown", _("Unknown (decide in the admin)")
        FAILED = "failed", _("Failed")
        CANCELLED = "cancelled", _("Cancelled")

    key = models.CharField(
        max_length=200,
        unique=True,
        help_text=_(
            "What this message is about, e.g. 'upcoming:42:2026-03-01T09:00:00+00:00'. "
            "The same key can never be planned twice."
        ),
        verbose_name=_("key"),
    )
    kind = models.CharField(
        max_length=24,
        db_index=True,
        help_text=_(
            "Which message this is; the app that sends it registers the kind and how to write it "
            "(see notifications.kinds)."
        ),
        verbose_name=_("kind"),
    )
    channel = models.CharField(
        max_length=16,
        choices=Channel.choices,
        default=Channel.EMAIL,
        help_text=_("How the message reaches the patient."),
        verbose_name=_("channel"),
    )
    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="reminders", verbose_name=_("patient"))
    about_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text=_(
            "The time of what the message is about when it was planned (an appointment's start); "
            "a moved appointment gets a new message."
        ),
        verbose_name=_("about at"),
    )
    about_type = models.ForeignKey(
        ContentType,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("What the message is about (an appointment, a care plan, a screening, a review)."),
        verbose_name=_("about type"),
    )
    about_id = models.PositiveBigIntegerField(null=True, blank=True, verbose_name=_("about id"))
    about = GenericForeignKey("about_type", "about_id")
    context = models.JSONField(
        default=dict,
        blank=True,
        help_text=_("Facts fixed when the reminder was planned (e.g. the modality to rebook)."),
        verbose_name=_("context"),
    )
    due_at = models.DateTimeField(
        help_text=_("When the message is meant to go out (after quiet hours)."), verbose_name=_("due at")
    )
    next_attempt_at = models.DateTimeField(
        help_text=_("Earliest time of the next send attempt: the due time, later after a failed try."),
        verbose_name=_("next attempt at"),
    )
    state = models.CharField(
        max_length=12, choices=State.choices, default=State.PENDING, db_index=True, verbose_name=_("state")
    )
    attempts = models.PositiveSmallIntegerField(
        default=0,
        help_text=_("Hand-overs to the channel, counted (and committed) before each one; never rolled back."),
        verbose_name=_("attempts"),
    )
    last_error = models.TextField(blank=True, help_text=_("Why the last attempt failed."), verbose_name=_("last error"))
    enqueued_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text=_("When a worker was last asked to send it (the lease of the dispatcher)."),
        verbose_name=_("enqueued at"),
    )
    lease_expires_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text=_(
            "While 'sending': when the worker's claim runs out. A row still 'sending' after it has an "
            "unknown outcome (its worker died between hand-over and recording the result)."
        ),
        verbose_name=_("lease expires at"),
    )
    sent_at = models.DateTimeField(
        null=True, blank=True, help_text=_("When the channel accepted the message."), verbose_name=_("sent at")
    )
    provider_message_id = models.CharField(
        max_length=64,
        blank=True,
        db_index=True,
        help_text=_("The SMS provider's id for the text (e.g. Twilio's SM...), to match its delivery reports."),
        verbose_name=_("provider message id"),
    )
    provider_status = models.CharField(
        max_length=24,
        blank=True,
        help_text=_(
            "The last delivery status the SMS provider reported (queued, sent, delivered, undelivered, failed)."
        ),
        verbose_name=_("provider status"),
    )
    created_at = models.DateTimeField(
        auto_now_add=True, help_text=_("When the message was planned."), verbose_name=_("created at")
    )
    updated_at = models.DateTimeField(
        auto_now=True, help_text=_("When the row last changed."), verbose_name=_("updated at")
    )

    objects = ReminderQuerySet.as_manager()

    class Meta:
        verbose_name = _("reminder")
        verbose_name_plural = _("reminders")
        db_table = "bookings_reminder"
        ordering = ["-due_at"]
        indexes = [
            models.Index(fields=["state", "next_attempt_at"], name="reminder_state_next_idx"),
            models.Index(fields=["about_type", "about_id"], name="reminder_about_idx"),
            models.Index(fields=["lease_expires_at"], name="reminder_sending_lease_idx", condition=Q(state="sending")),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(state="sent") | Q(sent_at__isnull=False), name="reminder_sent_has_sent_at"
            ),
            models.CheckConstraint(
                condition=~Q(state="sending") | Q(lease_expires_at__isnull=False), name="reminder_sending_has_lease"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind_label} for {self.patient} ({self.get_state_display()})"

    @property
    def kind_label(self) -> str:
        return message_kind_label(self.kind)

    @classmethod
    def about_fields(cls, obj: models.Model | None) -> dict[str, object]:
        if obj is None:
            return {"about_type": None, "about_id": None}
        return {"about_type": ContentType.objects.get_for_model(obj), "about_id": obj.pk}


class DomainEventQuerySet(models.QuerySet):
    def undispatched(self) -> DomainEventQuerySet:
        """Events the listeners (webhooks) have not taken yet, oldest first."""
        return self.filter(dispatched_at__isnull=True).order_by("occurred_at", "pk")


class DomainEvent(models.Model):
    """Something that happened in the clinic (an appointment booked, a session log signed), as a row.

    Written in the same transaction as the change (see ``notifications.events``), so it exists
    exactly when the change was committed.  Holds ids and times, never clinical text.
    """

    id = models.UUIDField(
        primary_key=True,
        default=uuid.uuid4,
        editable=False,
        help_text="The event's id; webhooks send it as Clinic-Webhook-Id, the same on every retry.",
        verbose_name=_("id"),
    )
    name = models.CharField(
        max_length=64, db_index=True, help_text="What happened, e.g. 'appointment.booked'.", verbose_name=_("name")
    )
    occurred_at = models.DateTimeField(
        help_text="When the change was made (its transaction).", verbose_name=_("occurred at")
    )
    about_type = models.ForeignKey(
        ContentType,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        help_text="What the event is about (an appointment, a session log, a screening).",
        verbose_name=_("about type"),
    )
    about_id = models.PositiveBigIntegerField(null=True, blank=True, verbose_name=_("about id"))
    about = GenericForeignKey("about_type", "about_id")
    data = models.JSONField(
        default=dict,
        blank=True,
        help_text="Ids and times of what happened (UTC, ISO 8601); no clinical text.",
        verbose_name=_("data"),
    )
    dispatched_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When the listeners (webhook fan-out) took the event; empty until then.",
        verbose_name=_("dispatched at"),
    )

    objects = DomainEventQuerySet.as_manager()

    class Meta:
        verbose_name = pgettext_lazy("domain event", "event")
        verbose_name_plural = pgettext_lazy("domain event", "events")
        ordering = ["-occurred_at"]
        indexes = [
            models.Index(
                fields=["occurred_at"], name="domainevent_undispatched_idx", condition=Q(dispatched_at__isnull=True)
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} at {self.occurred_at:%Y-%m-%d %H:%M:%S} UTC"

    @classmethod
    def about_fields(cls, obj: models.Model | None) -> dict[str, object]:
        if obj is None:
            return {"about_type": None, "about_id": None}
        return {"about_type": ContentType.objects.get_for_model(obj), "about_id": obj.pk}

    def about_object(self) -> models.Model | None:
        """What the event is about as it is now, or None when it is gone."""
        if self.about_type_id is None:
            return None
        model = self.about_type.model_class()
        return None if model is None else model._default_manager.filter(pk=self.about_id).first()
