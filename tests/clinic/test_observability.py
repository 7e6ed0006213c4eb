"""Error tracking that never carries health data, and JSON logs for log collectors.

Sentry is on only with ``SENTRY_DSN``; whatever it sends has no request body, cookies,
query string, headers, names, emails or phone numbers: a crash report of a session
note must not become a copy of the note.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest
import sentry_sdk
from django.test import Client
from sentry_sdk.envelope import Envelope
from sentry_sdk.transport import Transport

from clinic.error_tracking import scrub_breadcrumb, scrub_event, sentry_init
from clinic.json_logs import JsonLogFormatter

ROOT = Path(__file__).resolve().parents[2]
PATIENT_EMAIL = "zebedee.quinn@example.org"
PATIENT_PHONE = "+44 7700 900123"


def _event() -> dict:
    return {
        "request": {
            "method": "POST",
            "url": "https://clinic.example.org/treatments/appointments/12/log/",
            "query_string": f"q={PATIENT_EMAIL}",
            "data": {"subjective": "Zebedee says the pain is worse after the divorce"},
            "cookies": {"sessionid": "s3cret"},
            "headers": {"Cookie": "sessionid=s3cret", "User-Agent": "Firefox", "Referer": "/patients/?q=Quinn"},
            "env": {"REMOTE_ADDR": "203.0.113.9"},
        },
        "user": {"id": "42", "email": PATIENT_EMAIL, "username": PATIENT_EMAIL, "ip_address": "203.0.113.9"},
        "logentry": {"message": "Could not send to %s", "params": [PATIENT_EMAIL], "formatted": f"to {PATIENT_EMAIL}"},
        "exception": {
            "values": [
                {
                    "type": "IntegrityError",
                    "value": f"duplicate key value violates unique constraint DETAIL: Key (email)=({PATIENT_EMAIL}) "
                    f"already exists; phone {PATIENT_PHONE}",
                    "stacktrace": {"frames": [{"function": "save", "vars": {"note": "Zebedee's note"}}]},
                }
            ]
        },
        "breadcrumbs": {
            "values": [
                {"category": "query", "message": "SELECT ... WHERE email = %s"},
                {"category": "axes.watch_login", "message": f"AXES: User login failed, username: {PATIENT_EMAIL}"},
                {"category": "httplib", "data": {"url": f"https://sms.example/send?to={PATIENT_PHONE}"}},
            ]
        },
    }


def test_scrubbing_keeps_what_locates_the_bug_and_drops_what_names_the_patient() -> None:
    event = scrub_event(_event(), {})
    text = json.dumps(event)

    for secret in (PATIENT_EMAIL, "Zebedee", "Quinn", "divorce", "s3cret", "203.0.113.9", "7700 900123"):
        assert secret not in text, secret
    assert event["request"] == {
        "method": "POST",
        "url": "https://clinic.example.org/treatments/appointments/12/log/",
    }
    assert event["user"] == {"id": "42"}
    assert event["exception"]["values"][0]["type"] == "IntegrityError"
    assert "duplicate key value" in event["exception"]["values"][0]["value"]
    assert event["logentry"] == {"message": "Could not send to %s"}
    assert [crumb.get("message") for crumb in event["breadcrumbs"]["values"]] == [
        "SELECT ... WHERE email = %s",
        None,
        None,
    ]


def test_a_breadcrumb_of_a_failed_login_loses_the_username() -> None:
    crumb = scrub_breadcrumb({"category": "axes.watch_login", "message": f"username: {PATIENT_EMAIL}"}, {})

    assert crumb == {"category": "axes.watch_login"}


class _Captured(Transport):
    def __init__(self, options=None) -> None:
        super().__init__(options)
        self.envelopes: list[Envelope] = []

    def capture_envelope(self, envelope: Envelope) -> None:
        self.envelopes.append(envelope)

    def payloads(self) -> list[dict]:
        return [item.payload.json for envelope in self.envelopes for item in envelope.items if item.payload.json]


@pytest.mark.django_db
def test_a_crash_while_posting_a_note_reaches_sentry_without_the_note(settings) -> None:
    settings.DEBUG = False
    settings.ROOT_URLCONF = "tests.clinic.error_urls"
    transport = _Captured()
    sentry_init(dsn="https://public@sentry.example.invalid/1", transport=transport)
    try:
        client = Client(raise_request_exception=False, HTTP_USER_AGENT="Firefox")
        client.cookies["sessionid"] = "s3cret"
        response = client.post(
            f"/test-errors/boom/?email={PATIENT_EMAIL}", {"subjective": "Zebedee's back hurts after the divorce"}
        )
        sentry_sdk.flush()
    finally:
        sentry_sdk.get_client().close()
        sentry_sdk.init()  # no DSN: switched off again for the other tests in this process

    assert response.status_code == 500
    events = [payload for payload in transport.payloads() if payload.get("exception")]
    assert events, "the crash should reach Sentry"
    text = json.dumps(events)
    assert "RuntimeError" in text
    assert "/test-errors/boom/" in text
    for secret in (PATIENT_EMAIL, "Zebedee", "divorce", "s3cret"):
        assert secret not in text, secret


def test_json_log_lines_carry_level_logger_message_and_traceback() -> None:
    formatter = JsonLogFormatter()
    try:
        raise ValueError("bad value")
    except ValueError:
        record = logging.getLogger("clinic.test").makeRecord(
            "clinic.test", logging.ERROR, __file__, 1, "Sending %s failed", ("reminder 7",), sys.exc_info()
        )
    record.status_code = 500

    line = formatter.format(record)

    assert "\n" not in line
    entry = json.loads(line)
    assert entry["level"] == "ERROR"
    assert entry["logger"] == "clinic.test"
    assert entry["message"] == "Sending reminder 7 failed"
    assert entry["status_code"] == 500
    assert entry["time"].endswith("+00:00")
    assert "ValueError: bad value" in entry["exception"]


def test_a_request_log_line_is_json_even_with_the_request_object_attached() -> None:
    record = logging.makeLogRecord(
        {"name": "django.request", "levelno": logging.WARNING, "levelname": "WARNING", "msg": "Not Found: /x/"}
    )
    record.request = object()  # not serialisable: left out, the line still comes out

    entry = json.loads(JsonLogFormatter().format(record))

    assert entry["message"] == "Not Found: /x/"
    assert "request" not in entry


def _settings_probe(code: str, **environment: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "SENTRY_"))}
    env.update({"DJANGO_SECRET_KEY": "x" * 60, "DJANGO_SETTINGS_MODULE": "clinic.settings", **environment})
    return subprocess.run(  # noqa: S603  (our own interpreter and code)
        [sys.executable, "-c", f"import django; django.setup(); {code}"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


def test_one_variable_turns_sentry_on_with_health_data_kept_out() -> None:
    code = (
        "import sentry_sdk; c = sentry_sdk.get_client(); "
        "print(c.is_active(), c.should_send_default_pii(), c.options['max_request_body_size'], "
        "c.options['include_local_variables'])"
    )
    off = _settings_probe(code)
    on = _settings_probe(code, SENTRY_DSN="https://public@sentry.example.invalid/1")

    assert off.stdout.split()[0] == "False", off.stderr
    assert on.stdout.split() == ["True", "False", "never", "False"], on.stderr


def test_json_logs_are_an_option_and_a_typo_refuses_to_start() -> None:
    code = "import logging; print(type(logging.getLogger().handlers[0].formatter).__name__)"
    json_format = _settings_probe(code, DJANGO_LOG_FORMAT="json")
    typo = _settings_probe(code, DJANGO_LOG_FORMAT="jsno")

    assert json_format.stdout.strip() == "JsonLogFormatter", json_format.stderr
    assert typo.returncode != 0
    assert "DJANGO_LOG_FORMAT" in typo.stderr
