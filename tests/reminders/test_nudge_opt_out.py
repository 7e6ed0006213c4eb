"""The one-click opt-out from rebooking nudges (a bookings page, signed token)."""

from __future__ import annotations

import pytest
import time_machine
from django.core import mail
from django.urls import reverse

from bookings.services.reminders import BookingMessage, nudge_opt_out_token
from notifications.models import Reminder
from notifications.services import reminder_plan
from notifications.tasks import reminders_send_due
from tests.reminders.factories import local

pytestmark = pytest.mark.django_db

NOON = local(2026, 5, 4, 12)


def _nudge(patient, key: str = "nudge:test:1", due_at=NOON) -> Reminder:
    reminder, _ = reminder_plan(key=key, kind=BookingMessage.REBOOKING_NUDGE, patient=patient, due_at=due_at)
    return reminder


def test_nudge_email_carries_a_one_click_opt_out_that_turns_nudges_off(client, patient):
    _nudge(patient)
    with time_machine.travel(NOON, tick=False):
        reminders_send_due()
    message = mail.outbox[0]
    opt_out = message.extra_headers["List-Unsubscribe"].strip("<>")
    assert opt_out in message.body
    path = opt_out.removeprefix("http://127.0.0.1:8000").removeprefix("http://testserver")

    page = client.get(path)
    assert page.status_code == 200
    patient.refresh_from_db()
    assert patient.rebooking_nudges is True  # a mail scanner following the link changes nothing
    response = client.post(path)
    assert response.status_code == 200
    assert b"no longer email you" in response.content
    patient.refresh_from_db()
    assert patient.rebooking_nudges is False


def test_opt_out_link_with_a_forged_token_is_refused(client, patient, other_patient):
    token = nudge_opt_out_token(patient=patient)
    forged = token.replace(str(patient.pk), str(other_patient.pk), 1) + "x"
    response = client.post(reverse("bookings:nudge_opt_out", kwargs={"token": forged}))
    assert response.status_code == 400
    other_patient.refresh_from_db()
    assert other_patient.rebooking_nudges is True


def test_opted_out_patient_gets_no_pending_nudge(patient):
    _nudge(patient)
    patient.rebooking_nudges = False
    patient.save()
    with time_machine.travel(NOON, tick=False):
        reminders_send_due()
    assert mail.outbox == []
    assert Reminder.objects.get().state == Reminder.State.CANCELLED
