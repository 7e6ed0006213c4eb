"""The reminder outbox: planning rows, handing them to workers, and sending each exactly once.

How "exactly once" holds (DESIGN.md invariant 4):

* A reminder is a row with a unique ``key`` before it is a message; planning uses
  get_or_create on the key, so two beat processes or two dispatcher runs find the
  same row instead of creating a second one.
* ``reminder_deliver`` claims the row inside one transaction (``SELECT ... FOR UPDATE
  SKIP LOCKED`` on PostgreSQL; SQLite's IMMEDIATE transactions serialise writers),
  hands the message to the mail backend, and marks the row sent in that same
  transaction.  A second worker holding the same id skips the locked row and then
  sees it sent.  A worker killed before the mail server accepted the message dies
  with its transaction: the row is still pending and the next dispatcher run hands
  it out again.
* The remaining window is honest and tiny: if the process dies *after* the mail
  server has accepted the message but *before* the COMMIT reaches the database, the
  row stays pending and the message is sent a second time.  Nothing in between can
  close that gap without a mail server that de-duplicates by Message-ID; the window
  is the time of one COMMIT round trip.
* Nothing is lost: the row, not the broker message, is the truth.  A message lost in
  a Redis restart or held by a killed worker is re-issued by ``reminders_dispatch_due``
  once the row's lease (``requeue_after_seconds``) has run out.
"""

from __future__ import annotations

import logging
import smtplib
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from django.conf import settings
from django.core import signing
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import IntegrityError, models, transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from bookings.ics import appointment_ics
from bookings.models import Appointment, CarePlan, Reminder, ReminderSettings
from clinic.models import Modality, Patient
from screening.selectors import screening_current_submission, screenings_expiring

logger = logging.getLogger(__name__)

Kind = Reminder.Kind
State = Reminder.State

# Sent right after the patient's (or staff's) action: they expect them at once, night or day.
TRANSACTIONAL_KINDS = frozenset({Kind.BOOKING_CONFIRMED, Kind.BOOKING_CANCELLED, Kind.BOOKING_CHANGED})
ICS_KINDS = frozenset({Kind.UPCOMING_APPOINTMENT, Kind.BOOKING_CONFIRMED, Kind.BOOKING_CHANGED, Kind.BOOKING_CANCELLED})
NUDGE_OPT_OUT_SALT = "bookings.reminders.nudge-opt-out"
SMTP_TIMEOUT_SECONDS = 30
# Nudges and screening notices go out at this clinic time on the day they fall due.
NOTICE_TIME = time(9, 0)
# A plan that fell due longer ago than this (e.g. while nudges were off) is not nudged any more;
# long enough that a no-show weeks after the due date still gets its fresh nudge.
NUDGE_LOOKBACK_DAYS = 90
# How long an appointment that has started may stay unmarked before it no longer holds back a nudge.
UNMARKED_GRACE = timedelta(days=2)


class ReminderRetryLater(Exception):
    """The send failed for a reason that may pass (mail server down); try again after ``seconds``."""

    def __init__(self, *, reminder_id: int, seconds: float, error: str) -> None:
        super().__init__(f"reminder {reminder_id}: {error}; retry in {seconds:.0f} s")
        self.reminder_id = reminder_id
        self.seconds = seconds


# --- Planning -----------------------------------------------------------------------------


def _clinic_zone():
    return timezone.get_current_timezone()


def _due_outside_quiet_hours(*, due_at: datetime, rules: ReminderSettings, latest: datetime | None = None) -> datetime:
    """Move a due time out of the quiet hours: to the morning, or to the evening before if the
    morning would be too late (``latest``, e.g. the appointment itself)."""
    moved = rules.after_quiet_hours(due_at)
    if latest is None or moved < latest or moved == due_at:
        return moved
    local = timezone.localtime(due_at)
    day = local.date() if local.time() >= rules.quiet_hours_start else local.date() - timedelta(days=1)
    evening = datetime.combine(day, rules.quiet_hours_start, tzinfo=_clinic_zone()) - timedelta(minutes=1)
    return min(evening, due_at)


def _reminder_fields(
    *,
    kind: str,
    patient: Patient,
    due_at: datetime,
    appointment: Appointment | None = None,
    about: models.Model | None = None,
    context: dict | None = None,
    enqueued: bool = False,
) -> dict:
    return {
        "kind": kind,
        "patient": patient,
        "appointment": appointment,
        "appointment_starts_at": appointment.starts_at if appointment else None,
        "context": context or {},
        "due_at": due_at,
        "next_attempt_at": due_at,
        "enqueued_at": timezone.now() if enqueued else None,
        **Reminder.about_fields(about),
    }


@transaction.atomic
def reminder_plan(
    *,
    key: str,
    kind: str,
    patient: Patient,
    due_at: datetime,
    appointment: Appointment | None = None,
    about: models.Model | None = None,
    context: dict | None = None,
    enqueued: bool = False,
) -> tuple[Reminder, bool]:
    """The reminder with this key, created if it does not exist yet (never a second row)."""
    fields = _reminder_fields(
        kind=kind,
        patient=patient,
        due_at=due_at,
        appointment=appointment,
        about=about,
        context=context,
        enqueued=enqueued,
    )
    return Reminder.objects.get_or_create(key=key, defaults=fields)


@transaction.atomic
def reminders_plan_together(*, plans: list[dict]) -> list[tuple[Reminder, bool]]:
    """Several ``reminder_plan`` calls (their keyword arguments) in one INSERT when none of the keys
    exists yet, as for a new appointment; otherwise one ``reminder_plan`` each.  Either way no key
    ever gets a second row (the unique key refuses it), and each answer says whether it was created.
    """
    rows = [
        Reminder(key=plan["key"], **_reminder_fields(**{k: v for k, v in plan.items() if k != "key"})) for plan in plans
    ]
    try:
        with transaction.atomic():
            Reminder.objects.bulk_create(rows)
    except IntegrityError:
        return [reminder_plan(**plan) for plan in plans]
    return [(row, True) for row in rows]


@transaction.atomic
def reminders_cancel_for_appointment(*, appointment: Appointment, reason: str) -> int:
    """Cancel the pending upcoming-appointment reminders that no longer match the appointment."""
    stale = Reminder.objects.pending().filter(appointment=appointment, kind=Kind.UPCOMING_APPOINTMENT)
    if appointment.status == Appointment.Status.BOOKED:
        stale = stale.exclude(appointment_starts_at=appointment.starts_at)
    return stale.update(state=State.CANCELLED, last_error=reason, updated_at=timezone.now())


def upcoming_reminder_due_at(*, starts_at: datetime, rules: ReminderSettings) -> datetime:
    """``upcoming_hours_before`` on the clinic's wall clock (24 h before 09:00 is 09:00 the day
    before, also across a daylight-saving change), then moved out of the quiet hours."""
    local = timezone.localtime(starts_at)
    wall = (local.replace(tzinfo=None) - timedelta(hours=rules.upcoming_hours_before)).replace(tzinfo=_clinic_zone())
    return _due_outside_quiet_hours(due_at=wall, rules=rules, latest=starts_at)


def upcoming_reminder_planned(
    *, appointment: Appointment, rules: ReminderSettings | None = None
) -> dict[str, object] | None:
    """The ``reminder_plan`` arguments of the reminder before a booked appointment, or None when none
    is wanted: the confirmation already does its job (booked after the reminder's time), the
    appointment is not booked or is over, or the patient turned appointment reminders off."""
    if appointment.status != Appointment.Status.BOOKED or not appointment.patient.appointment_reminders:
        return None
    rules = rules or ReminderSettings.load()
    due_at = upcoming_reminder_due_at(starts_at=appointment.starts_at, rules=rules)
    if appointment.created_at and appointment.created_at >= due_at:
        return None
    if appointment.starts_at <= timezone.now():
        return None
    return {
        "key": f"upcoming:{appointment.pk}:{appointment.starts_at.astimezone(UTC).isoformat()}",
        "kind": Kind.UPCOMING_APPOINTMENT,
        "patient": appointment.patient,
        "appointment": appointment,
        "due_at": due_at,
    }


def reminder_plan_upcoming(*, appointment: Appointment, rules: ReminderSettings | None = None) -> Reminder | None:
    """Plan the reminder before a booked appointment, unless the confirmation already does its job
    (booked after the reminder's time) or the patient turned appointment reminders off."""
    plan = upcoming_reminder_planned(appointment=appointment, rules=rules)
    if plan is None:
        return None
    reminder, _ = reminder_plan(**plan)
    return reminder


def reminders_plan_upcoming(*, now: datetime, rules: ReminderSettings) -> int:
    """Plan reminders for appointments whose reminder time is within the next day."""
    horizon = now + timedelta(hours=rules.upcoming_hours_before) + timedelta(days=1)
    appointments = (
        Appointment.objects.filter(status=Appointment.Status.BOOKED, starts_at__gt=now, starts_at__lte=horizon)
        .filter(patient__appointment_reminders=True)
        .exclude(reminders__kind=Kind.UPCOMING_APPOINTMENT, reminders__appointment_starts_at=models.F("starts_at"))
        .select_related("patient")
    )
    planned = 0
    for appointment in appointments:
        if reminder_plan_upcoming(appointment=appointment, rules=rules):
            planned += 1
    return planned


def reminders_plan_due(*, now: datetime | None = None) -> dict[str, int]:
    """Create every reminder row whose time has come or comes soon.  Idempotent: run it as often as you like."""
    now = now or timezone.now()
    rules = ReminderSettings.load()
    return {
        "upcoming": reminders_plan_upcoming(now=now, rules=rules),
        "screening_expiring": reminders_plan_screening_expiry(now=now, rules=rules),
        "nudge": reminders_plan_nudges(now=now, rules=rules),
    }


def _has_open_booking(*, patient: Patient, kinds: list[str], now: datetime) -> bool:
    """A booked session of these kinds still to come, or one that has started but is not yet
    marked attended or missed (the nudge waits for the practitioner's mark)."""
    return patient.appointments.filter(
        status=Appointment.Status.BOOKED, modality__kind__in=kinds, starts_at__gte=now - UNMARKED_GRACE
    ).exists()


def reminders_plan_nudges(*, now: datetime, rules: ReminderSettings) -> int:
    """Nudge patients whose care plan has its next session due and nothing of it booked.

    The due date comes from the plan's cadence, computed from attended sessions only, so a
    no-show leaves the date where it was (a new nudge follows the missed session) and a late
    session moves every later nudge.  One nudge per plan, attended count, due date and no-shows.
    """
    today = timezone.localdate(now)
    planned = 0
    plans = CarePlan.objects.filter(patient__rebooking_nudges=True, patient__user__is_active=True)
    for plan in plans.due_between(today - timedelta(days=NUDGE_LOOKBACK_DAYS), today, today=today):
        cadence = plan.cadence(today)
        if cadence.next_booked_at is not None or cadence.phase is None:
            continue
        if _has_open_booking(patient=plan.patient, kinds=[plan.template.family], now=now):
            continue
        # A session missed since the last attended one leaves the due date where it was but
        # deserves a fresh nudge: count the no-shows into the key.
        missed = plan.family_appointments().filter(status=Appointment.Status.NO_SHOW)
        if cadence.last_attended_on is not None:
            missed = missed.filter(
                starts_at__gte=datetime.combine(cadence.last_attended_on, time.min, tzinfo=_clinic_zone())
            )
        due_at = _due_outside_quiet_hours(due_at=max(_local_notice_time(cadence.next_due_on), now), rules=rules)
        _, created = reminder_plan(
            key=f"nudge:{plan.pk}:{cadence.sessions_attended}:{cadence.next_due_on.isoformat()}:m{missed.count()}",
            kind=Kind.REBOOKING_NUDGE,
            patient=plan.patient,
            due_at=due_at,
            about=plan,
            context={
                "modality_id": cadence.phase.modality_id,
                "modality_kinds": [plan.template.family],
                "plan_name": plan.template.name,
                "phase_label": cadence.phase.label,
                "due_on": cadence.next_due_on.isoformat(),
            },
        )
        planned += created
    return planned


def _local_notice_time(day: date) -> datetime:
    return datetime.combine(day, NOTICE_TIME, tzinfo=_clinic_zone())


def reminders_plan_screening_expiry(*, now: datetime, rules: ReminderSettings) -> int:
    """Tell patients ``screening_expiry_days_before`` days ahead that their screening runs out."""
    today = timezone.localdate(now)
    planned = 0
    for expiring in screenings_expiring(start=today, end=today + timedelta(days=rules.screening_expiry_days_before)):
        notice_on = expiring.expires_on - timedelta(days=rules.screening_expiry_days_before)
        due_at = _due_outside_quiet_hours(due_at=max(_local_notice_time(notice_on), now), rules=rules)
        _, created = reminder_plan(
            key=f"screening_expiring:{expiring.submission.pk}",
            kind=Kind.SCREENING_EXPIRING,
            patient=expiring.patient,
            due_at=due_at,
            about=expiring.submission,
            context={"expires_on": expiring.expires_on.isoformat()},
        )
        planned += created
    return planned


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


# --- Sending --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Delivery:
    outcome: str  # "sent", "skipped", "cancelled", "deferred", "failed"
    detail: str = ""


def _absolute(path: str) -> str:
    return f"{settings.SITE_URL}{path}"


def _first_url(candidates: list[tuple[str, dict]]) -> str:
    """The first URL name that exists; other engineers' pages may still be on their way."""
    for name, kwargs in candidates:
        try:
            return _absolute(reverse(name, kwargs=kwargs or None))
        except NoReverseMatch:
            continue
    return _absolute("/")


def nudge_opt_out_token(*, patient: Patient) -> str:
    return signing.dumps({"patient": patient.pk}, salt=NUDGE_OPT_OUT_SALT)


def nudge_opt_out_url(*, patient: Patient) -> str:
    return _absolute(reverse("bookings:nudge_opt_out", kwargs={"token": nudge_opt_out_token(patient=patient)}))


def manage_booking_url(*, appointment: Appointment) -> str:
    return _first_url(
        [
            ("bookings:appointment_detail", {"pk": appointment.pk}),
            ("bookings:appointment_list", {}),
            ("bookings:my_appointments", {}),
            ("home", {}),
        ]
    )


def book_modality_url(*, modality: Modality | None) -> str:
    candidates: list[tuple[str, dict]] = []
    if modality is not None:
        candidates += [("bookings:book_times", {"slug": modality.slug})]
    candidates += [("bookings:book", {}), ("home", {})]
    return _first_url(candidates)


def _message_context(reminder: Reminder) -> dict:
    appointment = reminder.appointment
    context: dict = {
        "reminder": reminder,
        "patient": reminder.patient,
        "clinic_name": settings.CLINIC_NAME,
        "clinic_phone": settings.CLINIC_PHONE,
        "site_url": settings.SITE_URL,
        "time_zone": settings.TIME_ZONE,
        **reminder.context,
    }
    if appointment is not None:
        context |= {
            "appointment": appointment,
            "modality": appointment.modality,
            "starts_at_local": timezone.localtime(appointment.starts_at),
            "ends_at_local": timezone.localtime(appointment.ends_at),
            "manage_url": manage_booking_url(appointment=appointment),
        }
    if reminder.kind == Kind.REBOOKING_NUDGE:
        modality = Modality.objects.filter(pk=reminder.context.get("modality_id")).first()
        context |= {
            "modality": modality,
            "book_url": book_modality_url(modality=modality),
            "opt_out_url": nudge_opt_out_url(patient=reminder.patient),
        }
        if reminder.context.get("due_on"):
            context["due_on"] = date.fromisoformat(reminder.context["due_on"])
    if reminder.kind == Kind.SCREENING_EXPIRING:
        context["expires_on"] = date.fromisoformat(reminder.context["expires_on"])
        context["screening_url"] = _first_url([("screening:questionnaire", {}), ("screening:mine", {}), ("home", {})])
    return context


def reminder_message(*, reminder: Reminder, connection=None) -> EmailMultiAlternatives:
    """The email for a reminder, rendered from templates/bookings/email/<kind>.{txt,html}."""
    context = _message_context(reminder)
    template = f"bookings/email/{reminder.kind}"
    subject = " ".join(render_to_string(f"{template}_subject.txt", context).split())
    message = EmailMultiAlternatives(
        subject=subject,
        body=render_to_string(f"{template}.txt", context),
        to=[reminder.patient.user.email],
        connection=connection,
        headers={"X-Clinic-Reminder": reminder.key},
    )
    message.attach_alternative(render_to_string(f"{template}.html", context), "text/html")
    if reminder.kind in ICS_KINDS and reminder.appointment is not None:
        message.attach("appointment.ics", appointment_ics(appointment=reminder.appointment), "text/calendar")
    if reminder.kind == Kind.REBOOKING_NUDGE:
        message.extra_headers |= {
            "List-Unsubscribe": f"<{context['opt_out_url']}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        }
    return message


def _still_wanted(reminder: Reminder, now: datetime) -> str:
    """Why a pending reminder must not go out any more ("" when it should)."""
    patient = reminder.patient
    if not patient.user.is_active:
        return "The patient's account is inactive."
    if reminder.kind == Kind.UPCOMING_APPOINTMENT:
        appointment = reminder.appointment
        if not patient.appointment_reminders:
            return "The patient turned appointment reminders off."
        if appointment is None or appointment.status != Appointment.Status.BOOKED:
            return "The appointment is no longer booked."
        if appointment.starts_at != reminder.appointment_starts_at:
            return "The appointment was moved; a reminder for the new time is planned."
        if appointment.starts_at <= now:
            return "The appointment has already started."
    if reminder.kind == Kind.SCREENING_EXPIRING:
        current = screening_current_submission(patient=patient)
        if current is None or current.pk != reminder.about_id:
            return "The patient has filled in a new screening."
    if reminder.kind == Kind.REBOOKING_NUDGE:
        if not patient.rebooking_nudges:
            return "The patient opted out of rebooking nudges."
        if reminder.about_id and not getattr(reminder.about, "is_active", True):
            return "The care plan has ended."
        kinds = reminder.context.get("modality_kinds") or []
        if kinds and _has_open_booking(patient=patient, kinds=kinds, now=now):
            return "The patient has booked their next session."
    return ""


def _is_permanent(error: Exception) -> bool:
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return True
    return isinstance(error, smtplib.SMTPResponseException) and 500 <= error.smtp_code < 600


def _is_transient(error: Exception) -> bool:
    return isinstance(error, smtplib.SMTPException | OSError) and not _is_permanent(error)


def reminder_deliver(*, reminder_id: int) -> Delivery:
    """Send one reminder if it is pending and due; mark it sent in the same transaction.

    Idempotent: a sent, failed, cancelled, not-yet-due or locked row is left as it is.
    Raises ``ReminderRetryLater`` after recording a transient failure, so the task can retry.
    """
    retry: ReminderRetryLater | None = None
    with transaction.atomic():
        now = timezone.now()
        reminder = (
            Reminder.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("patient__user", "appointment__modality", "appointment__practitioner__user")
            .filter(pk=reminder_id, state=State.PENDING)
            .first()
        )
        if reminder is None:
            return Delivery("skipped", "not pending, or being sent by another worker")
        if reminder.next_attempt_at > now:
            return Delivery("skipped", "not due yet")
        reason = _still_wanted(reminder, now)
        if reason:
            reminder.state = State.CANCELLED
            reminder.last_error = reason
            reminder.save(update_fields=["state", "last_error", "updated_at"])
            return Delivery("cancelled", reason)
        rules = ReminderSettings.load()
        if reminder.kind not in TRANSACTIONAL_KINDS and rules.is_quiet(now):
            reminder.next_attempt_at = rules.after_quiet_hours(now)
            reminder.enqueued_at = None
            reminder.save(update_fields=["next_attempt_at", "enqueued_at", "updated_at"])
            return Delivery("deferred", "quiet hours")
        reminder.attempts += 1
        try:
            with get_connection(timeout=SMTP_TIMEOUT_SECONDS) as connection:
                reminder_message(reminder=reminder, connection=connection).send()
        except Exception as error:
            reminder.last_error = f"{type(error).__name__}: {error}"[:2000]
            if _is_transient(error) and reminder.attempts < rules.max_attempts:
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
            reminder.save(update_fields=["attempts", "state", "sent_at", "last_error", "updated_at"])
            return Delivery("sent")
    if retry is not None:
        raise retry
    return Delivery("failed", reminder.last_error)


@transaction.atomic
def reminder_send_again(*, reminder: Reminder) -> Reminder:
    """Admin: put a sent, failed or cancelled reminder back in the queue (same row, same key)."""
    reminder = Reminder.objects.select_for_update().get(pk=reminder.pk)
    if reminder.state == State.PENDING:
        return reminder
    now = timezone.now()
    reminder.state = State.PENDING
    reminder.next_attempt_at = now
    reminder.enqueued_at = None
    reminder.sent_at = None
    reminder.save(update_fields=["state", "next_attempt_at", "enqueued_at", "sent_at", "updated_at"])
    return reminder


@transaction.atomic
def patient_nudges_opt_out(*, token: str, max_age: timedelta | None = None) -> Patient:
    """Turn rebooking nudges off for the patient the signed token names (raises BadSignature)."""
    data = signing.loads(token, salt=NUDGE_OPT_OUT_SALT, max_age=max_age)
    patient = Patient.objects.select_for_update().get(pk=data["patient"])
    if patient.rebooking_nudges:
        patient.rebooking_nudges = False
        patient.save(update_fields=["rebooking_nudges"])
    Reminder.objects.pending().filter(patient=patient, kind=Kind.REBOOKING_NUDGE).update(
        state=State.CANCELLED, last_error="The patient opted out of rebooking nudges.", updated_at=timezone.now()
    )
    return patient
