"""The account pages are tested with login lockout (django-axes) on, as in production."""

import pytest


@pytest.fixture(autouse=True)
def _login_lockout_on(settings: pytest.FixtureRequest) -> None:
    settings.AXES_ENABLED = True
