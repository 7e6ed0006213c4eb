"""Rendering the session-log form logs nothing: a traceback on every page view hides real errors."""

from __future__ import annotations

import logging

import pytest
from django.urls import reverse

from tests.treatments.factories import appointment_create, session_logged


@pytest.fixture
def wbc_appointment(patient, practitioner, wbc):
    return appointment_create(patient=patient, practitioner=practitioner, modality=wbc)


def _warnings_or_worse(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [f"{record.name}: {record.getMessage()}" for record in caplog.records if record.levelno >= logging.WARNING]


def test_opening_the_session_log_form_logs_no_error(practitioner_client, wbc_appointment, caplog):
    with caplog.at_level(logging.DEBUG):
        page = practitioner_client.get(reverse("treatments:log_create", args=[wbc_appointment.pk]))

    assert page.status_code == 200
    assert _warnings_or_worse(caplog) == []
    assert "DELETE" not in caplog.text


def test_amending_a_log_with_an_event_logs_no_error_and_offers_to_remove_the_event(
    practitioner_client, patient, practitioner, wbc, caplog
):
    log = session_logged(
        patient=patient,
        practitioner=practitioner,
        modality=wbc,
        adverse_events=[{"kind": "redness", "severity": "mild", "action_taken": "Observed"}],
    )
    with caplog.at_level(logging.DEBUG):
        page = practitioner_client.get(reverse("treatments:log_amend", args=[log.pk]))

    assert page.status_code == 200
    assert _warnings_or_worse(caplog) == []
    html = page.content.decode()
    # The saved event can be removed; the blank new row has nothing to remove.
    assert 'name="events-0-DELETE"' in html
    assert 'name="events-1-DELETE"' not in html
