"""Private iCal feeds: no login, so the account behind the token decides, and every fetch is on record."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from bookings.services.schedules import calendar_feed_get_or_create
from clinic.models import AuditEvent
from tests.factories import appointment_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def practitioner_feed(practitioner, patient, wbc):
    appointment_create(
        patient=patient, practitioner=practitioner, modality=wbc, starts_at=timezone.now() + timedelta(days=2)
    )
    return calendar_feed_get_or_create(practitioner=practitioner)


def _fetch(client, feed):
    return client.get(reverse("bookings:feed", args=[feed.token]))


def test_feed_of_a_deactivated_practitioner_account_stops_answering(client, practitioner_feed, patient):
    assert patient.full_name in _fetch(client, practitioner_feed).content.decode()

    user = practitioner_feed.practitioner.user
    user.is_active = False
    user.save(update_fields=["is_active"])

    response = _fetch(client, practitioner_feed)
    assert response.status_code == 410
    assert patient.full_name not in response.content.decode()


def test_feed_of_a_practitioner_taken_off_the_rota_stops_answering(client, practitioner_feed):
    practitioner = practitioner_feed.practitioner
    practitioner.is_active = False
    practitioner.save(update_fields=["is_active"])

    assert _fetch(client, practitioner_feed).status_code == 410


def test_feed_of_a_deactivated_patient_account_stops_answering(client, patient):
    feed = calendar_feed_get_or_create(patient=patient)
    patient.user.is_active = False
    patient.user.save(update_fields=["is_active"])

    assert _fetch(client, feed).status_code == 410


def test_each_practitioner_feed_fetch_leaves_one_audit_row_naming_the_owner(client, practitioner_feed):
    _fetch(client, practitioner_feed)
    _fetch(client, practitioner_feed)

    events = AuditEvent.objects.filter(target_type="bookings.calendarfeed")
    assert events.count() == 2
    event = events.first()
    assert event.actor == practitioner_feed.practitioner.user
    assert event.action == AuditEvent.Action.VIEW
    assert "1 appointment" in event.description


def test_a_refused_feed_fetch_is_recorded_as_denied(client, practitioner_feed):
    user = practitioner_feed.practitioner.user
    user.is_active = False
    user.save(update_fields=["is_active"])

    before = set(AuditEvent.objects.values_list("pk", flat=True))
    _fetch(client, practitioner_feed)

    [event] = AuditEvent.objects.exclude(pk__in=before)
    assert event.action == AuditEvent.Action.DENIED
