"""``/health/`` tells a load balancer and a monitor whether the clinic can serve and send.

Each check answers ok, fail or skipped (and an age where it has one); the page is 200
when nothing fails and 503 when anything does, needs no login, shows no patient data,
and costs the same few queries however large the clinic grows.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from django.db import OperationalError, connections
from django.test import Client
from django.utils import timezone
from django_celery_beat.models import IntervalSchedule, PeriodicTask

from clinic import health
from clinic.celery import app as celery_app
from notifications.models import Reminder
from tests.factories import PatientFactory

pytestmark = pytest.mark.django_db

URL = "/health/"


def _get(client: Client | None = None) -> tuple[int, dict]:
    response = (client or Client()).get(URL)
    assert response["Content-Type"] == "application/json"
    assert "no-cache" in response["Cache-Control"]
    return response.status_code, json.loads(response.content)


def _beat_task(*, last_run_ago: timedelta | None, task: str = "notifications.tasks.reminders_send_due") -> PeriodicTask:
    every, _ = IntervalSchedule.objects.get_or_create(every=60, period=IntervalSchedule.SECONDS)
    last_run_at = timezone.now() - last_run_ago if last_run_ago is not None else None
    return PeriodicTask.objects.create(name=f"clinic: {task}", task=task, interval=every, last_run_at=last_run_at)


def _due_outbox_row(*, late_by: timedelta, key: str = "upcoming:1") -> None:
    due = timezone.now() - late_by
    Reminder.objects.create(key=key, kind="upcoming", patient=PatientFactory(), due_at=due, next_attempt_at=due)


def test_healthy_clinic_answers_200_with_every_check_ok_in_few_queries(django_assert_max_num_queries) -> None:
    _beat_task(last_run_ago=timedelta(seconds=40))
    _due_outbox_row(late_by=timedelta(seconds=90))

    with django_assert_max_num_queries(3):
        status, body = _get()

    assert status == 200
    assert body["status"] == "ok"
    checks = body["checks"]
    assert {name: check["status"] for name, check in checks.items()} == {
        "database": "ok",
        "cache": "ok",
        "broker": "ok",
        "outbox": "ok",
        "beat": "ok",
    }
    assert 85 <= checks["outbox"]["oldest_due_seconds"] <= 120
    assert 35 <= checks["beat"]["last_run_seconds_ago"] <= 70


def test_nothing_due_and_no_schedules_installed_is_healthy() -> None:
    status, body = _get()

    assert status == 200
    assert body["checks"]["outbox"] == {"status": "ok", "oldest_due_seconds": None}
    assert body["checks"]["beat"] == {"status": "skipped"}


def test_a_stopped_database_answers_503(monkeypatch) -> None:
    def unreachable(*args, **kwargs):
        raise OperationalError("connection to server at 10.0.0.5, port 5432 failed: Connection refused")

    monkeypatch.setattr(connections["default"], "cursor", unreachable)
    status, body = _get()

    assert status == 503
    assert body["status"] == "fail"
    assert body["checks"]["database"] == {"status": "fail"}
    assert body["checks"]["cache"]["status"] == "ok"
    # The reason goes to the log, never to the anonymous caller.
    assert "10.0.0.5" not in json.dumps(body)


@pytest.fixture
def broker_stopped():
    """Nothing listens on port 1: the connection is refused, as with a stopped Redis."""
    configured = celery_app.conf.broker_url, celery_app.conf.broker_transport
    # The embedded default names its transport class; the URL's scheme must choose it here.
    celery_app.conf.broker_url, celery_app.conf.broker_transport = "redis://127.0.0.1:1/0", None
    yield
    celery_app.conf.broker_url, celery_app.conf.broker_transport = configured


def test_an_unreachable_broker_answers_503(broker_stopped) -> None:
    # Given up after one refused connection (no retries): how fast is `make bench`'s business.
    status, body = _get()

    assert status == 503
    assert body["checks"]["broker"] == {"status": "fail"}
    assert body["checks"]["database"]["status"] == "ok"


def test_a_failing_check_is_logged_once_as_a_warning_not_as_an_error_per_probe(broker_stopped, caplog) -> None:
    status, _body = _get()

    assert status == 503
    assert [record.levelname for record in caplog.records if record.name.startswith(("clinic", "django"))] == [
        "WARNING"
    ]
    assert "broker" in caplog.text


def test_a_broken_cache_answers_503(monkeypatch) -> None:
    def broken(*args, **kwargs):
        raise ConnectionError("redis went away")

    monkeypatch.setattr(health.cache, "set", broken)

    status, body = _get()

    assert status == 503
    assert body["checks"]["cache"] == {"status": "fail"}


def test_a_stuck_outbox_answers_503_with_the_age_of_its_oldest_due_message(settings) -> None:
    settings.CLINIC_HEALTH_OUTBOX_MAX_DELAY_MINUTES = 15
    _due_outbox_row(late_by=timedelta(hours=2))

    status, body = _get()

    assert status == 503
    assert body["checks"]["outbox"]["status"] == "fail"
    assert body["checks"]["outbox"]["oldest_due_seconds"] >= 2 * 3600


def test_a_silent_beat_answers_503(settings) -> None:
    settings.CLINIC_HEALTH_BEAT_MAX_SILENCE_MINUTES = 15
    _beat_task(last_run_ago=timedelta(hours=1))

    status, body = _get()

    assert status == 503
    assert body["checks"]["beat"]["status"] == "fail"
    assert body["checks"]["beat"]["last_run_seconds_ago"] >= 3600


def test_beat_counts_only_the_clinics_enabled_tasks(settings) -> None:
    settings.CLINIC_HEALTH_BEAT_MAX_SILENCE_MINUTES = 15
    _beat_task(last_run_ago=timedelta(minutes=1))
    _beat_task(last_run_ago=timedelta(days=3), task="celery.backend_cleanup")

    status, body = _get()

    assert status == 200
    assert body["checks"]["beat"]["status"] == "ok"


def test_a_check_registered_by_an_app_above_is_run_and_a_crash_in_it_is_a_fail(monkeypatch) -> None:
    monkeypatch.setattr(health, "_REGISTERED", dict(health._REGISTERED))

    def crashing(now):
        raise RuntimeError("the dispatcher's table is gone")

    health.register_health_check("outbox", crashing)
    status, body = _get()

    assert status == 503
    assert body["checks"]["outbox"] == {"status": "fail"}
    assert "dispatcher" not in json.dumps(body)


def test_health_shows_no_patient_data_even_to_a_logged_in_patient() -> None:
    patient = PatientFactory(user__first_name="Zebedee", user__email="zebedee@example.org")
    _due_outbox_row(late_by=timedelta(minutes=1), key="upcoming:zebedee")
    client = Client()
    client.force_login(patient.user)

    response = client.get(URL)

    text = response.content.decode()
    assert "Zebedee" not in text
    assert "zebedee" not in text
    # Only statuses and ages, whoever asks: nothing that names a row or a server.
    for check in json.loads(text)["checks"].values():
        assert set(check) <= {"status", "oldest_due_seconds", "last_run_seconds_ago"}


def test_health_is_reached_over_plain_http_behind_the_load_balancer(settings) -> None:
    settings.SECURE_SSL_REDIRECT = True

    response = Client().get(URL)

    assert response.status_code == 200


def test_a_head_probe_gets_the_status_without_a_body() -> None:
    response = Client().head(URL)

    assert response.status_code == 200
    assert response.content == b""


def test_a_stopped_database_server_answers_503_in_a_real_process() -> None:
    """No patching: the app is started with a DATABASE_URL where no server listens."""
    root = Path(__file__).resolve().parents[2]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "SENTRY_", "REDIS_"))}
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "clinic.settings",
            "DJANGO_SECRET_KEY": "x" * 60,
            "DATABASE_URL": "postgres://clinic@127.0.0.1:1/clinic",  # port 1: connection refused
        }
    )
    code = (
        "import django, json; django.setup(); from django.test import Client; "
        "response = Client().get('/health/'); "
        "print(response.status_code, json.dumps(json.loads(response.content)))"
    )
    result = subprocess.run(  # noqa: S603  (our own interpreter and code)
        [sys.executable, "-c", code], cwd=root, env=env, capture_output=True, text=True, check=False, timeout=60
    )

    status, _, body = result.stdout.strip().partition(" ")
    assert status == "503", result.stdout + result.stderr
    report = json.loads(body)
    assert report["checks"]["database"] == {"status": "fail"}
    assert report["checks"]["cache"]["status"] == "ok"
