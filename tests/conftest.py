"""Fixtures shared by every app's tests."""

from __future__ import annotations

import os

import pytest
from django.conf import settings
from django.db import connection

from clinic.models import Modality
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


@pytest.fixture(autouse=True)
def _plain_static_files_and_outbox(settings: pytest.FixtureRequest) -> None:
    """Serve static files without a collectstatic manifest, keep mail in memory, run tasks inline."""
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.SECURE_SSL_REDIRECT = False
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


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
