"""No input gives a server error.

schemathesis reads /api/schema/ and hypothesis generates requests for every operation: bodies,
queries and path ids, both fitting the schema (positive) and breaking it (negative).  They are sent
with a patient's write token; every answer must be below 500, and every error a problem document.
The quick run keeps each operation to a few dozen examples (well under a minute); the ``slow`` run
tries many more.  (schemathesis' own pytest plugin does not run under this pytest, so the test
drives its strategies with ``hypothesis.given`` itself.)
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import schemathesis
import time_machine
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.generation import GenerationMode

from tests.api.conftest import token_for
from tests.bookings.conftest import NOW, cleared, working_hours

pytestmark = pytest.mark.django_db

QUICK_EXAMPLES = 30
LONG_EXAMPLES = 300


@pytest.fixture
def clock():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def connections_kept_open() -> Iterator[None]:
    """schemathesis calls the WSGI app directly, not through Django's test client, so Django would close
    the test's database connection after each request (it is inside the test's transaction); keep it,
    as the test client does."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def api_operations(clock, connections_kept_open, settings, practitioner) -> list:
    settings.SECURE_SSL_REDIRECT = False
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"token": "100000/min", "anonymous": "100000/min"},
    }
    working_hours(practitioner)
    schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", get_wsgi_application())
    return [result.ok() for result in schema.get_all_operations()]


@pytest.fixture
def patient_token(clock, patient) -> str:
    return token_for(cleared(patient).user)


def _check(case, token: str) -> None:
    response = case.call(headers={"Authorization": f"Bearer {token}"})
    where = (case.method, case.formatted_path, case.body, case.query)
    assert response.status_code < 500, (*where, response.text)
    if response.status_code >= 400:
        content_type = response.headers.get("Content-Type", response.headers.get("content-type", [""]))[0]
        assert content_type == "application/problem+json", (*where, response.status_code, response.text)
        problem = response.json()
        assert problem["status"] == response.status_code
        assert all(problem[member] for member in ("type", "title", "detail"))


def _fuzz(operations: list, token: str, examples: int) -> None:
    assert len(operations) >= 7  # the schema lists every endpoint (see test_schema)
    for operation in operations:
        for mode in GenerationMode:

            @given(case=operation.as_strategy(generation_mode=mode))
            @settings(
                max_examples=examples,
                deadline=None,
                derandomize=True,
                database=None,
                suppress_health_check=list(HealthCheck),
            )
            def run(case) -> None:
                _check(case, token)

            try:
                run()
            except Unsatisfiable:
                # Nothing to break: an operation without parameters or body has no negative cases.
                assert mode == GenerationMode.NEGATIVE, f"{operation.label}: no valid request could be generated"


def test_generated_requests_never_give_a_server_error(api_operations, patient_token):
    _fuzz(api_operations, patient_token, QUICK_EXAMPLES)


@pytest.mark.slow
def test_many_generated_requests_never_give_a_server_error(api_operations, patient_token):
    _fuzz(api_operations, patient_token, LONG_EXAMPLES)
