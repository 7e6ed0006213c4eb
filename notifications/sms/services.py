"""What the SMS provider tells the clinic: delivery reports, and the patient's STOP and START replies.

The views (``notifications.views``) check the provider's signature and call these; nothing else
writes ``provider_status`` or ``Patient.sms_stopped_at``.
"""

from __future__ import annotations

import logging

from django.db import transaction
from django.utils import timezone

from clinic.audit import audit_record
from clinic.models import AuditEvent, Patient
from notifications.models import Channel, Reminder

logger = logging.getLogger(__name__)

# Carrier-standard opt-out and opt-in keywords (Twilio's defaults; the provider itself also
# blocks texts to a number that sent STOP, so the clinic must stop planning them too).
STOP_WORDS = frozenset({"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT"})
START_WORDS = frozenset({"START", "UNSTOP", "YES", "OPTIN"})
FAILED_STATUSES = frozenset({"failed", "undelivered"})
FINAL_STATUSES = FAILED_STATUSES | {"delivered", "read", "canceled"}


@transaction.atomic
def sms_delivery_status_record(
    *, reminder_id: int, provider_message_id: str, status: str, error_code: str = ""
) -> bool:
    """Record the provider's delivery report on the row; a failed delivery marks a sent row failed, with
    the provider's error, so it shows in the admin's message log.  Returns False when the report is not
    about this row's text (unknown row, another channel, another provider id)."""
    reminder = Reminder.objects.select_for_update().filter(pk=reminder_id, channel=Channel.SMS).first()
    if reminder is None:
        return False
    if reminder.provider_message_id and provider_message_id and reminder.provider_message_id != provider_message_id:
        return False
    status = status.strip().lower()[:24]
    if reminder.provider_status in FINAL_STATUSES and status not in FINAL_STATUSES:
        return True  # a late "sent" after "delivered": reports may arrive out of order
    reminder.provider_status = status
    if not reminder.provider_message_id:
        reminder.provider_message_id = provider_message_id[:64]
    fields = ["provider_status", "provider_message_id", "updated_at"]
    if status in FAILED_STATUSES:
        reminder.last_error = (
            f"The SMS provider reported the text {status}" + (f" (error {error_code})" if error_code else "") + "."
        )
        fields.append("last_error")
        if reminder.state == Reminder.State.SENT:
            reminder.state = Reminder.State.FAILED
            fields.append("state")
        logger.warning("Text of reminder %s %s (provider error %s)", reminder.pk, status, error_code or "none")
    reminder.save(update_fields=fields)
    return True


def _patients_with_number(number: str) -> list[Patient]:
    return list(Patient.objects.select_for_update().filter(phone=number))


@transaction.atomic
def sms_reply_record(*, from_number: str, body: str) -> str:
    """A text the patient sent us: STOP ends texts to that number (pending ones are cancelled; email
    is untouched), START restarts them; both are audited.  Returns "stop", "start" or "" (other text)."""
    word = body.strip().upper().rstrip(".!")
    if word in STOP_WORDS:
        now = timezone.now()
        for patient in _patients_with_number(from_number):
            if patient.sms_stopped_at is None:
                patient.sms_stopped_at = now
                patient.save(update_fields=["sms_stopped_at"])
            cancelled = (
                Reminder.objects.filter(patient=patient, channel=Channel.SMS, state=Reminder.State.PENDING)
                .update(state=Reminder.State.CANCELLED, last_error="The patient replied STOP.", updated_at=now)
            )  # fmt: skip
            audit_record(
                request=None,
                patient=patient,
                action=AuditEvent.Action.CHANGE,
                target=patient,
                description=f"Texts stopped: the patient's number replied STOP ({cancelled} pending text(s) cancelled)",
            )
        return "stop"
    if word in START_WORDS:
        for patient in _patients_with_number(from_number):
            if patient.sms_stopped_at is not None:
                patient.sms_stopped_at = None
                patient.save(update_fields=["sms_stopped_at"])
                audit_record(
                    request=None,
                    patient=patient,
                    action=AuditEvent.Action.CHANGE,
                    target=patient,
                    description="Texts restarted: the patient's number replied START",
                )
        return "start"
    return ""
