"""The adverse-event rows of the session log form: optional until started, one more on request."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from tests.treatments.factories import appointment_create, valid_post
from treatments.models import SessionLog


@pytest.fixture
def log_url(patient, practitioner, wbc):
    appointment = appointment_create(patient=patient, practitioner=practitioner, modality=wbc)
    return reverse("treatments:log_create", args=[appointment.pk])


def _events_part(html: str) -> str:
    return html[html.index("Adverse events") :]


def test_the_form_offers_one_blank_event_row_without_required_marks(practitioner_client, log_url):
    html = practitioner_client.get(log_url).content.decode()
    assert 'name="events-TOTAL_FORMS" value="1"' in html
    assert "asteriskField" not in _events_part(html)
    assert "Fields marked * are required." in html
    assert "Add another event" in html


def test_add_another_event_shows_one_more_row_keeps_the_typing_and_saves_nothing(practitioner_client, log_url, wbc):
    data = valid_post(wbc, exposure_seconds="", **{"events-0-kind": "redness", "add_event": "1"})
    response = practitioner_client.post(log_url, data)
    html = response.content.decode()
    assert response.status_code == 200
    assert not SessionLog.objects.exists()
    assert 'name="events-TOTAL_FORMS" value="2"' in html
    assert 'name="events-1-kind"' in html
    assert re.search(r'<option value="redness" selected>', html)
    assert "is-invalid" not in html  # asking for a row is not a failed save
    assert "Nothing saved yet" in html


def test_a_started_event_row_still_needs_its_required_fields(practitioner_client, log_url, wbc):
    response = practitioner_client.post(log_url, valid_post(wbc, **{"events-0-kind": "redness"}))
    assert response.status_code == 400
    errors = response.context["events"].errors[0]
    assert set(errors) == {"severity", "action_taken"}
    assert not SessionLog.objects.exists()
