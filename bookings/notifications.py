"""The messages bookings sends: what each says, when a planned one is no longer wanted, and the
booking events (booked, cancelled, moved) that write them.

The kinds are registered with the outbox in ``BookingsConfig.ready()``; the outbox renders a
message when it sends it (why: see ``notifications.kinds``).  The booking services call
``appointment_notify`` inside their transaction, after saving the appointment.  It writes the
outbox row (unique key per appointment, event and version) and asks a worker to send it once
the transaction commits; if the booking rolls back, so does the row, and nothing is sent.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from bookings.ics import appointment_ics
from bookings.models import Appointment, CarePlan, WaitlistOffer
from bookings.services.reminders import (
    BookingMessage,
    book_modality_url,
    has_open_booking,
    manage_booking_url,
    my_bookings_url,
    nudge_opt_out_url,
    reminders_cancel_for_appointment,
    upcoming_reminders_planned,
)
from clinic.models import Modality
from notifications.kinds import MessageContent, MessageKind, message_kind_register
from notifications.models import Channel, Reminder
from notifications.services import message_base_context, message_content_render, reminders_plan_together

EVENT_KINDS = {
    "booked": BookingMessage.BOOKING_CONFIRMED,
    "cancelled": BookingMessage.BOOKING_CANCELLED,
    "changed": BookingMessage.BOOKING_CHANGED,
}
APPOINTMENT_SELECT_RELATED = ("modality", "practitioner__user")


# --- Booking events -------------------------------------------------------------------------


def _version(appointment: Appointment) -> str:
    """Changes with every save of the appointment, so each change gets its own message."""
    stamp = appointment.updated_at or timezone.now()
    return stamp.astimezone(UTC).strftime("%Y%m%dT%H%M%S%f")


@transaction.atomic
def appointment_notify(*, appointment: Appointment, event: str) -> None:
    """Tell the patient their appointment was booked, cancelled or changed (moved).

    ``event`` is "booked", "cancelled" or "changed".  Call it after saving the appointment,
    inside the booking transaction.  "booked" and "changed" attach the appointment's .ics.
    Cancelling or moving also cancels the pending reminder for the old time; a moved
    appointment gets a reminder planned for its new time.
    """
    if event not in EVENT_KINDS:
        raise ValueError(f"Unknown appointment event {event!r}; expected one of {sorted(EVENT_KINDS)}.")
    key = f"{event}:{appointment.pk}"
    if event == "changed":
        key = f"{key}:{_version(appointment)}"
    if event != "booked":
        reason = "The appointment was cancelled." if event == "cancelled" else "The appointment was moved."
        reminders_cancel_for_appointment(appointment=appointment, reason=reason)
    plans: list[dict[str, Any]] = [
        {
            "key": key,
            "kind": EVENT_KINDS[event],
            "patient": appointment.patient,
            "about": appointment,
            "about_at": appointment.starts_at,
            "due_at": timezone.now(),
            "send_now": True,
        }
    ]
    plans += upcoming_reminders_planned(appointment=appointment)
    # The confirmation and the reminders before the appointment: one INSERT for a new booking.
    reminders_plan_together(plans=plans)


# --- Writing the messages -------------------------------------------------------------------


def _appointment_message(reminder: Reminder) -> MessageContent:
    appointment: Appointment = reminder.about
    context = message_base_context(reminder) | {
        "appointment": appointment,
        "modality": appointment.modality,
        "starts_at_local": timezone.localtime(appointment.starts_at),
        "ends_at_local": timezone.localtime(appointment.ends_at),
        "manage_url": manage_booking_url(appointment=appointment),
        # Texts link the patient's list of bookings: short, and the same length for every booking.
        "bookings_url": my_bookings_url(),
    }
    content = message_content_render(template=f"bookings/email/{reminder.kind}", context=context)
    if reminder.channel == Channel.EMAIL:  # a text message carries no attachment
        content.attachments.append(("appointment.ics", appointment_ics(appointment=appointment), "text/calendar"))
    return content


def _nudge_message(reminder: Reminder) -> MessageContent:
    modality = Modality.objects.filter(pk=reminder.context.get("modality_id")).first()
    opt_out_url = nudge_opt_out_url(patient=reminder.patient)
    context = message_base_context(reminder) | {
        "modality": modality,
        "book_url": book_modality_url(modality=modality),
        "book_any_url": book_modality_url(modality=None),
        "opt_out_url": opt_out_url,
    }
    if reminder.context.get("due_on"):
        context["due_on"] = date.fromisoformat(reminder.context["due_on"])
    content = message_content_render(template="bookings/email/nudge", context=context)
    content.headers |= {"List-Unsubscribe": f"<{opt_out_url}>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}
    return content


def _waitlist_offer_message(reminder: Reminder) -> MessageContent:
    offer: WaitlistOffer = reminder.about
    context = message_base_context(reminder) | {
        "offer": offer,
        "modality": offer.modality,
        "practitioner": offer.practitioner,
        "starts_at_local": timezone.localtime(offer.starts_at),
        "ends_at_local": timezone.localtime(offer.ends_at),
        "expires_at_local": timezone.localtime(offer.expires_at),
        "offer_url": settings.SITE_URL + reverse("bookings:waitlist_offer", args=[offer.pk]),
    }
    return message_content_render(template="bookings/email/waitlist_offer", context=context)


# --- When a planned message is no longer wanted ---------------------------------------------


def _appointment_event_still_wanted(reminder: Reminder, now: datetime) -> str:
    if reminder.about is None:
        return "The appointment no longer exists."
    return ""


def _upcoming_still_wanted(reminder: Reminder, now: datetime) -> str:
    appointment: Appointment | None = reminder.about
    if not reminder.patient.appointment_reminders:
        return "The patient turned appointment reminders off."
    if appointment is None or appointment.status != Appointment.Status.BOOKED:
        return "The appointment is no longer booked."
    if appointment.starts_at != reminder.about_at:
        return "The appointment was moved; a reminder for the new time is planned."
    if appointment.starts_at <= now:
        return "The appointment has already started."
    return ""


def _nudge_still_wanted(reminder: Reminder, now: datetime) -> str:
    plan: CarePlan | None = reminder.about
    if not reminder.patient.rebooking_nudges:
        return "The patient opted out of rebooking nudges."
    if reminder.about_id and (plan is None or not plan.is_active):
        return "The care plan has ended."
    kinds = reminder.context.get("modality_kinds") or []
    if kinds and has_open_booking(patient=reminder.patient, kinds=kinds, now=now):
        return "The patient has booked their next session."
    return ""


def _waitlist_offer_still_wanted(reminder: Reminder, now: datetime) -> str:
    offer: WaitlistOffer | None = reminder.about
    if offer is None or offer.status != WaitlistOffer.Status.OPEN:
        return "The offer is no longer open."
    if offer.expires_at <= now:
        return "The offer's hold ran out before it could be sent."
    return ""


def booking_message_kinds_register() -> None:
    """Tell the outbox how to write bookings' messages (called from ``BookingsConfig.ready()``)."""
    for name, label in [
        (BookingMessage.BOOKING_CONFIRMED, _("Booking confirmed")),
        (BookingMessage.BOOKING_CANCELLED, _("Booking cancelled")),
        (BookingMessage.BOOKING_CHANGED, _("Booking changed")),
    ]:
        message_kind_register(
            MessageKind(
                name=name,
                label=label,
                render=_appointment_message,
                still_wanted=_appointment_event_still_wanted,
                transactional=True,  # right after the patient's (or staff's) action: at once, night or day
                about_select_related=APPOINTMENT_SELECT_RELATED,
            )
        )
    message_kind_register(
        MessageKind(
            name=BookingMessage.UPCOMING_APPOINTMENT,
            label=_("Upcoming appointment"),
            render=_appointment_message,
            still_wanted=_upcoming_still_wanted,
            about_select_related=APPOINTMENT_SELECT_RELATED,
        )
    )
    message_kind_register(
        MessageKind(
            name=BookingMessage.REBOOKING_NUDGE,
            label=_("Rebooking nudge"),
            render=_nudge_message,
            still_wanted=_nudge_still_wanted,
        )
    )
    message_kind_register(
        MessageKind(
            name=BookingMessage.WAITLIST_OFFER,
            label=_("Waitlist offer"),
            render=_waitlist_offer_message,
            still_wanted=_waitlist_offer_still_wanted,
            transactional=True,  # it holds for minutes: waiting for the morning would waste it
            about_select_related=("modality", "practitioner__user"),
        )
    )
