"""Security tests run with every gate as production has it.

The root conftest switches two-factor enforcement, idle logout and login lockout off
for the other apps' tests; here they are back on with their production defaults.
"""

from __future__ import annotations

from datetime import datetime

import pytest
from django.utils import timezone

from tests.factories import AdminFactory, PractitionerFactory


@pytest.fixture(autouse=True)
def _production_security(settings: pytest.FixtureRequest) -> None:
    settings.AXES_ENABLED = True
    settings.CLINIC_STAFF_2FA_REQUIRED = True
    settings.CLINIC_STAFF_IDLE_MINUTES = 15
    settings.CLINIC_PATIENT_IDLE_MINUTES = 30
    settings.CLINIC_SESSION_MAX_HOURS = 12
    settings.SESSION_COOKIE_AGE = 12 * 60 * 60
    settings.TRUSTED_PROXY_COUNT = 0


@pytest.fixture
def clinic_admin(db):
    return AdminFactory()


@pytest.fixture
def practitioner_user(db):
    return PractitionerFactory().user


@pytest.fixture
def start() -> datetime:
    """A fixed moment for tests that move the clock."""
    return timezone.make_aware(datetime(2026, 3, 10, 9, 0))
