"""Privacy tests run with the login gates as production has them (lockout on, staff two-factor)."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _production_security(settings: pytest.FixtureRequest) -> None:
    settings.AXES_ENABLED = True
    settings.CLINIC_STAFF_2FA_REQUIRED = True
    settings.TRUSTED_PROXY_COUNT = 0
