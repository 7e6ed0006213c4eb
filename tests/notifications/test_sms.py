"""Text messages: the provider gets each text once, reports and STOP replies are signed and honoured,
and each patient's choice of email, SMS or both applies to any kind of message."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.urls import reverse

from clinic.models import AuditEvent, Patient
from notifications import kinds, sms
from notifications.kinds import MessageContent, MessageKind, message_kind_register
from notifications.models import Channel, Reminder
from notifications.services import ReminderRetryLater, reminder_deliver, reminder_plan
from notifications.sms import SmsMessage, get_sms_connection
from notifications.sms.backends.twilio import twilio_signature
from notifications.tasks import reminders_send_due
from tests.factories import AdminFactory, PatientFactory
from tests.notifications.fake_sms_provider import FakeSmsProvider, fake_sms_provider
from tests.reminders.factories import local

pytestmark = pytest.mark.django_db

NOON = local(2026, 5, 4, 12)
NIGHT = local(2026, 5, 4, 23)
AUTH_TOKEN = "test-auth-token"
ACCOUNT_SID = "AC00000000000000000000000000000001"


@pytest.fixture
def note_kind(monkeypatch: pytest.MonkeyPatch) -> MessageKind:
    """A kind as any app registers it; its text message is the short form of the email."""
    monkeypatch.setattr(kinds, "_KINDS", dict(kinds._KINDS))

    def render(reminder: Reminder) -> MessageContent:
        return MessageContent(subject="Your note", text="A long email body.", sms=f"Note: {reminder.context['word']}")

    message_kind_register(MessageKind(name="urgent_note", label="Urgent note", render=render, transactional=True))
    return message_kind_register(MessageKind(name="note", label="Note", render=render))


@pytest.fixture
def provider(settings) -> Iterator[FakeSmsProvider]:
    with fake_sms_provider() as fake:
        settings.SMS_BACKEND = "notifications.sms.backends.twilio.SmsBackend"
        settings.TWILIO_ACCOUNT_SID = ACCOUNT_SID
        settings.TWILIO_AUTH_TOKEN = AUTH_TOKEN
        settings.TWILIO_API_BASE_URL = fake.base_url
        settings.TWILIO_MESSAGING_SERVICE_SID = ""
        settings.SMS_FROM = "+447911000000"
        settings.SITE_URL = "https://clinic.example.org"
        yield fake


@pytest.fixture
def texting_patient(db) -> Patient:
    return PatientFactory(phone="07911 123456", message_channels=Patient.MessageChannels.SMS)


def _note(patient: Patient, *, key: str = "note:1", kind: str = "note", channel: str | None = None) -> Reminder:
    reminder, _ = reminder_plan(
        key=key, kind=kind, patient=patient, due_at=NOON, context={"word": "cold"}, channel=channel
    )
    return reminder


def _signed_post(client, url: str, params: dict[str, str], *, token: str = AUTH_TOKEN):
    signature = twilio_signature(url="https://clinic.example.org" + url, params=params, auth_token=token)
    return client.post(url, params, HTTP_X_TWILIO_SIGNATURE=signature)


# --- The provider receives each text once ----------------------------------------------------


def test_the_provider_receives_each_text_once_even_when_the_row_is_delivered_twice(
    provider, texting_patient, note_kind
):
    reminder = _note(texting_patient)
    assert reminder.channel == Channel.SMS
    with time_machine.travel(NOON, tick=False):
        assert reminder_deliver(reminder_id=reminder.pk).outcome == "sent"
        assert reminder_deliver(reminder_id=reminder.pk).outcome == "skipped"
        reminders_send_due()

    [request] = provider.requests
    assert request.path == f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"
    assert request.basic_auth == (ACCOUNT_SID, AUTH_TOKEN)
    assert request.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert request.form["To"] == "+447911123456", "E.164, whatever the patient typed"
    assert request.form["From"] == "+447911000000"
    assert request.form["Body"] == "Note: cold"
    assert request.form["StatusCallback"] == f"https://clinic.example.org/notifications/sms/status/{reminder.pk}/"
    reminder.refresh_from_db()
    assert reminder.state == Reminder.State.SENT
    assert reminder.provider_message_id.startswith("SM")
    assert reminder.provider_status == "queued"
    assert mail.outbox == [], "SMS only: no email"


def test_a_refused_number_fails_at_once_without_a_retry(provider, texting_patient, note_kind):
    provider.answers = [400]
    reminder = _note(texting_patient)
    with time_machine.travel(NOON, tick=False):
        assert reminder_deliver(reminder_id=reminder.pk).outcome == "failed"
    reminder.refresh_from_db()
    assert reminder.state == Reminder.State.FAILED
    assert "refused" in reminder.last_error
    assert "21211" in reminder.last_error
    assert len(provider.requests) == 1


def test_a_provider_outage_is_retried_later(provider, texting_patient, note_kind):
    provider.answers = [503]
    reminder = _note(texting_patient)
    with time_machine.travel(NOON, tick=False), pytest.raises(ReminderRetryLater):
        reminder_deliver(reminder_id=reminder.pk)
    reminder.refresh_from_db()
    assert (reminder.state, reminder.attempts) == (Reminder.State.PENDING, 1)
    with time_machine.travel(reminder.next_attempt_at, tick=False):
        assert reminder_deliver(reminder_id=reminder.pk).outcome == "sent"
    assert len(provider.requests) == 2


def test_an_unknown_outcome_is_not_sent_again_by_a_provider_without_idempotency_keys(
    provider, texting_patient, note_kind
):
    """The request reached the provider and the answer was lost: a second send could be a second text,
    so the row stops as "unknown" for a person to decide in the admin."""
    provider.answers = ["hang_up"]
    reminder = _note(texting_patient)
    with time_machine.travel(NOON, tick=False):
        assert reminder_deliver(reminder_id=reminder.pk).outcome == "unknown"
        reminders_send_due()
    reminder.refresh_from_db()
    assert reminder.state == Reminder.State.UNKNOWN
    assert "No answer from the SMS provider" in reminder.last_error
    assert len(provider.requests) == 1


def test_the_channels_say_whether_a_copy_sent_again_is_recognisable(settings):
    from notifications.channels import channel_get

    assert channel_get(Channel.EMAIL).resend_is_recognisable is True
    settings.SMS_BACKEND = "notifications.sms.backends.twilio.SmsBackend"
    assert channel_get(Channel.SMS).resend_is_recognisable is False
    settings.SMS_BACKEND = "notifications.sms.backends.locmem.SmsBackend"
    assert channel_get(Channel.SMS).resend_is_recognisable is True


def test_the_same_idempotency_key_is_sent_for_every_copy_and_a_keyed_backend_drops_the_copy(texting_patient):
    first = SmsMessage(to="+447911123456", body="Hello", idempotency_key="reminder-abc")
    copy = SmsMessage(to="+447911123456", body="Hello", idempotency_key="reminder-abc")
    with get_sms_connection() as connection:
        connection.send_messages([first])
        connection.send_messages([copy])
    assert sms.outbox == [first]


# --- Delivery reports -------------------------------------------------------------------------


def test_a_failed_delivery_report_shows_in_the_admin_log(client, provider, texting_patient, note_kind):
    reminder = _note(texting_patient)
    with time_machine.travel(NOON, tick=False):
        reminder_deliver(reminder_id=reminder.pk)
    reminder.refresh_from_db()
    url = reverse("notifications:sms_status", kwargs={"reminder_id": reminder.pk})
    params = {"MessageSid": reminder.provider_message_id, "MessageStatus": "undelivered", "ErrorCode": "30003"}

    assert _signed_post(client, url, params).status_code == 204

    reminder.refresh_from_db()
    assert (reminder.state, reminder.provider_status) == (Reminder.State.FAILED, "undelivered")
    assert "30003" in reminder.last_error
    client.force_login(AdminFactory())
    response = client.get(reverse("admin:notifications_reminder_changelist"), {"state": "failed", "channel": "sms"})
    assert list(response.context["cl"].result_list) == [reminder]
    assert "The SMS provider reported the text undelivered (error 30003)." in response.content.decode()


def test_a_delivered_report_keeps_the_row_sent_and_a_late_queued_report_does_not_undo_it(
    client, provider, texting_patient, note_kind
):
    reminder = _note(texting_patient)
    with time_machine.travel(NOON, tick=False):
        reminder_deliver(reminder_id=reminder.pk)
    reminder.refresh_from_db()
    url = reverse("notifications:sms_status", kwargs={"reminder_id": reminder.pk})
    for status in ("delivered", "sent"):
        _signed_post(client, url, {"MessageSid": reminder.provider_message_id, "MessageStatus": status})
    reminder.refresh_from_db()
    assert (reminder.state, reminder.provider_status) == (Reminder.State.SENT, "delivered")


@pytest.mark.parametrize("signature", ["", "bm90IHRoZSByaWdodCBvbmU=", "wrong-token"])
def test_a_delivery_report_with_a_bad_signature_is_refused_and_changes_nothing(
    client, provider, texting_patient, note_kind, signature
):
    reminder = _note(texting_patient)
    with time_machine.travel(NOON, tick=False):
        reminder_deliver(reminder_id=reminder.pk)
    url = reverse("notifications:sms_status", kwargs={"reminder_id": reminder.pk})
    params = {"MessageSid": "SMx", "MessageStatus": "failed"}
    if signature == "wrong-token":
        response = _signed_post(client, url, params, token="someone-elses-token")
    else:
        response = client.post(url, params, HTTP_X_TWILIO_SIGNATURE=signature)
    assert response.status_code == 403
    reminder.refresh_from_db()
    assert reminder.state == Reminder.State.SENT


def test_a_signed_report_for_another_url_is_refused(client, provider, texting_patient, note_kind):
    """The signature covers the URL: a report signed for one row cannot be replayed against another."""
    first, second = _note(texting_patient, key="note:1"), _note(texting_patient, key="note:2")
    params = {"MessageSid": "SMx", "MessageStatus": "failed"}
    first_url = reverse("notifications:sms_status", kwargs={"reminder_id": first.pk})
    signature = twilio_signature(url="https://clinic.example.org" + first_url, params=params, auth_token=AUTH_TOKEN)
    second_url = reverse("notifications:sms_status", kwargs={"reminder_id": second.pk})
    assert client.post(second_url, params, HTTP_X_TWILIO_SIGNATURE=signature).status_code == 403


def test_webhooks_refuse_everything_when_no_auth_token_is_configured(client, settings, texting_patient):
    settings.TWILIO_AUTH_TOKEN = ""
    params = {"From": "+447911123456", "Body": "STOP"}
    response = _signed_post(client, reverse("notifications:sms_inbound"), params, token="")
    assert response.status_code == 403
    texting_patient.refresh_from_db()
    assert texting_patient.sms_stopped_at is None


def test_webhooks_answer_only_post(client, provider):
    assert client.get(reverse("notifications:sms_inbound")).status_code == 405


# --- STOP and START ---------------------------------------------------------------------------


def test_stop_ends_texts_and_leaves_email_as_it_was(client, provider, note_kind):
    patient = PatientFactory(phone="+447911123456", message_channels=Patient.MessageChannels.BOTH)
    email_row, _ = reminder_plan(key="note:1", kind="note", patient=patient, due_at=NOON, context={"word": "cold"})
    sms_row = Reminder.objects.get(key="note:1|sms")

    response = _signed_post(client, reverse("notifications:sms_inbound"), {"From": "+447911123456", "Body": " Stop "})

    assert response.status_code == 200
    assert response["Content-Type"] == "text/xml"
    patient.refresh_from_db()
    assert patient.sms_stopped_at is not None
    sms_row.refresh_from_db()
    assert sms_row.state == Reminder.State.CANCELLED
    assert AuditEvent.objects.filter(patient=patient, description__startswith="Texts stopped").exists()
    # Later messages go by email only, and the email already planned still goes.
    later, _ = reminder_plan(key="note:2", kind="note", patient=patient, due_at=NOON, context={"word": "warm"})
    assert later.channel == Channel.EMAIL
    assert not Reminder.objects.filter(key="note:2|sms").exists()
    with time_machine.travel(NOON, tick=False):
        reminders_send_due()
    assert sorted(m.to[0] for m in mail.outbox) == [patient.user.email] * 2
    assert provider.requests == []
    email_row.refresh_from_db()
    assert email_row.state == Reminder.State.SENT


def test_a_text_planned_before_stop_is_not_sent_after_it(provider, texting_patient, note_kind):
    reminder = _note(texting_patient)
    Patient.objects.filter(pk=texting_patient.pk).update(sms_stopped_at=NOON - timedelta(hours=1))
    with time_machine.travel(NOON, tick=False):
        assert reminder_deliver(reminder_id=reminder.pk).outcome == "cancelled"
    assert provider.requests == []


def test_start_restarts_texts(client, provider, texting_patient, note_kind):
    inbound = reverse("notifications:sms_inbound")
    _signed_post(client, inbound, {"From": "+447911123456", "Body": "STOP"})
    _signed_post(client, inbound, {"From": "+447911123456", "Body": "START"})
    texting_patient.refresh_from_db()
    assert texting_patient.sms_stopped_at is None
    assert _note(texting_patient).channel == Channel.SMS
    assert AuditEvent.objects.filter(patient=texting_patient, description__startswith="Texts restarted").exists()


def test_any_other_reply_changes_nothing(client, provider, texting_patient):
    _signed_post(client, reverse("notifications:sms_inbound"), {"From": "+447911123456", "Body": "stop by at 3?"})
    texting_patient.refresh_from_db()
    assert texting_patient.sms_stopped_at is None


# --- The patient's choice applies to every kind -----------------------------------------------


def test_a_patient_who_chose_both_gets_one_email_and_one_text_of_each_message(note_kind):
    patient = PatientFactory(message_channels=Patient.MessageChannels.BOTH)
    for _ in range(2):  # planning twice changes nothing
        reminder_plan(key="note:1", kind="note", patient=patient, due_at=NOON, context={"word": "cold"})
    with time_machine.travel(NOON, tick=False):
        reminders_send_due()
        reminders_send_due()
    assert len(mail.outbox) == 1
    assert [message.body for message in sms.outbox] == ["Note: cold"]


def test_a_patient_without_email_gets_texts_whatever_they_chose(note_kind):
    patient = PatientFactory(user__email="", message_channels=Patient.MessageChannels.EMAIL)
    reminder = _note(patient)
    assert reminder.channel == Channel.SMS
    with time_machine.travel(NOON, tick=False):
        reminders_send_due()
    assert mail.outbox == []
    assert len(sms.outbox) == 1


def test_an_email_planned_for_a_patient_without_an_address_is_cancelled_with_the_reason(note_kind):
    patient = PatientFactory(user__email="")
    reminder = _note(patient, channel=Channel.EMAIL)
    with time_machine.travel(NOON, tick=False):
        assert reminder_deliver(reminder_id=reminder.pk).outcome == "cancelled"
    reminder.refresh_from_db()
    assert reminder.last_error == "The patient has no email address."


def test_quiet_hours_hold_texts_but_not_transactional_ones(texting_patient, note_kind):
    nudge = _note(texting_patient, key="note:night")
    urgent = _note(texting_patient, key="urgent:night", kind="urgent_note")
    with time_machine.travel(NIGHT, tick=False):
        assert reminder_deliver(reminder_id=nudge.pk).outcome == "deferred"
        assert reminder_deliver(reminder_id=urgent.pk).outcome == "sent"
    assert len(sms.outbox) == 1
    nudge.refresh_from_db()
    assert nudge.next_attempt_at == local(2026, 5, 5, 8)
