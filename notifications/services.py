"""The outbox: writing message rows, handing them to workers, and sending each once.

Every app that sends anything writes a row through ``reminder_plan`` (or its batch form
``reminders_plan_together``); nothing else sends mail.  What a message says is written at
send time by the kind its app registered (``notifications.kinds``).

What the outbox guarantees (DESIGN.md invariant 4), and where it stops:

* A message is a row with a unique ``key`` before it is a message; planning uses
  get_or_create on the key, so two beat processes or two dispatcher runs find the
  same row instead of creating a second one.
* ``reminder_deliver`` claims the row inside one transaction (``SELECT ... FOR UPDATE
  SKIP LOCKED`` on PostgreSQL; SQLite's IMMEDIATE transactions serialise writers),
  hands the message to the channel, and marks the row sent in that same transaction.
  A second worker holding the same id skips the locked row and then sees it sent.  A
  worker killed before the mail server accepted the message dies with its transaction:
  the row is still pending and the next dispatcher run hands it out again.
* The remaining window is honest: if the process dies *after* the mail server has
  accepted the message but *before* the COMMIT reaches the database, the row stays
  pending (its attempt count rolled back with it) and the message is sent a second
  time.  Both copies carry the same Message-ID (derived from the key, see
  ``notifications.channels.message_id``), so a mail server or client that de-duplicates
  by Message-ID shows it once; one that does not shows it twice.  Closing the window
  (a committed "sending" state before hand-over) is issue 15.
* Nothing is lost: the row, not the broker message, is the truth.  A message lost in
  a Redis restart or held by a killed worker is re-issued by ``reminders_dispatch_due``
  once the row's lease (``requeue_after_seconds``) has run out.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, models, transaction
from django.db.models import Q
from django.template import TemplateDoesNotExist
from django.template.loader import render_to_string
from django.utils import timezone

from clinic.audit import audit_record
from clinic.models import AuditEvent, Patient, User
from notifications.channels import channel_get
from notifications.kinds import MessageContent, MessageKind, message_kind_get
from notifications.models import Channel, Reminder, ReminderSettings

logger = logging.getLogger(__name__)

State = Reminder.State


class ReminderRetryLater(Exception):
    """The send failed for a reason that may pass (mail server down); try again after ``seconds``."""

    def __init__(self, *, reminder_id: int, seconds: float, error: str) -> None:
        super().__init__(f"reminder {reminder_id}: {error}; retry in {seconds:.0f} s")
        self.reminder_id = reminder_id
        self.seconds = seconds


# --- Timing ---------------------------------------------------------------------------------


def due_outside_quiet_hours(*, due_at: datetime, rules: ReminderSettings, latest: datetime | None = None) -> datetime:
    """Move a due time out of the quiet hours: to the morning, or to the evening before if the
    morning would be too late (``latest``, e.g. the appointment itself)."""
    moved = rules.after_quiet_hours(due_at)
    if latest is None or moved < latest or moved == due_at:
        return moved
    local = timezone.localtime(due_at)
    day = local.date() if local.time() >= rules.quiet_hours_start else local.date() - timedelta(days=1)
    evening = datetime.combine(day, rules.quiet_hours_start, tzinfo=timezone.get_current_timezone())
    return min(evening - timedelta(minutes=1), due_at)


# --- Planning (writing rows) ----------------------------------------------------------------


def _reminder_fields(
    *,
    kind: str,
    patient: Patient,
    due_at: datetime,
    about: models.Model | None = None,
    about_at: datetime | None = None,
    context: dict | None = None,
    channel: str = Channel.EMAIL,
    send_now: bool = False,
) -> dict:
    message_kind_get(kind)  # refuse a row no installed app could ever write
    return {
        "kind": kind,
        "channel": channel,
        "patient": patient,
        "about_at": about_at,
        "context": context or {},
        "due_at": due_at,
        "next_attempt_at": due_at,
        "enqueued_at": timezone.now() if send_now else None,
        **Reminder.about_fields(about),
    }


def reminder_channel_key(*, key: str, channel: str) -> str:
    """The row's key on a channel: email keeps the plain key (every row before SMS was email);
    another channel's row adds its name, so one message may go by email and by SMS once each."""
    return key if channel == Channel.EMAIL else f"{key}|{channel}"


def _per_channel(plan: dict[str, Any]) -> list[dict[str, Any]]:
    """One plan per channel: the channel the caller named, or each channel the patient's messages go by
    (their choice among email and SMS; see ``Patient.message_channel_names``).  Applies to every kind."""
    names = [plan["channel"]] if plan.get("channel") else plan["patient"].message_channel_names()
    return [{**plan, "key": reminder_channel_key(key=plan["key"], channel=name), "channel": name} for name in names]


def _send_after_commit(reminder_ids: list[int]) -> None:
    from notifications.tasks import reminder_send  # the task module imports this one

    for reminder_id in reminder_ids:
        reminder_send.delay_on_commit(reminder_id)


@transaction.atomic
def reminder_plan(
    *,
    key: str,
    kind: str,
    patient: Patient,
    due_at: datetime,
    about: models.Model | None = None,
    about_at: datetime | None = None,
    context: dict | None = None,
    channel: str | None = None,
    send_now: bool = False,
) -> tuple[Reminder, bool]:
    """The message with this key, created if it does not exist yet (never a second row).

    ``channel`` None plans one row per channel the patient's messages go by (email, SMS or both);
    the first is returned.  A named channel plans that one only.  ``send_now`` asks a worker to
    send a newly created row as soon as the caller's transaction commits (confirmations, review
    outcomes); otherwise the dispatcher hands it out when due.  If the caller's transaction rolls
    back, so do the rows, and nothing is sent.
    """
    plan = {
        "key": key,
        "kind": kind,
        "patient": patient,
        "due_at": due_at,
        "about": about,
        "about_at": about_at,
        "context": context,
        "channel": channel,
        "send_now": send_now,
    }
    first, *_others = [_plan_one_row(one) for one in _per_channel(plan)]  # every channel's row, not just the first
    return first


def _plan_one_row(plan: dict[str, Any]) -> tuple[Reminder, bool]:
    """get_or_create of one row whose key and channel are already resolved (see ``_per_channel``)."""
    fields = _reminder_fields(**{name: value for name, value in plan.items() if name != "key"})
    reminder, created = Reminder.objects.get_or_create(key=plan["key"], defaults=fields)
    if created and plan.get("send_now"):
        _send_after_commit([reminder.pk])
    return reminder, created


@transaction.atomic
def reminders_plan_together(*, plans: list[dict[str, Any]]) -> list[tuple[Reminder, bool]]:
    """Several ``reminder_plan`` calls (their keyword arguments) in one INSERT when none of the keys
    exists yet, as for a new appointment; otherwise one ``reminder_plan`` each.  Either way no key
    ever gets a second row (the unique key refuses it).  Each plan becomes one row per channel (see
    ``reminder_plan``); the answers, one per row, say whether it was created.
    """
    channel_plans = [one for plan in plans for one in _per_channel(plan)]
    rows = [
        Reminder(key=plan["key"], **_reminder_fields(**{k: v for k, v in plan.items() if k != "key"}))
        for plan in channel_plans
    ]
    try:
        with transaction.atomic():
            Reminder.objects.bulk_create(rows)
    except IntegrityError:
        return [_plan_one_row(plan) for plan in channel_plans]
    _send_after_commit([row.pk for row, plan in zip(rows, channel_plans, strict=True) if plan.get("send_now")])
    return [(row, True) for row in rows]


@transaction.atomic
def reminders_cancel(*, reminders: models.QuerySet[Reminder], reason: str) -> int:
    """Cancel the pending rows among ``reminders`` (the reason shows in the admin log)."""
    return reminders.filter(state=State.PENDING).update(
        state=State.CANCELLED, last_error=reason, updated_at=timezone.now()
    )


# --- Dispatching ----------------------------------------------------------------------------


def reminders_dispatch_due(*, now: datetime | None = None, limit: int = 500) -> list[int]:
    """Lease due pending rows to the workers: returns the ids to enqueue.

    A row leased less than ``requeue_after_seconds`` ago is left alone (its message is on its
    way); an older lease means the message was lost or its worker died, so it is issued again.
    Rows a worker is sending right now are locked and skipped.
    """
    now = now or timezone.now()
    rules = ReminderSettings.load()
    lease_expired = now - timedelta(seconds=rules.requeue_after_seconds)
    with transaction.atomic():
        rows = (
            Reminder.objects.sendable(now)
            .filter(Q(enqueued_at__isnull=True) | Q(enqueued_at__lte=lease_expired))
            .order_by("next_attempt_at")
            .select_for_update(skip_locked=True)
            .values_list("pk", flat=True)[:limit]
        )
        ids = list(rows)
        if ids:
            Reminder.objects.filter(pk__in=ids).update(enqueued_at=now)
    return ids


# --- Writing and sending --------------------------------------------------------------------


@dataclass(frozen=True)
class Delivery:
    outcome: str  # "sent", "skipped", "cancelled", "deferred", "failed"
    detail: str = ""


def message_base_context(reminder: Reminder) -> dict[str, Any]:
    """What every message template may use: the row, the patient, the clinic's name and phone."""
    return {
        "reminder": reminder,
        "patient": reminder.patient,
        "clinic_name": settings.CLINIC_NAME,
        "clinic_phone": settings.CLINIC_PHONE,
        "site_url": settings.SITE_URL,
        "time_zone": settings.TIME_ZONE,
        **reminder.context,
    }


def message_content_render(*, template: str, context: dict[str, Any]) -> MessageContent:
    """A message from ``<template>_subject.txt``, ``<template>.txt`` and, if they exist, ``<template>.html``
    and the text message (``<app>/sms/<kind>.txt`` beside ``<app>/email/<kind>``)."""
    try:
        html = render_to_string(f"{template}.html", context)
    except TemplateDoesNotExist:
        html = ""
    try:
        sms = " ".join(render_to_string(_sms_template_name(template), context).split())
    except TemplateDoesNotExist:
        sms = ""
    return MessageContent(
        subject=" ".join(render_to_string(f"{template}_subject.txt", context).split()),
        text=render_to_string(f"{template}.txt", context),
        html=html,
        sms=sms,
    )


def _sms_template_name(template: str) -> str:
    """The text message beside an email template: ``app/email/kind`` → ``app/sms/kind.txt``."""
    head, _, name = template.rpartition("/email/")
    return f"{head}/sms/{name}.txt" if head else f"{template}_sms.txt"


def _about_load(reminder: Reminder, kind: MessageKind) -> None:
    """Load what the row is about in one query, with what the kind's renderer reads."""
    if reminder.about_type_id is None:
        return
    model = reminder.about_type.model_class()
    if model is None:
        return
    obj = model._default_manager.select_related(*kind.about_select_related).filter(pk=reminder.about_id).first()
    reminder.about = obj  # None when the object is gone; the kind's still_wanted decides


def reminder_content(*, reminder: Reminder) -> MessageContent:
    """What the row's message says now (for the admin and tests as well as for sending)."""
    kind = message_kind_get(reminder.kind)
    _about_load(reminder, kind)
    return kind.render(reminder)


def _why_not_wanted(reminder: Reminder, kind: MessageKind, now: datetime) -> str:
    if not reminder.patient.user.is_active:
        return "The patient's account is inactive."
    return channel_get(reminder.channel).why_unreachable(reminder.patient) or kind.still_wanted(reminder, now)


def reminder_deliver(*, reminder_id: int) -> Delivery:
    """Send one message if it is pending and due; mark it sent in the same transaction.

    Idempotent: a sent, failed, cancelled, not-yet-due or locked row is left as it is.
    Raises ``ReminderRetryLater`` after recording a transient failure, so the task can retry.
    """
    retry: ReminderRetryLater | None = None
    with transaction.atomic():
        now = timezone.now()
        reminder = (
            Reminder.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("patient__user", "about_type")
            .filter(pk=reminder_id, state=State.PENDING)
            .first()
        )
        if reminder is None:
            return Delivery("skipped", "not pending, or being sent by another worker")
        if reminder.next_attempt_at > now:
            return Delivery("skipped", "not due yet")
        try:
            kind = message_kind_get(reminder.kind)
        except LookupError as error:
            reminder.state = State.FAILED
            reminder.last_error = str(error)
            reminder.save(update_fields=["state", "last_error", "updated_at"])
            return Delivery("failed", reminder.last_error)
        _about_load(reminder, kind)
        reason = _why_not_wanted(reminder, kind, now)
        if reason:
            reminder.state = State.CANCELLED
            reminder.last_error = reason
            reminder.save(update_fields=["state", "last_error", "updated_at"])
            return Delivery("cancelled", reason)
        rules = ReminderSettings.load()
        if not kind.transactional and rules.is_quiet(now):
            reminder.next_attempt_at = rules.after_quiet_hours(now)
            reminder.enqueued_at = None
            reminder.save(update_fields=["next_attempt_at", "enqueued_at", "updated_at"])
            return Delivery("deferred", "quiet hours")
        reminder.attempts += 1
        channel = channel_get(reminder.channel)
        try:
            content = kind.render(reminder)
            with channel.connection() as connection:
                channel.send(reminder=reminder, content=content, connection=connection)
        except Exception as error:
            reminder.last_error = f"{type(error).__name__}: {error}"[:2000]
            if channel.is_transient(error) and reminder.attempts < rules.max_attempts:
                wait = rules.backoff(reminder.attempts)
                reminder.next_attempt_at = now + wait
                retry = ReminderRetryLater(
                    reminder_id=reminder.pk, seconds=wait.total_seconds(), error=reminder.last_error
                )
                logger.warning("Reminder %s failed (attempt %s), retrying: %s", reminder.pk, reminder.attempts, error)
            else:
                reminder.state = State.FAILED
                logger.error("Reminder %s failed for good after %s attempts: %s", reminder.pk, reminder.attempts, error)
            reminder.save(update_fields=["attempts", "last_error", "next_attempt_at", "state", "updated_at"])
        else:
            reminder.state = State.SENT
            reminder.sent_at = timezone.now()
            reminder.last_error = ""
            reminder.save(
                update_fields=[
                    *("attempts", "state", "sent_at", "last_error", "updated_at"),
                    *("provider_message_id", "provider_status"),
                ]
            )
            return Delivery("sent")
    if retry is not None:
        raise retry
    return Delivery("failed", reminder.last_error)


@transaction.atomic
def reminder_send_again(*, reminder: Reminder, actor: User) -> Reminder:
    """Admin: put a sent, failed or cancelled message back in the queue (same row, same key).

    Only someone who may change messages in the admin does it, and the audit trail names them.
    """
    if not (actor.is_active and (actor.is_clinic_admin or actor.is_superuser)):
        raise PermissionDenied("Only clinic admins send a message again.")
    reminder = Reminder.objects.select_for_update().get(pk=reminder.pk)
    if reminder.state == State.PENDING:
        return reminder
    audit_record(
        request=None,
        actor=actor,
        patient=reminder.patient,
        action=AuditEvent.Action.CHANGE,
        target=reminder,
        description=f"Message sent again: {reminder.kind}",
    )
    now = timezone.now()
    reminder.state = State.PENDING
    reminder.next_attempt_at = now
    reminder.enqueued_at = None
    reminder.sent_at = None
    reminder.save(update_fields=["state", "next_attempt_at", "enqueued_at", "sent_at", "updated_at"])
    return reminder
