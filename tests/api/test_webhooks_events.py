"""Every event of issue 18 is published by the change it reports, in its transaction, and what leaves
the clinic carries ids and times only unless an admin opted the endpoint in."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta

import pytest
import time_machine
from django.db import transaction

from api.webhooks.models import WebhookDelivery, WebhookEndpoint
from api.webhooks.services import webhook_deliveries_create, webhook_payload
from bookings.services.appointments import appointment_mark_no_show, appointment_move
from notifications.events import event_listener_register, event_publish
from notifications.models import DomainEvent
from tests.api.test_webhooks import book
from tests.bookings.conftest import NOW, at, cleared, working_hours
from tests.factories import care_team_join
from tests.screening.factories import screening_cleared, submission_with_answers
from tests.treatments.factories import session_logged

pytestmark = pytest.mark.django_db

ALL_EVENTS = [
    "appointment.attended",
    "appointment.booked",
    "appointment.cancelled",
    "appointment.moved",
    "appointment.no_show",
    "screening.needs_review",
    "session_log.signed",
]


@pytest.fixture(autouse=True)
def _london(settings) -> None:
    settings.TIME_ZONE = "Europe/London"


@pytest.fixture
def clock() -> Iterator[time_machine.Coordinates]:
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def payloads(event: DomainEvent) -> tuple[dict, dict]:
    """What a plain endpoint and an opted-in endpoint would receive for ``event``."""
    plain = WebhookEndpoint.objects.create(name="Plain", url="https://hooks.example.com/a", events=ALL_EVENTS)
    opted = WebhookEndpoint.objects.create(
        name="Records", url="https://hooks.example.com/b", events=ALL_EVENTS, include_clinical_details=True
    )
    webhook_deliveries_create(events=[event], endpoints=[plain, opted])
    deliveries = WebhookDelivery.objects.filter(event=event)
    return (
        webhook_payload(delivery=deliveries.get(endpoint=plain)),
        webhook_payload(delivery=deliveries.get(endpoint=opted)),
    )


def test_a_move_reports_where_the_appointment_was(clock, practitioner, patient, wbc):
    working_hours(practitioner)
    cleared(patient)
    appointment = book(patient, wbc, hour=11, days_later=2)
    was = appointment.starts_at
    appointment_move(actor=patient.user, appointment=appointment, starts_at=at(was.date(), 14))

    event = DomainEvent.objects.get(name="appointment.moved")
    assert event.data["appointment_id"] == appointment.pk
    assert event.data["starts_at"] == "2027-03-24T14:00:00Z"
    assert event.data["previous_starts_at"] == "2027-03-24T11:00:00Z"
    assert event.data["previous_practitioner_id"] == practitioner.pk


def test_a_no_show_is_published_once(clock, practitioner, patient, wbc):
    working_hours(practitioner)
    cleared(patient)
    appointment = book(patient, wbc, hour=11)
    clock.shift(timedelta(hours=6))  # 13:00: it has started
    appointment_mark_no_show(appointment=appointment, by=practitioner.user)
    appointment_mark_no_show(appointment=appointment, by=practitioner.user)  # idempotent: no second event
    assert DomainEvent.objects.filter(name="appointment.no_show").count() == 1


def test_a_signed_session_log_sends_its_notes_and_readings_only_to_an_opted_in_endpoint(patient, practitioner, wbc):
    care_team_join(patient=patient, practitioner=practitioner)
    screening_cleared(patient=patient)
    log = session_logged(
        patient=patient, practitioner=practitioner, modality=wbc, subjective="Sharp pain after gardening"
    )
    assert DomainEvent.objects.filter(name="appointment.attended").count() == 1
    event = DomainEvent.objects.get(name="session_log.signed")

    plain, opted = payloads(event)
    assert plain["data"]["session_log_id"] == log.pk
    assert plain["data"]["patient_id"] == patient.pk
    assert "gardening" not in json.dumps(plain)
    assert "pain_before" not in json.dumps(plain)
    assert opted["clinical_details"]["subjective"] == "Sharp pain after gardening"
    assert opted["clinical_details"]["pain_before"] == log.pain_before


def test_answers_that_need_review_publish_without_the_answers(patient, acupuncture_initial, wbc):
    submission_with_answers(patient=patient, yes=["pregnancy"], notes="Twelve weeks along")

    event = DomainEvent.objects.get(name="screening.needs_review")
    assert event.data["cause"] == "answers"
    assert acupuncture_initial.slug in event.data["modalities"]
    plain, opted = payloads(event)
    assert "weeks" not in json.dumps(plain).lower()
    assert "pregnan" not in json.dumps(plain).lower()
    assert opted["clinical_details"]["notes"] == "Twelve weeks along"
    assert any("pregnan" in text.lower() for text in opted["clinical_details"]["answered_yes"])


def test_answers_that_need_no_review_publish_nothing(patient, wbc):
    screening_cleared(patient=patient)
    assert not DomainEvent.objects.filter(name="screening.needs_review").exists()


def test_a_severe_adverse_event_publishes_a_review_for_the_held_treatment(patient, practitioner, localized_cryo):
    care_team_join(patient=patient, practitioner=practitioner)
    screening_cleared(patient=patient)
    session_logged(
        patient=patient,
        practitioner=practitioner,
        modality=localized_cryo,
        adverse_events=[{"kind": "frostbite", "severity": "severe", "action_taken": "Sent to A&E"}],
    )
    event = DomainEvent.objects.get(name="screening.needs_review")
    assert event.data["cause"] == "treatment_hold"
    assert localized_cryo.slug in event.data["modalities"]
    plain, opted = payloads(event)
    assert "frostbite" not in json.dumps(plain).lower()
    assert "frostbite" in opted["clinical_details"]["reason"].lower()


@transaction.atomic
def failing_change(patient) -> None:
    event_publish(name="appointment.booked", about=patient, data={"patient_id": patient.pk})
    raise RuntimeError("the change failed")


def test_an_event_rolls_back_with_its_change_and_listeners_hear_only_of_commits(
    patient, django_capture_on_commit_callbacks, monkeypatch
):
    monkeypatch.setattr("notifications.events._LISTENERS", [])  # this test's listener only, and only here
    heard: list[list[str]] = []
    event_listener_register(heard.append)
    with django_capture_on_commit_callbacks(execute=True):
        with pytest.raises(RuntimeError):
            failing_change(patient)
        assert not DomainEvent.objects.exists()
        kept = event_publish(name="appointment.booked", about=patient, data={"patient_id": patient.pk})
    assert heard == [[str(kept.pk)]]


def test_an_event_no_app_declared_is_refused(patient):
    with pytest.raises(LookupError, match="No app registered"):
        event_publish(name="appointment.teleported", about=patient, data={})
    assert not DomainEvent.objects.exists()
