"""The messages screening sends: the review outcome and the notice that a screening is about to expire.

Both are outbox rows written through ``notifications.services.reminder_plan``; the outbox
sends them once (see its module docstring).  The kinds are registered with the outbox in
``ScreeningConfig.ready()`` and rendered when sent (why: see ``notifications.kinds``).
The expiry planner lives here, with the screenings it reads; bookings' clinic-wide
"plan due reminders" calls it.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from enum import StrEnum

from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy

from notifications.kinds import MessageContent, MessageKind, message_kind_register
from notifications.models import Reminder, ReminderSettings
from notifications.services import (
    due_outside_quiet_hours,
    message_base_context,
    message_content_render,
    reminder_plan,
    reminders_plan_many,
)
from screening.models import Review, TreatmentHold
from screening.selectors import screening_current_submission, screenings_expiring

# Expiry notices go out at this clinic time on the day they fall due.
NOTICE_TIME = time(9, 0)


class ScreeningMessage(StrEnum):
    """The kinds of message screening sends (stored in ``Reminder.kind``)."""

    SCREENING_EXPIRING = "screening_expiring"
    REVIEW_OUTCOME = "review_outcome"
    TREATMENT_HOLD = "treatment_hold"


def _screening_url() -> str:
    return settings.SITE_URL + reverse("screening:mine")


# --- The review outcome ---------------------------------------------------------------------


def review_outcome_notify(*, review: Review) -> Reminder:
    """Write the outcome email of a review to the outbox, sent once after the caller's transaction commits."""
    reminder, _ = reminder_plan(
        key=f"review_outcome:{review.pk}",
        kind=ScreeningMessage.REVIEW_OUTCOME,
        patient=review.submission.patient,
        due_at=timezone.now(),
        about=review,
        send_now=True,
    )
    return reminder


def _review_outcome_message(reminder: Reminder) -> MessageContent:
    review: Review = reminder.about
    context = message_base_context(reminder) | {
        "review": review,
        "modality": review.modality,
        "cleared": review.decision == Review.Decision.CLEAR,
        "screening_url": _screening_url(),
    }
    return message_content_render(template="screening/email/review_outcome", context=context)


def _review_outcome_still_wanted(reminder: Reminder, now: datetime) -> str:
    return "" if reminder.about is not None else "The review no longer exists."


# --- The hold after a severe adverse event --------------------------------------------------


def treatment_hold_notify(*, hold: TreatmentHold) -> Reminder:
    """Tell the patient at once (after the caller commits) to stop, seek care, and that the treatment is held."""
    reminder, _ = reminder_plan(
        key=f"treatment_hold:{hold.pk}",
        kind=ScreeningMessage.TREATMENT_HOLD,
        patient=hold.patient,
        due_at=timezone.now(),
        about=hold,
        send_now=True,
    )
    return reminder


def _treatment_hold_message(reminder: Reminder) -> MessageContent:
    hold: TreatmentHold = reminder.about
    context = message_base_context(reminder) | {"hold": hold, "screening_url": _screening_url()}
    return message_content_render(template="screening/email/treatment_hold", context=context)


def _treatment_hold_still_wanted(reminder: Reminder, now: datetime) -> str:
    # The advice to seek care stays true even if a clinician lifts the hold before it leaves.
    return "" if reminder.about is not None else "The hold no longer exists."


# --- The expiry notice ----------------------------------------------------------------------


def screening_expiry_reminders_plan(*, now: datetime, rules: ReminderSettings) -> int:
    """Tell patients ``screening_expiry_days_before`` days ahead that their screening runs out.

    In sets: the expiring screenings (``screenings_expiring``), then one lookup and one INSERT for
    the notices; a constant number of queries whatever the number of patients.  Returns how many
    outbox rows are new.
    """
    today = timezone.localdate(now)
    notices = []
    for expiring in screenings_expiring(start=today, end=today + timedelta(days=rules.screening_expiry_days_before)):
        notice_on = expiring.expires_on - timedelta(days=rules.screening_expiry_days_before)
        notice_at = datetime.combine(notice_on, NOTICE_TIME, tzinfo=timezone.get_current_timezone())
        notices.append(
            {
                "key": f"screening_expiring:{expiring.submission.pk}",
                "kind": ScreeningMessage.SCREENING_EXPIRING,
                "patient": expiring.patient,
                "due_at": due_outside_quiet_hours(due_at=max(notice_at, now), rules=rules),
                "about": expiring.submission,
                "context": {"expires_on": expiring.expires_on.isoformat()},
            }
        )
    return reminders_plan_many(plans=notices)


def _expiry_message(reminder: Reminder) -> MessageContent:
    context = message_base_context(reminder) | {
        "expires_on": date.fromisoformat(reminder.context["expires_on"]),
        "screening_url": settings.SITE_URL + reverse("screening:questionnaire"),
    }
    return message_content_render(template="screening/email/screening_expiring", context=context)


def _expiry_still_wanted(reminder: Reminder, now: datetime) -> str:
    current = screening_current_submission(patient=reminder.patient)
    if current is None or current.pk != reminder.about_id:
        return "The patient has filled in a new screening."
    return ""


def screening_message_kinds_register() -> None:
    """Tell the outbox how to write screening's messages (called from ``ScreeningConfig.ready()``)."""
    message_kind_register(
        MessageKind(
            name=ScreeningMessage.REVIEW_OUTCOME,
            label=gettext_lazy("Screening review outcome"),
            render=_review_outcome_message,
            still_wanted=_review_outcome_still_wanted,
            # The answer to the patient's screening: sent at once, as before the outbox carried it.
            transactional=True,
            about_select_related=("submission__patient__user", "modality", "decided_by"),
        )
    )
    message_kind_register(
        MessageKind(
            name=ScreeningMessage.TREATMENT_HOLD,
            label=gettext_lazy("Treatment held after a severe reaction"),
            render=_treatment_hold_message,
            still_wanted=_treatment_hold_still_wanted,
            # Safety advice after a severe reaction: at once, in the quiet hours too.
            transactional=True,
            about_select_related=("patient__user",),
        )
    )
    message_kind_register(
        MessageKind(
            name=ScreeningMessage.SCREENING_EXPIRING,
            label=gettext_lazy("Screening about to expire"),
            render=_expiry_message,
            still_wanted=_expiry_still_wanted,
        )
    )


__all__ = ["ScreeningMessage", "review_outcome_notify", "screening_expiry_reminders_plan", "treatment_hold_notify"]
