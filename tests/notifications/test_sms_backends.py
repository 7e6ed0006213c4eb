"""The development and test SMS backends, shaped like Django's email backends."""

from __future__ import annotations

import io

import pytest
from django.core.exceptions import ImproperlyConfigured

from notifications import sms
from notifications.sms import SmsMessage, get_sms_connection


def test_the_console_backend_prints_each_text():
    stream = io.StringIO()
    with get_sms_connection("notifications.sms.backends.console.SmsBackend", stream=stream) as connection:
        assert connection.send_messages([SmsMessage(to="+447911123456", body="See you at 10:00")]) == 1
    assert "SMS to: +447911123456" in stream.getvalue()
    assert "See you at 10:00" in stream.getvalue()


def test_the_file_backend_writes_the_texts_of_a_connection_to_one_file(tmp_path, settings):
    settings.SMS_FILE_PATH = str(tmp_path / "sms")
    with get_sms_connection("notifications.sms.backends.file.SmsBackend") as connection:
        connection.send_messages([SmsMessage(to="+447911123456", body="One")])
        connection.send_messages([SmsMessage(to="+447911123457", body="Two")])
    [written] = (tmp_path / "sms").iterdir()
    content = written.read_text()
    assert "One" in content
    assert "Two" in content


def test_the_locmem_backend_keeps_texts_for_the_tests():
    get_sms_connection().send_messages([SmsMessage(to="+447911123456", body="Hi")])
    assert [message.body for message in sms.outbox] == ["Hi"]


def test_the_provider_backend_refuses_to_start_without_credentials(settings):
    settings.TWILIO_ACCOUNT_SID = ""
    with pytest.raises(ImproperlyConfigured, match="TWILIO_ACCOUNT_SID"):
        get_sms_connection("notifications.sms.backends.twilio.SmsBackend")
