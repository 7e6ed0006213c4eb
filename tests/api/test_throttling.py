"""Rate limits: per token (two tokens of one person count apart), and per address without one; a 429 problem."""

from __future__ import annotations

import pytest

from tests.api.conftest import bearer, token_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def low_rates(settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"token": "3/min", "anonymous": "2/min"},
    }


def test_a_token_over_its_rate_gets_a_429_problem_with_retry_after(low_rates, patient):
    api = bearer(token_for(patient.user))
    assert [api.get("/api/v1/appointments/").status_code for _ in range(3)] == [200, 200, 200]
    answer = api.get("/api/v1/appointments/")
    assert answer.status_code == 429
    assert answer["Content-Type"] == "application/problem+json"
    problem = answer.json()
    assert problem["type"].endswith("/api/problems/rate-limited")
    assert 1 <= int(answer["Retry-After"]) <= 61
    assert problem["retry_after_seconds"] == int(answer["Retry-After"])


def test_each_token_has_its_own_count(low_rates, patient):
    first, second = bearer(token_for(patient.user)), bearer(token_for(patient.user))
    for _ in range(3):
        first.get("/api/v1/appointments/")
    assert first.get("/api/v1/appointments/").status_code == 429
    assert second.get("/api/v1/appointments/").status_code == 200


def test_anonymous_calls_are_limited_per_address(low_rates, client):
    assert [client.get("/api/v1/modalities/").status_code for _ in range(3)] == [200, 200, 429]
