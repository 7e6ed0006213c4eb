"""Fifty patients book the one chamber slot through the API at once, against a live server on PostgreSQL:
one gets 201, the other 49 a 409 problem with the pages' words, and nobody gets a server error."""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta

import pytest
import time_machine
from django.core.servers.basehttp import ThreadedWSGIServer
from django.db import connection
from django.test.testcases import LiveServerThread, _StaticFilesHandler

from bookings.models import Appointment
from tests.api.conftest import token_for
from tests.bookings.conftest import MONDAY, NOW, at, cleared, working_hours
from tests.factories import PatientFactory, PractitionerFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

CLIENTS = 50
TUESDAY = MONDAY + timedelta(days=1)


@pytest.fixture(scope="module", autouse=True)
def _leave_the_seeded_rows_behind(django_db_blocker):
    """The flush after the last test here empties every table; put the seeded catalogue back for later tests."""
    yield
    with django_db_blocker.unblock():
        serialized = getattr(connection, "_test_serialized_contents", None)
        if serialized:
            connection.creation.deserialize_db_from_string(serialized)


class _WideBacklogServer(ThreadedWSGIServer):
    # Fifty clients connect in the same instant; the default backlog (10) would reset most of them
    # before the server saw their request, which says nothing about the booking.
    request_queue_size = 128


class _ServerThread(LiveServerThread):
    server_class = _WideBacklogServer


@pytest.fixture
def server_url(settings) -> Iterator[str]:
    """A live server in this test's settings (plain HTTP); each request runs in its own thread and connection."""
    settings.SECURE_SSL_REDIRECT = False
    thread = _ServerThread("127.0.0.1", _StaticFilesHandler)
    thread.daemon = True
    thread.start()
    thread.is_ready.wait()
    if thread.error:
        raise thread.error
    yield f"http://127.0.0.1:{thread.port}"
    thread.terminate()


def _post(url: str, token: str, body: dict) -> tuple[int, str, dict]:
    request = urllib.request.Request(  # noqa: S310 - the test's own live server over http
        url,
        data=json.dumps(body).encode(),
        method="POST",
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=120) as response:  # noqa: S310
            return response.status, response.headers["Content-Type"], json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, error.headers["Content-Type"], json.loads(error.read() or b"{}")


def test_fifty_concurrent_api_bookings_of_one_chamber_slot_give_one_booking_and_49_problems(server_url, wbc):
    # The clock ticks (the server's threads share it); the slot is a day ahead of the frozen start.
    with time_machine.travel(NOW, tick=True):
        for person in [PractitionerFactory(modalities=[wbc]) for _ in range(3)]:
            working_hours(person)  # three practitioners: only the one chamber limits the slot
        tokens = [token_for(cleared(PatientFactory()).user) for _ in range(CLIENTS)]
        url = f"{server_url}/api/v1/appointments/"
        body = {"modality": wbc.slug, "starts_at": at(TUESDAY, 10).isoformat()}
        barrier = threading.Barrier(CLIENTS)
        answers: list[tuple[int, str, dict]] = []
        lock = threading.Lock()

        def client(token: str) -> None:
            barrier.wait()
            try:
                answer = _post(url, token, body)
            except Exception as error:  # a refused connection or a timeout counts against the test
                answer = (0, "", {"error": repr(error)})
            with lock:
                answers.append(answer)

        threads = [threading.Thread(target=client, args=(token,)) for token in tokens]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=180)

    statuses = Counter(status for status, _, _ in answers)
    statuses.update(body["error"] for status, _, body in answers if status == 0)
    assert len(answers) == CLIENTS, statuses
    assert statuses[201] == 1, statuses
    assert statuses[409] == CLIENTS - 1, statuses
    problems = [body for status, _, body in answers if status == 409]
    assert all(content_type == "application/problem+json" for status, content_type, _ in answers if status == 409)
    assert all(problem["detail"].startswith("Sorry, this time has just been taken") for problem in problems), {
        problem["detail"] for problem in problems
    }
    assert all(problem["nearest_times"] for problem in problems)
    assert Appointment.objects.active().filter(starts_at=at(TUESDAY, 10)).count() == 1
