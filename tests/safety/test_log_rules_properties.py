"""Properties of the session-log rules over many inputs (issue 16 gaps 1, 2 and 4), checked without saving."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.treatments.factories import appointment_create, valid_values
from treatments.models import ColdApplicationMethod
from treatments.services import _assign, session_log_prepare

SETTINGS = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)


def _judged(appointment, **values):
    """The prepared log with these readings, or the errors the rules give (nothing is stored)."""
    log = session_log_prepare(appointment=appointment)
    _assign(log, valid_values(appointment.modality, **values))
    try:
        log.full_clean(exclude=["appointment"])
    except ValidationError as error:
        return log, error.message_dict
    return log, {}


@pytest.fixture
def local_appointment(patient, practitioner, localized_cryo):
    return appointment_create(patient=patient, practitioner=practitioner, modality=localized_cryo)


@pytest.fixture
def acupuncture_appointment(patient, practitioner, acupuncture_follow_up):
    return appointment_create(patient=patient, practitioner=practitioner, modality=acupuncture_follow_up)


@SETTINGS
@given(score=st.one_of(st.floats(0, 10, allow_nan=False), st.decimals(0, 10, places=2), st.integers(0, 10)))
def test_a_pain_score_is_kept_exactly_or_refused(local_appointment, score):
    log, errors = _judged(local_appointment, pain_before=score)
    if "pain_before" in errors:
        assert score != int(score)
    else:
        assert score == int(score)
        assert log.pain_before == int(score)


@SETTINGS
@given(duration=st.integers(1, 240), retention_minutes=st.integers(20, 30))
def test_an_accepted_acupuncture_log_is_never_shorter_than_its_retention(
    acupuncture_appointment, duration, retention_minutes
):
    _, errors = _judged(acupuncture_appointment, duration_minutes=duration, exposure_seconds=retention_minutes * 60)
    assert ("duration_minutes" in errors) == (duration < retention_minutes)


@SETTINGS
@given(tenths=st.integers(-1600, 0), exposure=st.integers(1, 1200))
def test_an_accepted_localized_log_is_within_the_bounds_of_the_method_its_temperature_picks(
    local_appointment, tenths, exposure
):
    temperature = Decimal(tenths) / 10
    log, errors = _judged(local_appointment, temperature_c=temperature, exposure_seconds=exposure, duration_minutes=20)
    method = ColdApplicationMethod.objects.covering(temperature)
    assert method is not None  # the seeded bands cover the device's whole range
    within = method.exposure_min_seconds <= exposure <= method.exposure_max_seconds
    assert ("exposure_seconds" in errors) == (not within)
    if not errors:
        assert log.cold_method == method
