"""Privacy tests run with the login gates as production has them (lockout on, staff two-factor)."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.security.world import World, build_world


@pytest.fixture(autouse=True)
def _production_security(settings: pytest.FixtureRequest) -> None:
    settings.AXES_ENABLED = True
    settings.CLINIC_STAFF_2FA_REQUIRED = True
    settings.TRUSTED_PROXY_COUNT = 0


@pytest.fixture
def world(db) -> World:
    """Two patients with records, their practitioners and an admin (see tests/security/world.py)."""
    return build_world()


@pytest.fixture
def client_a(world: World) -> Client:
    client = Client()
    client.force_login(world.patient_a.user)
    return client
