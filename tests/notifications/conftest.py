from __future__ import annotations

import pytest

from notifications.models import ReminderSettings


@pytest.fixture
def rules(db) -> ReminderSettings:
    return ReminderSettings.load()
