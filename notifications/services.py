"""The outbox: writing message rows, handing them to workers, and sending each once.

Every app that sends anything writes a row through ``reminder_plan`` (or its set forms
``reminders_plan_together`` and ``reminders_plan_many``); nothing else sends.  What a message
says is written at send time by the kind its app registered (``notifications.kinds``).

What the outbox guarantees (DESIGN.md invariant 4), stated honestly:

* A message is a row with a unique ``key`` before it is a message, so planning twice (two beat
  processes, two dispatchers) finds the same row instead of creating a second one.
* Sending has three committed steps.  The CLAIM (``_claim``, one transaction, ``SELECT ... FOR
  UPDATE SKIP LOCKED`` on PostgreSQL, SQLite's IMMEDIATE transactions serialise it) marks the
  row "sending", counts the attempt and sets a lease (``requeue_after_seconds``).  The
  HAND-OVER to the channel happens outside any transaction.  The RESULT is recorded as it
  happens: a refusal (pending after a back-off, or "failed") at once; "sent" at once for a
  channel whose copies cannot be recognised (SMS without idempotency keys), and for email in
  small groups (``SENT_GROUP_SIZE`` messages or ``SENT_GROUP_SECONDS``, one UPDATE each), since a
  lost email mark only means the same Message-ID again.  Attempts are never rolled back, so the
  admin log shows every hand-over (a row released unsent when its batch runs out of time gets
  its reserved attempt back).
* A worker killed before the claim commits leaves the row pending.  One killed after the
  claim leaves it "sending": once the lease has run out the outcome is UNKNOWN (the message
  may or may not have reached the server), and then it depends on the channel
  (``resend_is_recognisable``):

  - email: sent again with the SAME Message-ID, built from the key
    (``notifications.channels.message_id``), so servers and clients that de-duplicate by
    Message-ID drop the copy.  Email is therefore at least once, with every copy
    recognisable as the same message; never two different messages for one key.  After
    ``max_attempts`` claims it stops as "unknown" instead (a crash loop is not retried forever).
  - a channel whose copies nobody can recognise (e.g. SMS without a provider idempotency
    key): never sent again by itself; the row stops as "unknown" and a clinic admin decides
    in the admin ("mark sent" or "send again", both audited).  Such messages are claimed one
    at a time, just before their hand-over, so a crash leaves at most one of them unknown.
    At most once.
* Nothing is lost: the row, not the broker message, is the truth.  A queue message lost in a
  Redis restart or held by a killed worker is re-issued by ``reminders_dispatch_due`` once
  the row's dispatch lease has run out, and a worker claims only what is still due.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, connection, models, transaction
from django.db.models import Case, CharField, DateTimeField, F, Q, Value, When
from django.template import TemplateDoesNotExist
from django.template.loader import get_template
from django.utils import timezone, translation
from django.utils.translation import gettext

from clinic.audit import audit_record
from clinic.models import AuditEvent, Patient, User
from notifications.channels import CHANNELS, MessageChannel, channel_get
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


def _per_channel(plan: dict[str, Any], *, channels: dict[int, list[str]] | None = None) -> list[dict[str, Any]]:
    """One plan per channel: the channel the caller named, or each channel the patient's messages go by
    (their choice among email and SMS; see ``Patient.message_channel_names``, or ``channels`` by patient
    id when the caller worked them out already).  Applies to every kind."""
    if plan.get("channel"):
        names = [plan["channel"]]
    elif channels is not None and plan["patient"].pk in channels:
        names = channels[plan["patient"].pk]
    else:
        names = plan["patient"].message_channel_names()
    return [{**plan, "key": reminder_channel_key(key=plan["key"], channel=name), "channel": name} for name in names]


def _users_load(patients: list[Patient]) -> None:
    """Load the accounts of ``patients`` in one query (choosing a patient's channels reads it)."""
    field = Patient._meta.get_field("user")
    missing = [patient for patient in patients if not field.is_cached(patient)]
    users = User.objects.in_bulk({patient.user_id for patient in missing})
    for patient in missing:
        patient.user = users[patient.user_id]


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
def reminders_plan_many(*, plans: list[dict[str, Any]]) -> int:
    """Planners' set form of ``reminder_plan`` (its keyword arguments, without ``send_now``): one
    query for the keys that exist and one INSERT ... ON CONFLICT DO NOTHING for the rest, whatever
    the number of plans.  A key planned meanwhile by another process is skipped, never doubled.
    Each plan becomes one row per channel, as with ``reminder_plan``.  Returns how many rows are new."""
    _users_load([plan["patient"] for plan in plans if not plan.get("channel")])
    channels: dict[int, list[str]] = {}  # a patient's channels, worked out once per call
    for plan in plans:
        if not plan.get("channel") and plan["patient"].pk not in channels:
            channels[plan["patient"].pk] = plan["patient"].message_channel_names()
    plans = [one for plan in plans for one in _per_channel(plan, channels=channels)]
    if not plans:
        return 0
    existing = set(Reminder.objects.filter(key__in=[plan["key"] for plan in plans]).values_list("key", flat=True))
    rows = [
        Reminder(key=plan["key"], **_reminder_fields(**{k: v for k, v in plan.items() if k != "key"}))
        for plan in plans
        if plan["key"] not in existing
    ]
    Reminder.objects.bulk_create(rows, ignore_conflicts=True, batch_size=1000)
    return len(rows)


@transaction.atomic
def reminders_cancel(*, reminders: models.QuerySet[Reminder], reason: str) -> int:
    """Cancel the pending rows among ``reminders`` (the reason shows in the admin log)."""
    return reminders.filter(state=State.PENDING).update(
        state=State.CANCELLED, last_error=reason, updated_at=timezone.now()
    )


# --- Dispatching ----------------------------------------------------------------------------

# How many rows one worker claims and sends over one connection.
BATCH_SIZE = 200


def reminders_dispatch_due(*, now: datetime | None = None, limit: int = 5000) -> list[int]:
    """Lease due rows to the workers: returns the ids to enqueue (in batches, see ``tasks``).

    Due are pending rows whose time has come and rows still "sending" after their claim ran
    out (the worker's claim decides what happens to those).  A row leased less than
    ``requeue_after_seconds`` ago is left alone (its queue message is on its way); an older lease
    means the message was lost (a Redis restart) or its worker died, so it is issued again.
    Rows another dispatcher is leasing right now are skipped.
    """
    now = now or timezone.now()
    rules = ReminderSettings.load()
    lease_expired = now - timedelta(seconds=rules.requeue_after_seconds)
    with transaction.atomic():
        due = Q(state=State.PENDING, next_attempt_at__lte=now) | Q(state=State.SENDING, lease_expires_at__lte=now)
        rows = (
            Reminder.objects.filter(due)
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
    outcome: str  # "sent", "skipped", "cancelled", "deferred", "failed", "retry", "unknown", "released"
    detail: str = ""


@dataclass
class BatchResult:
    """What one ``reminders_send_batch`` did, row by row, and the soonest retry it asks for."""

    outcomes: dict[int, Delivery]
    retry_in: float | None = None

    def count(self, outcome: str) -> int:
        return sum(1 for delivery in self.outcomes.values() if delivery.outcome == outcome)


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
    and the text message (``<app>/sms/<kind>.txt`` beside ``<app>/email/<kind>``).

    Only what the row's channel carries is written (``context["reminder"]``, as
    ``message_base_context`` puts it): an email's subject, text and HTML, a text message's SMS line
    and subject (its fallback).  Without a row in the context, every part.
    """
    reminder = context.get("reminder")
    channel = getattr(reminder, "channel", None)
    email = channel != Channel.SMS
    sms = ""
    if channel in (None, Channel.SMS):
        try:
            sms = " ".join(get_template(_sms_template_name(template)).render(context).split())
        except TemplateDoesNotExist:
            sms = ""
    html = ""
    if email:
        try:
            html = get_template(f"{template}.html").render(context)
        except TemplateDoesNotExist:
            html = ""
    return MessageContent(
        subject=" ".join(get_template(f"{template}_subject.txt").render(context).split()),
        text=get_template(f"{template}.txt").render(context) if email else "",
        html=html,
        sms=sms,
    )


def _sms_template_name(template: str) -> str:
    """The text message beside an email template: ``app/email/kind`` → ``app/sms/kind.txt``."""
    head, _, name = template.rpartition("/email/")
    return f"{head}/sms/{name}.txt" if head else f"{template}_sms.txt"


def _abouts_load(reminders: list[Reminder], kinds: dict[str, MessageKind]) -> None:
    """Load what the rows are about: one query per kind and model, with what the kind's renderer reads."""
    wanted: dict[tuple[str, int], list[Reminder]] = {}
    for reminder in reminders:
        if reminder.about_type_id is not None:
            wanted.setdefault((reminder.kind, reminder.about_type_id), []).append(reminder)
    for (kind_name, _), rows in wanted.items():
        model = rows[0].about_type.model_class()
        if model is None:
            continue
        found = model._default_manager.select_related(*kinds[kind_name].about_select_related).in_bulk(
            {row.about_id for row in rows}
        )
        for row in rows:
            row.about = found.get(row.about_id)  # None when the object is gone; the kind's still_wanted decides


def _about_load(reminder: Reminder, kind: MessageKind) -> None:
    _abouts_load([reminder], {reminder.kind: kind})


def recipient_language(reminder: Reminder) -> str:
    """The language the row's message is written in: the patient's choice, else the clinic's default.

    A worker has no request, so nothing else would choose it: every render (subject, text, HTML,
    SMS, .ics) and hand-over runs inside ``translation.override`` of this.
    """
    return reminder.patient.user.message_language


def reminder_content(*, reminder: Reminder) -> MessageContent:
    """What the row's message says now, in the patient's language (for the admin and tests as well as for sending)."""
    kind = message_kind_get(reminder.kind)
    _about_load(reminder, kind)
    with translation.override(recipient_language(reminder)):
        return kind.render(reminder)


def _why_not_wanted(reminder: Reminder, kind: MessageKind, now: datetime) -> str:
    if not reminder.patient.user.is_active:
        return "The patient's account is inactive."
    return channel_get(reminder.channel).why_unreachable(reminder.patient) or kind.still_wanted(reminder, now)


UNKNOWN_OUTCOME = (
    "Its worker stopped after handing the message to the channel and before recording the result, "
    "so whether it arrived is unknown. Decide in the admin: mark it sent, or send it again."
)


@dataclass
class _Claim:
    """The rows one claim took ("sending", attempt counted, committed) and what it did to the others."""

    sending: list[Reminder]
    kinds: dict[str, MessageKind]
    outcomes: dict[int, Delivery]
    lease: timedelta

    @property
    def touched(self) -> bool:
        return bool(self.sending or self.outcomes)


def _claim(
    *, now: datetime, rules: ReminderSettings, channels: list[str], limit: int, ids: list[int] | None = None
) -> _Claim:
    """Claim due rows in one COMMITTED transaction, before anything is handed to a channel.

    A pending row due now becomes "sending" with its attempt counted and a lease; one still
    "sending" after its lease (its worker died between hand-over and recording) is claimed again
    when its channel's resend is recognisable and attempts remain, otherwise it stops as
    "unknown".  Rows no longer wanted are cancelled, rows in the quiet hours deferred.
    ``SKIP LOCKED`` lets concurrent workers take disjoint rows (PostgreSQL); SQLite's IMMEDIATE
    transactions serialise the claims.  A constant number of queries, whatever the batch size.
    """
    lease = timedelta(seconds=rules.requeue_after_seconds)
    outcomes: dict[int, Delivery] = {}
    with transaction.atomic():
        due = Q(state=State.PENDING, next_attempt_at__lte=now) | Q(state=State.SENDING, lease_expires_at__lte=now)
        rows = Reminder.objects.select_for_update(skip_locked=True, of=("self",)).select_related(
            "patient__user", "about_type"
        )
        rows = rows.filter(due, channel__in=channels)
        if ids is not None:
            rows = rows.filter(pk__in=ids)
        candidates = list(rows.order_by("next_attempt_at", "pk")[:limit])

        unknown, failed, cancelled, deferred, claimable = [], [], [], [], []
        kinds: dict[str, MessageKind] = {}
        for reminder in candidates:
            if reminder.state == State.SENDING and (
                not channel_get(reminder.channel).resend_is_recognisable or reminder.attempts >= rules.max_attempts
            ):
                reminder.last_error = UNKNOWN_OUTCOME
                unknown.append(reminder)
                continue
            try:
                kinds[reminder.kind] = message_kind_get(reminder.kind)
            except LookupError as error:
                reminder.last_error = str(error)
                failed.append(reminder)
                continue
            claimable.append(reminder)
        _abouts_load(claimable, kinds)
        quiet = rules.is_quiet(now)
        sending = []
        for reminder in claimable:
            kind = kinds[reminder.kind]
            reason = _why_not_wanted(reminder, kind, now)
            if reason:
                reminder.last_error = reason
                cancelled.append(reminder)
            elif quiet and not kind.transactional:
                deferred.append(reminder)
            else:
                sending.append(reminder)

        def mark(group: list[Reminder], state: str, outcome: str) -> None:
            if not group:
                return
            for reminder in group:
                reminder.state, reminder.lease_expires_at, reminder.updated_at = state, None, now
                outcomes[reminder.pk] = Delivery(outcome, reminder.last_error)
            Reminder.objects.bulk_update(group, ["state", "last_error", "lease_expires_at", "updated_at"])

        mark(unknown, State.UNKNOWN, "unknown")
        mark(failed, State.FAILED, "failed")
        mark(cancelled, State.CANCELLED, "cancelled")
        if deferred:
            later = rules.after_quiet_hours(now)
            Reminder.objects.filter(pk__in=[r.pk for r in deferred]).update(
                state=State.PENDING, next_attempt_at=later, enqueued_at=None, lease_expires_at=None, updated_at=now
            )
            outcomes |= {reminder.pk: Delivery("deferred", "quiet hours") for reminder in deferred}
        if sending:
            Reminder.objects.filter(pk__in=[r.pk for r in sending]).update(
                state=State.SENDING, attempts=F("attempts") + 1, lease_expires_at=now + lease, updated_at=now
            )
            for reminder in sending:
                reminder.state, reminder.attempts, reminder.lease_expires_at = (
                    State.SENDING,
                    reminder.attempts + 1,
                    now + lease,
                )
    if unknown:
        logger.error(
            "%s message(s) of unknown outcome need a decision in the admin: %s", len(unknown), [r.pk for r in unknown]
        )
    return _Claim(sending=sending, kinds=kinds, outcomes=outcomes, lease=lease)


def _record_failure(
    reminder: Reminder, error: Exception, *, channel: MessageChannel, rules: ReminderSettings
) -> tuple[Delivery, float | None]:
    """Record a refused hand-over at once: pending again after the back-off, failed for good, or
    "unknown" when the backend cannot say whether it went and a copy could not be told apart.
    Returns the delivery and, for a retry, the seconds until it."""
    now = timezone.now()
    message = f"{type(error).__name__}: {error}"[:2000]
    wait: float | None = None
    if channel.is_outcome_unknown(error) and not channel.resend_is_recognisable:
        # The provider may have sent it; a copy could not be told apart, so a person decides.
        changes = {"state": State.UNKNOWN}
        message = f"{UNKNOWN_OUTCOME} ({message})"[:2000]
        logger.error("Reminder %s has an unknown outcome: %s", reminder.pk, error)
    elif channel.is_transient(error) and reminder.attempts < rules.max_attempts:
        wait = rules.backoff(reminder.attempts).total_seconds()
        changes = {"state": State.PENDING, "next_attempt_at": now + timedelta(seconds=wait), "enqueued_at": None}
        logger.warning("Reminder %s failed (attempt %s), retrying: %s", reminder.pk, reminder.attempts, error)
    else:
        changes = {"state": State.FAILED}
        logger.error("Reminder %s failed for good after %s attempts: %s", reminder.pk, reminder.attempts, error)
    Reminder.objects.filter(pk=reminder.pk, state=State.SENDING).update(
        last_error=message, lease_expires_at=None, updated_at=now, **changes
    )
    outcome = "unknown" if changes["state"] == State.UNKNOWN else "retry" if wait is not None else "failed"
    return Delivery(outcome, message), wait


@contextmanager
def _result_transaction(*, durable: bool) -> Iterator[None]:
    """The transaction that records "sent" marks.

    On PostgreSQL, for a channel whose resend is recognisable (email), the COMMIT does not wait for
    the disk (``synchronous_commit = off``, this transaction only): a crash in the next fraction of a
    second can forget the marks, and the rows, still "sending", are sent again after their lease with
    the same Message-ID, which is the guarantee such a channel already has.  A channel whose copies
    cannot be told apart (SMS without idempotency keys) keeps a durable COMMIT.
    """
    with transaction.atomic():
        if not durable and connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL synchronous_commit TO OFF")
        yield


# A channel whose resend is recognisable (email) records its "sent" marks in small groups: one
# UPDATE for this many hand-overs, or for those of this many seconds, whichever fills first.  A
# worker that dies loses at most one group's marks; those rows are sent again after their lease
# with the same Message-ID.  One UPDATE per message was most of the database's share of a batch.
SENT_GROUP_SIZE = 50
SENT_GROUP_SECONDS = 1.0


class _SentMarks:
    """The "sent" marks of one channel's hand-overs: recorded at once (a channel whose copies cannot
    be recognised: SMS without idempotency keys) or in groups (``SENT_GROUP_SIZE``)."""

    def __init__(self, *, grouped: bool) -> None:
        self.grouped = grouped
        self.waiting: list[tuple[Reminder, datetime]] = []
        self.oldest = 0.0

    def add(self, reminder: Reminder) -> None:
        if not self.waiting:
            self.oldest = time.monotonic()
        self.waiting.append((reminder, timezone.now()))
        if (
            not self.grouped
            or len(self.waiting) >= SENT_GROUP_SIZE
            or time.monotonic() - self.oldest >= SENT_GROUP_SECONDS
        ):
            self.flush()

    def flush(self) -> None:
        """One UPDATE for every mark waiting (only rows still "sending": a row decided meanwhile stays)."""
        if not self.waiting:
            return
        group, self.waiting = self.waiting, []
        now = timezone.now()
        if len(group) == 1:
            reminder, sent_at = group[0]
            values: dict[str, Any] = {
                "sent_at": sent_at,
                "provider_message_id": reminder.provider_message_id,
                "provider_status": reminder.provider_status,
            }
        else:
            values = {
                "sent_at": Case(*[When(pk=r.pk, then=Value(at)) for r, at in group], output_field=DateTimeField())
            }
            for name in ("provider_message_id", "provider_status"):
                # The SMS provider's id and first status, to match its delivery reports (email: blank).
                if any(getattr(r, name) for r, _ in group):
                    whens = [When(pk=r.pk, then=Value(getattr(r, name))) for r, _ in group]
                    values[name] = Case(*whens, default=Value(""), output_field=CharField())
                else:
                    values[name] = ""
        with _result_transaction(durable=not self.grouped):
            Reminder.objects.filter(pk__in=[r.pk for r, _ in group], state=State.SENDING).update(
                state=State.SENT, last_error="", lease_expires_at=None, updated_at=now, **values
            )


def _sooner(a: float | None, b: float | None) -> float | None:
    return b if a is None else a if b is None else min(a, b)


def _reopen(connection: Any) -> None:
    """After a refused send, open the connection afresh for the next message (it may be broken)."""
    if not (hasattr(connection, "close") and hasattr(connection, "open")):
        return
    try:
        connection.close()
        connection.open()
    except Exception:  # the next send records the failure on its own row
        logger.warning("Could not reopen the channel connection", exc_info=True)


def _hand_over(claim: _Claim, *, rules: ReminderSettings, started: float) -> tuple[dict[int, Delivery], float | None]:
    """Send the claimed rows, one connection per channel, recording results as they happen.

    Outside any transaction: the claim is committed before the first hand-over.  A refused
    hand-over is recorded at once; "sent" is recorded at once for a channel whose copies cannot be
    recognised (SMS without idempotency keys) and in small groups for one whose copies can (email,
    see ``SENT_GROUP_SIZE``).  So a crash loses at most the result of the message being handed over,
    or of one group of emails: those rows stay "sending" and their lease decides (the same
    Message-ID again).  Rows not handed over before half the lease has passed are released (their
    reserved attempt returned) for the next run.
    """
    outcomes: dict[int, Delivery] = {}
    retry_in: float | None = None
    stop_at = started + claim.lease.total_seconds() / 2
    by_channel: dict[str, list[Reminder]] = {}
    for reminder in claim.sending:
        by_channel.setdefault(reminder.channel, []).append(reminder)
    for channel_name, reminders in by_channel.items():
        channel = channel_get(channel_name)
        marks = _SentMarks(grouped=channel.resend_is_recognisable)
        pending = deque(reminders)
        with ExitStack() as stack:
            try:
                connection = stack.enter_context(channel.connection())
            except Exception as error:  # the server is down: every row records the failed attempt
                for reminder in pending:
                    outcomes[reminder.pk], wait = _record_failure(reminder, error, channel=channel, rules=rules)
                    retry_in = _sooner(retry_in, wait)
                continue
            stack.callback(marks.flush)  # also when a hand-over raises past us: record what went
            while pending:
                if time.monotonic() >= stop_at:
                    Reminder.objects.filter(pk__in=[r.pk for r in pending], state=State.SENDING).update(
                        state=State.PENDING, attempts=F("attempts") - 1, lease_expires_at=None, enqueued_at=None
                    )
                    outcomes |= {r.pk: Delivery("released", "the batch ran out of time") for r in pending}
                    break
                reminder = pending.popleft()
                try:
                    with translation.override(recipient_language(reminder)):
                        content = claim.kinds[reminder.kind].render(reminder)
                        channel.send(reminder=reminder, content=content, connection=connection)
                except Exception as error:
                    outcomes[reminder.pk], wait = _record_failure(reminder, error, channel=channel, rules=rules)
                    retry_in = _sooner(retry_in, wait)
                    _reopen(connection)
                    continue
                marks.add(reminder)
                outcomes[reminder.pk] = Delivery("sent")
    return outcomes, retry_in


def reminders_send_batch(
    *, ids: list[int] | None = None, limit: int = BATCH_SIZE, now: datetime | None = None
) -> BatchResult:
    """Claim up to ``limit`` due rows (those of ``ids`` only, if given) and send them.

    Settings are loaded once; rows on channels whose resend is recognisable (email) are claimed
    together and sent over one connection per channel; rows on other channels are claimed one
    at a time, each just before its hand-over, so a crash leaves at most one "unknown".
    Idempotent: a row sent, cancelled, failed, not due or claimed by another worker is left alone.
    """
    rules = ReminderSettings.load()
    together = [name for name, channel in CHANNELS.items() if channel.resend_is_recognisable]
    one_by_one = [name for name, channel in CHANNELS.items() if not channel.resend_is_recognisable]
    result = BatchResult(outcomes={})

    def run(claim: _Claim) -> None:
        result.outcomes.update(claim.outcomes)
        outcomes, retry_in = _hand_over(claim, rules=rules, started=time.monotonic())
        result.outcomes.update(outcomes)
        result.retry_in = _sooner(result.retry_in, retry_in)

    run(_claim(now=now or timezone.now(), rules=rules, channels=together, limit=limit, ids=ids))
    while one_by_one and len(result.outcomes) < limit:
        claim = _claim(now=now or timezone.now(), rules=rules, channels=one_by_one, limit=1, ids=ids)
        if not claim.touched:
            break
        run(claim)
    return result


def reminder_deliver(*, reminder_id: int) -> Delivery:
    """Send one message if it is due (``reminders_send_batch`` for one id); "skipped" when it is not."""
    result = reminders_send_batch(ids=[reminder_id], limit=1)
    delivery = result.outcomes.get(reminder_id)
    if delivery is None:
        return Delivery("skipped", "not due, already handled, or being sent by another worker")
    if delivery.outcome == "retry":
        raise ReminderRetryLater(reminder_id=reminder_id, seconds=result.retry_in or 0, error=delivery.detail)
    return delivery


def _require_clinic_admin(actor: User) -> None:
    if not (actor.is_active and (actor.is_clinic_admin or actor.is_superuser)):
        raise PermissionDenied(gettext("Only clinic admins decide about sending a message."))


@transaction.atomic
def reminder_send_again(*, reminder: Reminder, actor: User) -> Reminder:
    """Admin: put a sent, failed, cancelled or unknown message back in the queue (same row, same key).

    Only someone who may change messages in the admin does it, and the audit trail names them.
    """
    _require_clinic_admin(actor)
    reminder = Reminder.objects.select_for_update().get(pk=reminder.pk)
    if reminder.state in (State.PENDING, State.SENDING):
        return reminder
    audit_record(
        request=None,
        actor=actor,
        patient=reminder.patient,
        action=AuditEvent.Action.CHANGE,
        target=reminder,
        description=f"Message sent again ({reminder.get_state_display()} before): {reminder.kind}",
    )
    now = timezone.now()
    reminder.state = State.PENDING
    reminder.next_attempt_at = now
    reminder.enqueued_at = None
    reminder.sent_at = None
    reminder.lease_expires_at = None
    reminder.save(
        update_fields=["state", "next_attempt_at", "enqueued_at", "sent_at", "lease_expires_at", "updated_at"]
    )
    return reminder


@transaction.atomic
def reminder_mark_sent(*, reminder: Reminder, actor: User) -> Reminder:
    """Admin: decide that a message of unknown outcome did arrive (e.g. the patient confirms it).

    Only a row in "unknown" changes; the audit trail names who decided.
    """
    _require_clinic_admin(actor)
    reminder = Reminder.objects.select_for_update().get(pk=reminder.pk)
    if reminder.state != State.UNKNOWN:
        return reminder
    audit_record(
        request=None,
        actor=actor,
        patient=reminder.patient,
        action=AuditEvent.Action.CHANGE,
        target=reminder,
        description=f"Message of unknown outcome marked sent: {reminder.kind}",
    )
    reminder.state = State.SENT
    reminder.sent_at = reminder.updated_at
    reminder.last_error = (
        f"Outcome unknown; marked sent by {actor.get_username()} on {timezone.now():%Y-%m-%d %H:%M} UTC."
    )
    reminder.save(update_fields=["state", "sent_at", "last_error", "updated_at"])
    return reminder
