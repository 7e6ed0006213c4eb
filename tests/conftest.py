"""Fixtures shared by every app's tests."""

from __future__ import annotations

import base64
import copy
import hashlib
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from clinic.models import Modality
from notifications import sms
from tests.factories import PatientFactory, PractitionerFactory


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Skip, with the reason, tests whose server is not configured in this run."""
    on_postgres = settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"
    skip_postgres = pytest.mark.skip(reason="needs PostgreSQL: set DATABASE_URL=postgres://... (.ci/run does)")
    skip_redis = pytest.mark.skip(reason="needs Redis: set REDIS_URL=redis://... (.ci/run does)")
    for item in items:
        if "postgres" in item.keywords and not on_postgres:
            item.add_marker(skip_postgres)
        if "redis" in item.keywords and not os.environ.get("REDIS_URL"):
            item.add_marker(skip_redis)


# The audit trail's triggers refuse DELETE (SQLite) and TRUNCATE (PostgreSQL), and so
# refuse the flush that empties the test database after each transactional test.  The
# flush, and only the flush, lifts them for its own statements.
_AUDIT_TRIGGERS_AROUND_FLUSH = {
    "postgresql": (
        ["ALTER TABLE clinic_auditevent DISABLE TRIGGER clinic_auditevent_no_truncate;"],
        ["ALTER TABLE clinic_auditevent ENABLE TRIGGER clinic_auditevent_no_truncate;"],
    ),
    "sqlite": (
        ["DROP TRIGGER IF EXISTS clinic_auditevent_no_delete;"],
        [
            "CREATE TRIGGER IF NOT EXISTS clinic_auditevent_no_delete BEFORE DELETE ON clinic_auditevent "
            "BEGIN SELECT RAISE(ABORT, 'clinic_auditevent is append-only: DELETE refused'); END;"
        ],
    ),
}


@pytest.fixture(autouse=True, scope="session")
def _test_flush_lifts_the_audit_triggers() -> Iterator[None]:
    operations = type(connection.ops)
    original_sql_flush = operations.sql_flush
    before, after = _AUDIT_TRIGGERS_AROUND_FLUSH.get(connection.vendor, ([], []))

    def sql_flush(self, style, tables, *args, **kwargs):
        statements = original_sql_flush(self, style, tables, *args, **kwargs)
        if "clinic_auditevent" not in tables or not statements:
            return statements
        return [*before, *statements, *after]

    operations.sql_flush = sql_flush
    yield
    operations.sql_flush = original_sql_flush


@pytest.fixture(autouse=True)
def _plain_static_files_and_outbox(settings: pytest.FixtureRequest) -> None:
    """Serve static files without a collectstatic manifest, keep mail in memory, run tasks inline."""
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.SMS_BACKEND = "notifications.sms.backends.locmem.SmsBackend"
    sms.outbox.clear()
    settings.SECURE_SSL_REDIRECT = False
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _security_gates_open(settings: pytest.FixtureRequest) -> None:
    """Tests log staff in with ``force_login`` and move the clock, so by default:

    - staff need no second factor (production: CLINIC_STAFF_2FA_REQUIRED is on); to
      test a page with it on, use ``tests.factories.verified_login(client, user)``;
    - nobody is logged out when idle or after the session's absolute age
      (production: staff after 15 idle minutes, patients after 30, everyone after 12 hours);
    - login lockout (django-axes) is off, so ``client.login()`` works.

    tests/security and tests/clinic switch these back on in their own conftest.
    """
    settings.CLINIC_STAFF_2FA_REQUIRED = False
    settings.CLINIC_STAFF_IDLE_MINUTES = 0
    settings.CLINIC_PATIENT_IDLE_MINUTES = 0
    settings.CLINIC_SESSION_MAX_HOURS = 0
    settings.SESSION_COOKIE_AGE = 14 * 24 * 60 * 60  # Django's default, for tests that move the clock by days
    settings.AXES_ENABLED = False


def _axe_core_script_hash() -> str | None:
    """The CSP hash of axe-core as Playwright's ``add_script_tag(path=...)`` inlines it."""
    root = Path(__file__).resolve().parents[1]
    path = Path(os.environ.get("AXE_CORE_JS", root / "var" / "npm" / "node_modules" / "axe-core" / "axe.min.js"))
    if not path.exists():
        return None
    inlined = path.read_bytes().decode("utf-8", "replace") + "\n//# sourceURL=" + str(path).replace("\n", "")
    return "'sha256-" + base64.b64encode(hashlib.sha256(inlined.encode("utf-8")).digest()).decode("ascii") + "'"


@pytest.fixture(autouse=True)
def _csp_allows_the_accessibility_audit(request: pytest.FixtureRequest, settings: pytest.FixtureRequest) -> None:
    """Browser tests keep the production Content Security Policy, so an inline script or
    style in a page fails there as it would for a patient; the only exception is the
    axe-core audit the harness injects, allowed by its exact hash."""
    if request.node.get_closest_marker("browser") is None:
        return
    script_hash = _axe_core_script_hash()
    if script_hash:
        policy = copy.deepcopy(settings.CONTENT_SECURITY_POLICY)
        policy["DIRECTIVES"]["script-src"] = [*policy["DIRECTIVES"]["script-src"], script_hash]
        settings.CONTENT_SECURITY_POLICY = policy


@pytest.fixture(autouse=True, scope="session")
def _celery_runs_tasks_inline() -> None:
    """Tasks run in the test process; tests with a real worker (marked redis) switch this off."""
    from clinic.celery import app

    app.conf.task_always_eager = True
    app.conf.task_eager_propagates = True


@pytest.fixture
def wbc(db) -> Modality:
    return Modality.objects.get(slug="whole-body-cryotherapy")


@pytest.fixture
def localized_cryo(db) -> Modality:
    return Modality.objects.get(slug="localized-cryotherapy")


@pytest.fixture
def acupuncture_initial(db) -> Modality:
    return Modality.objects.get(slug="acupuncture-initial")


@pytest.fixture
def acupuncture_follow_up(db) -> Modality:
    return Modality.objects.get(slug="acupuncture-follow-up")


@pytest.fixture
def patient(db):
    return PatientFactory()


@pytest.fixture
def other_patient(db):
    return PatientFactory()


@pytest.fixture
def practitioner(db):
    return PractitionerFactory()


@pytest.fixture
def is_postgres() -> bool:
    return connection.vendor == "postgresql"
