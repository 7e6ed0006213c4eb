"""Issue 16 safety gaps 1, 2, 7 and 9: the session log refuses what a clinician would refuse."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from bookings.models import Appointment
from tests.treatments.factories import appointment_create, session_logged, valid_post, valid_values
from treatments.models import AdverseEvent, ColdApplicationMethod, SessionLog
from treatments.services import SessionLogRefused, session_log_create


@pytest.mark.parametrize("score", [4.5, Decimal("4.5"), True])
@pytest.mark.parametrize("field", ["pain_before", "pain_after"])
def test_a_fractional_pain_score_is_refused_not_rounded(patient, practitioner, wbc, field, score):
    appointment = appointment_create(patient=patient, practitioner=practitioner, modality=wbc)
    with pytest.raises(ValidationError) as refused:
        session_log_create(appointment=appointment, by=practitioner.user, values=valid_values(wbc, **{field: score}))
    assert "whole number" in str(refused.value.error_dict[field])
    assert not SessionLog.objects.exists()


def test_a_whole_pain_score_given_as_a_float_is_accepted(patient, practitioner, wbc):
    appointment = appointment_create(patient=patient, practitioner=practitioner, modality=wbc)
    log = session_log_create(appointment=appointment, by=practitioner.user, values=valid_values(wbc, pain_before=5.0))
    log.refresh_from_db()
    assert log.pain_before == 5


def test_an_acupuncture_session_cannot_be_shorter_than_its_needle_retention(
    patient, practitioner, acupuncture_follow_up
):
    appointment = appointment_create(patient=patient, practitioner=practitioner, modality=acupuncture_follow_up)
    values = valid_values(acupuncture_follow_up, duration_minutes=5, exposure_seconds=25 * 60)
    with pytest.raises(ValidationError, match="shorter than the 25 minutes the needles were retained"):
        session_log_create(appointment=appointment, by=practitioner.user, values=values)
    assert not SessionLog.objects.exists()


def test_the_log_form_says_the_session_is_shorter_than_the_retention(
    practitioner_client, patient, practitioner, acupuncture_follow_up
):
    appointment = appointment_create(patient=patient, practitioner=practitioner, modality=acupuncture_follow_up)
    response = practitioner_client.post(
        reverse("treatments:log_create", args=[appointment.pk]),
        valid_post(acupuncture_follow_up, duration_minutes="5", exposure_seconds="25"),
    )
    assert response.status_code == 400
    assert "shorter than the 25 minutes the needles were retained" in response.content.decode()
    assert not SessionLog.objects.exists()


def test_the_database_refuses_a_session_shorter_than_its_exposure(patient, practitioner, acupuncture_follow_up):
    log = session_logged(patient=patient, practitioner=practitioner, modality=acupuncture_follow_up)
    with pytest.raises(IntegrityError), transaction.atomic():
        SessionLog.objects.filter(pk=log.pk).update(duration_minutes=5)


def test_nerve_damage_is_an_adverse_event_kind(patient, practitioner, localized_cryo):
    log = session_logged(
        patient=patient, practitioner=practitioner, modality=localized_cryo,
        adverse_events=[{"kind": "nerve_damage", "severity": "moderate", "action_taken": "Referred to GP"}],
    )  # fmt: skip
    event = log.adverse_events.get()
    assert event.get_kind_display() == "Nerve damage"
    assert AdverseEvent.Kind.NERVE_DAMAGE == "nerve_damage"


@time_machine.travel(datetime(2026, 6, 2, 11, 30, tzinfo=ZoneInfo("Europe/London")), tick=False)
def test_a_session_cannot_be_logged_before_its_appointment_starts(patient, practitioner, wbc):
    # Later the same day (on the real clock, "in 30 minutes" can be tomorrow, refused for another reason).
    starts_at = timezone.now() + timedelta(minutes=30)
    appointment = appointment_create(patient=patient, practitioner=practitioner, modality=wbc, starts_at=starts_at)
    with pytest.raises(SessionLogRefused, match="has not started yet"):
        session_log_create(appointment=appointment, by=practitioner.user, values=valid_values(wbc), sign=True)
    appointment.refresh_from_db()
    assert appointment.status == Appointment.Status.BOOKED
    assert not SessionLog.objects.exists()


def test_a_session_that_has_started_can_be_logged(patient, practitioner, wbc):
    starts_at = timezone.now() - timedelta(minutes=5)
    appointment = appointment_create(patient=patient, practitioner=practitioner, modality=wbc, starts_at=starts_at)
    log = session_log_create(appointment=appointment, by=practitioner.user, values=valid_values(wbc), sign=True)
    assert log.is_signed


def test_fifteen_minutes_at_cryogenic_temperature_is_refused(patient, practitioner, localized_cryo):
    appointment = appointment_create(patient=patient, practitioner=practitioner, modality=localized_cryo)
    values = valid_values(localized_cryo, temperature_c=Decimal("-160.0"), exposure_seconds=15 * 60)
    with pytest.raises(ValidationError, match=r"spray or cold air at -160\.0 °C is applied for 60-180 seconds"):
        session_log_create(appointment=appointment, by=practitioner.user, values=values)
    assert not SessionLog.objects.exists()


def test_a_cold_pack_around_zero_may_stay_on_for_fifteen_minutes(patient, practitioner, localized_cryo):
    appointment = appointment_create(patient=patient, practitioner=practitioner, modality=localized_cryo)
    values = valid_values(localized_cryo, temperature_c=Decimal("0.0"), exposure_seconds=15 * 60)
    log = session_log_create(appointment=appointment, by=practitioner.user, values=values)
    assert log.cold_method.name == "Cold pack or compress"
    assert (log.exposure_min_seconds, log.exposure_max_seconds) == (300, 900)


def test_a_cold_pack_for_one_minute_is_too_short_to_be_what_was_logged(patient, practitioner, localized_cryo):
    appointment = appointment_create(patient=patient, practitioner=practitioner, modality=localized_cryo)
    values = valid_values(localized_cryo, temperature_c=Decimal("2.0"), exposure_seconds=60)
    with pytest.raises(ValidationError, match="Cold pack or compress"):
        session_log_create(appointment=appointment, by=practitioner.user, values=values)


def test_the_cold_method_bounds_are_admin_data(patient, practitioner, localized_cryo):
    ColdApplicationMethod.objects.filter(name="Cryogenic spray or cold air").update(exposure_max_seconds=120)
    appointment = appointment_create(patient=patient, practitioner=practitioner, modality=localized_cryo)
    values = valid_values(localized_cryo, temperature_c=Decimal("-120.0"), exposure_seconds=150)
    with pytest.raises(ValidationError, match="60-120 seconds"):
        session_log_create(appointment=appointment, by=practitioner.user, values=values)


def test_the_database_refuses_a_cryogenic_log_stretched_past_its_method(patient, practitioner, localized_cryo):
    log = session_logged(patient=patient, practitioner=practitioner, modality=localized_cryo)
    with pytest.raises(IntegrityError), transaction.atomic():
        SessionLog.objects.filter(pk=log.pk).update(exposure_seconds=15 * 60)


def test_an_appointment_cannot_be_marked_attended_before_it_starts(patient, practitioner, wbc):
    from bookings.services.appointments import BookingRefused, appointment_mark_attended

    starts_at = timezone.now() + timedelta(hours=2)
    appointment = appointment_create(patient=patient, practitioner=practitioner, modality=wbc, starts_at=starts_at)
    with pytest.raises(BookingRefused, match="has not started yet"):
        appointment_mark_attended(appointment=appointment, by=practitioner.user)
    appointment.refresh_from_db()
    assert appointment.status == Appointment.Status.BOOKED
