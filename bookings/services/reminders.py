"""The reminder planners of bookings: which reminders about appointments and care plans are due, and when.

They write outbox rows through ``notifications.services.reminder_plan``; the outbox sends
them (see its module docstring for the guarantee).  What the messages say, and when a
planned one is no longer wanted, is in ``bookings.notifications``.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from enum import StrEnum
from typing import Any

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core import signing
from django.db import transaction
from django.db.models import Exists, Max, OuterRef
from django.urls import reverse
from django.utils import timezone

from bookings.models import Appointment, AppointmentReminderOffset, CarePlan
from clinic.clinic_time import clinic_zone, local_midnight
from clinic.models import Modality, Patient
from notifications.models import Reminder, ReminderSettings
from notifications.services import (
    due_outside_quiet_hours,
    reminders_cancel,
    reminders_plan_many,
    reminders_plan_together,
)
from screening.notifications import screening_expiry_reminders_plan


class BookingMessage(StrEnum):
    """The kinds of message bookings sends (stored in ``Reminder.kind``; written in ``bookings.notifications``)."""

    UPCOMING_APPOINTMENT = "upcoming"
    REBOOKING_NUDGE = "nudge"
    BOOKING_CONFIRMED = "booked"
    BOOKING_CANCELLED = "cancelled"
    BOOKING_CHANGED = "changed"
    WAITLIST_OFFER = "waitlist_offer"


NUDGE_OPT_OUT_SALT = "bookings.reminders.nudge-opt-out"
# Nudges go out at this clinic time on the day they fall due.
NOTICE_TIME = time(9, 0)
# A plan that fell due longer ago than this (e.g. while nudges were off) is not nudged any more;
# long enough that a no-show weeks after the due date still gets its fresh nudge.
NUDGE_LOOKBACK_DAYS = 90
# How long an appointment that has started may stay unmarked before it no longer holds back a nudge.
UNMARKED_GRACE = timedelta(days=2)


@transaction.atomic
def reminders_cancel_for_appointment(*, appointment: Appointment, reason: str) -> int:
    """Cancel the pending upcoming-appointment reminders that no longer match the appointment."""
    stale = Reminder.objects.about(appointment).filter(kind=BookingMessage.UPCOMING_APPOINTMENT)
    if appointment.status == Appointment.Status.BOOKED:
        stale = stale.exclude(about_at=appointment.starts_at)
    return reminders_cancel(reminders=stale, reason=reason)


def upcoming_reminder_due_at(
    *, starts_at: datetime, rules: ReminderSettings, hours_before: int | None = None
) -> datetime:
    """``hours_before`` (default: the clinic-wide ``upcoming_hours_before``) on the clinic's wall clock
    (24 h before 09:00 is 09:00 the day before, also across a daylight-saving change), then moved out of
    the quiet hours, never past the appointment itself."""
    hours = rules.upcoming_hours_before if hours_before is None else hours_before
    local = timezone.localtime(starts_at)
    wall = (local.replace(tzinfo=None) - timedelta(hours=hours)).replace(tzinfo=clinic_zone())
    return due_outside_quiet_hours(due_at=wall, rules=rules, latest=starts_at)


def upcoming_reminder_offsets(*, modality: Modality, rules: ReminderSettings) -> list[tuple[int | None, str]]:
    """The modality's reminder times as (hours before, channel): its admin rows, or the clinic-wide
    default by the patient's channels ("" channel) when it has none.  ``None`` hours marks that default,
    whose key stays the one reminders had before offsets existed."""
    offsets = [(offset.hours_before, offset.channel) for offset in modality.reminder_offsets.all()]
    return offsets or [(None, "")]


def upcoming_reminders_planned(
    *, appointment: Appointment, rules: ReminderSettings | None = None
) -> list[dict[str, Any]]:
    """The ``reminder_plan`` arguments of each reminder before a booked appointment, one per offset of its
    modality (see ``AppointmentReminderOffset``).  None is wanted when the appointment is not booked or is
    over, or the patient turned appointment reminders off; an offset is left out when the confirmation
    already does its job (booked after that reminder's time) or when its fixed channel is not one the
    patient's messages go by."""
    if appointment.status != Appointment.Status.BOOKED or not appointment.patient.appointment_reminders:
        return []
    if appointment.starts_at <= timezone.now():
        return []
    rules = rules or ReminderSettings.load()
    patient = appointment.patient
    base_key = f"upcoming:{appointment.pk}:{appointment.starts_at.astimezone(UTC).isoformat()}"
    plans = []
    for hours_before, channel in upcoming_reminder_offsets(modality=appointment.modality, rules=rules):
        if channel and channel not in patient.message_channel_names():
            continue
        due_at = upcoming_reminder_due_at(starts_at=appointment.starts_at, rules=rules, hours_before=hours_before)
        if appointment.created_at and appointment.created_at >= due_at:
            continue
        plans.append(
            {
                "key": base_key if hours_before is None else f"{base_key}:{hours_before}h",
                "kind": BookingMessage.UPCOMING_APPOINTMENT,
                "patient": patient,
                "about": appointment,
                "about_at": appointment.starts_at,
                "due_at": due_at,
                "channel": channel or None,
            }
        )
    return plans


def reminder_plan_upcoming(*, appointment: Appointment, rules: ReminderSettings | None = None) -> Reminder | None:
    """Plan the reminders before a booked appointment (see ``upcoming_reminders_planned``); returns the
    first row, or None when no reminder is wanted."""
    plans = upcoming_reminders_planned(appointment=appointment, rules=rules)
    if not plans:
        return None
    return next(row for row, _ in reminders_plan_together(plans=plans))


def reminders_plan_upcoming(*, now: datetime, rules: ReminderSettings) -> int:
    """Plan reminders for appointments whose earliest reminder time is within the next day."""
    longest = AppointmentReminderOffset.objects.aggregate(longest=Max("hours_before"))["longest"] or 0
    horizon = now + timedelta(hours=max(longest, rules.upcoming_hours_before)) + timedelta(days=1)
    planned_already = Reminder.objects.filter(
        about_type=ContentType.objects.get_for_model(Appointment),
        about_id=OuterRef("pk"),
        kind=BookingMessage.UPCOMING_APPOINTMENT,
        about_at=OuterRef("starts_at"),
    )
    appointments = (
        Appointment.objects.upcoming(now)
        .filter(starts_at__lte=horizon)
        .filter(patient__appointment_reminders=True)
        .exclude(Exists(planned_already))
        .select_related("patient__user", "modality")
        .prefetch_related("modality__reminder_offsets")
    )
    plans = [
        plan
        for appointment in appointments
        for plan in upcoming_reminders_planned(appointment=appointment, rules=rules)
    ]
    return reminders_plan_many(plans=plans)


def reminders_plan_due(*, now: datetime | None = None) -> dict[str, int]:
    """Create every reminder row whose time has come or comes soon.  Idempotent: run it as often as you like.

    Bookings plans its own reminders and asks screening (below it) to plan the expiry notices,
    so one beat entry plans everything.
    """
    now = now or timezone.now()
    rules = ReminderSettings.load()
    return {
        "upcoming": reminders_plan_upcoming(now=now, rules=rules),
        "screening_expiring": screening_expiry_reminders_plan(now=now, rules=rules),
        "nudge": reminders_plan_nudges(now=now, rules=rules),
    }


def has_open_booking(*, patient: Patient, kinds: list[str], now: datetime) -> bool:
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

    In sets: the due plans with their cadence (``due_between``), the open bookings and the no-shows
    of their patients, then one lookup and one INSERT for the nudges; a constant number of queries
    whatever the number of patients.  Returns how many outbox rows are new.
    """
    today = timezone.localdate(now)
    plans = CarePlan.objects.filter(patient__rebooking_nudges=True, patient__user__is_active=True)
    due = [
        (plan, cadence)
        for plan in plans.due_between(today - timedelta(days=NUDGE_LOOKBACK_DAYS), today, today=today)
        if (cadence := plan.cadence(today)).next_booked_at is None and cadence.phase is not None
    ]
    if not due:
        return 0
    patient_ids = {plan.patient_id for plan, _ in due}
    families = {plan.template.family for plan, _ in due}
    # has_open_booking for every due plan at once: (patient, family) with a session still to come or unmarked.
    open_bookings = set(
        Appointment.objects.filter(
            patient_id__in=patient_ids,
            modality__kind__in=families,
            status=Appointment.Status.BOOKED,
            starts_at__gte=now - UNMARKED_GRACE,
        ).values_list("patient_id", "modality__kind")
    )
    no_shows: dict[tuple[int, str], list[datetime]] = {}
    for patient_id, family, starts_at in Appointment.objects.filter(
        patient_id__in=patient_ids, modality__kind__in=families, status=Appointment.Status.NO_SHOW
    ).values_list("patient_id", "modality__kind", "starts_at"):
        no_shows.setdefault((patient_id, family), []).append(starts_at)

    nudges = []
    for plan, cadence in due:
        family = plan.template.family
        if (plan.patient_id, family) in open_bookings:
            continue
        # A session missed since the last attended one leaves the due date where it was but
        # deserves a fresh nudge: count the no-shows (of the plan's family, from its start) into the key.
        since = local_midnight(plan.start_date)
        if cadence.last_attended_on is not None:
            since = max(since, datetime.combine(cadence.last_attended_on, time.min, tzinfo=clinic_zone()))
        missed = sum(1 for starts_at in no_shows.get((plan.patient_id, family), []) if starts_at >= since)
        notice_at = datetime.combine(cadence.next_due_on, NOTICE_TIME, tzinfo=clinic_zone())
        nudges.append(
            {
                "key": f"nudge:{plan.pk}:{cadence.sessions_attended}:{cadence.next_due_on.isoformat()}:m{missed}",
                "kind": BookingMessage.REBOOKING_NUDGE,
                "patient": plan.patient,
                "due_at": due_outside_quiet_hours(due_at=max(notice_at, now), rules=rules),
                "about": plan,
                "context": {
                    "modality_id": cadence.phase.modality_id,
                    "modality_kinds": [family],
                    "plan_name": plan.template.name,
                    "phase_label": cadence.phase.label,
                    "due_on": cadence.next_due_on.isoformat(),
                },
            }
        )
    return reminders_plan_many(plans=nudges)


# --- Links in the messages and the nudge opt-out ----------------------------------------------


def _absolute(path: str) -> str:
    return f"{settings.SITE_URL}{path}"


def nudge_opt_out_token(*, patient: Patient) -> str:
    return signing.dumps({"patient": patient.pk}, salt=NUDGE_OPT_OUT_SALT)


def nudge_opt_out_url(*, patient: Patient) -> str:
    return _absolute(reverse("bookings:nudge_opt_out", kwargs={"token": nudge_opt_out_token(patient=patient)}))


def manage_booking_url(*, appointment: Appointment) -> str:
    return _absolute(reverse("bookings:appointment_detail", kwargs={"pk": appointment.pk}))


def my_bookings_url() -> str:
    return _absolute(reverse("bookings:appointment_list"))


def book_modality_url(*, modality: Modality | None) -> str:
    if modality is None:
        return _absolute(reverse("bookings:book"))
    return _absolute(reverse("bookings:book_times", kwargs={"slug": modality.slug}))


@transaction.atomic
def patient_nudges_opt_out(*, token: str, max_age: timedelta | None = None) -> Patient:
    """Turn rebooking nudges off for the patient the signed token names (raises BadSignature)."""
    data = signing.loads(token, salt=NUDGE_OPT_OUT_SALT, max_age=max_age)
    patient = Patient.objects.select_for_update().get(pk=data["patient"])
    if patient.rebooking_nudges:
        patient.rebooking_nudges = False
        patient.save(update_fields=["rebooking_nudges"])
    reminders_cancel(
        reminders=Reminder.objects.filter(patient=patient, kind=BookingMessage.REBOOKING_NUDGE),
        reason="The patient opted out of rebooking nudges.",
    )
    return patient
