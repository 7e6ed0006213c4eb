"""Session log forms: each kind's readings, valid and each implausible value refused as a field error."""

from __future__ import annotations

import pytest

from tests.treatments.factories import appointment_create, valid_post
from treatments.forms import SessionLogForm
from treatments.services import session_log_prepare

# Declared here, not only through fixtures: tests that pick their fixture at run time
# (getfixturevalue) must still be ordered with the database tests, before the
# transactional browser tests that flush the seeded catalogue.
pytestmark = pytest.mark.django_db


def _form(appointment, **overrides) -> SessionLogForm:
    return SessionLogForm(
        valid_post(appointment.modality, **overrides), instance=session_log_prepare(appointment=appointment)
    )


@pytest.fixture
def wbc_appointment(patient, practitioner, wbc):
    return appointment_create(patient=patient, practitioner=practitioner, modality=wbc)


@pytest.fixture
def local_appointment(patient, practitioner, localized_cryo):
    return appointment_create(patient=patient, practitioner=practitioner, modality=localized_cryo)


@pytest.fixture
def acupuncture_appointment(patient, practitioner, acupuncture_follow_up):
    return appointment_create(patient=patient, practitioner=practitioner, modality=acupuncture_follow_up)


@pytest.mark.parametrize("kind_fixture", ["wbc_appointment", "local_appointment", "acupuncture_appointment"])
def test_plausible_readings_are_accepted_for_every_kind(request, kind_fixture):
    form = _form(request.getfixturevalue(kind_fixture))
    assert form.is_valid(), form.errors


def test_form_asks_only_for_the_readings_of_the_modality_kind(wbc_appointment, acupuncture_appointment):
    wbc_fields = set(_form(wbc_appointment).fields)
    acupuncture_fields = set(_form(acupuncture_appointment).fields)
    assert {"bp_systolic", "temperature_c", "unchanged_since_screening"} <= wbc_fields
    assert "needle_count" not in wbc_fields
    assert {"needle_count", "points_used", "electro_stimulation"} <= acupuncture_fields
    assert "bp_systolic" not in acupuncture_fields


COMMON_INVALID = [
    ("pain_before", "11", "whole number from 0 to 10"),
    ("pain_before", "-1", "whole number from 0 to 10"),
    ("pain_before", "5.5", "whole number from 0 to 10"),
    ("pain_before", None, "required"),
    ("pain_after", "12", "whole number from 0 to 10"),
    ("duration_minutes", "0", ""),
    ("duration_minutes", "600", ""),
    ("pain_location", "knee", "valid choice"),
]


@pytest.mark.parametrize(("field", "value", "message"), COMMON_INVALID)
@pytest.mark.parametrize("kind_fixture", ["wbc_appointment", "local_appointment", "acupuncture_appointment"])
def test_implausible_common_reading_is_a_field_error(request, kind_fixture, field, value, message):
    form = _form(request.getfixturevalue(kind_fixture), **{field: value})
    assert not form.is_valid()
    assert field in form.errors
    assert message in " ".join(form.errors[field])


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("exposure_seconds", "600", "outside this treatment's 60-180 seconds"),  # 10 minutes in a chamber
        ("exposure_seconds", "30", "outside this treatment's 60-180 seconds"),
        ("exposure_seconds", None, "required"),
        ("temperature_c", "-250", "outside the device's range of -200.0 to -100.0"),
        ("temperature_c", "-20", "outside the device's range"),
        ("temperature_c", None, "required"),
        ("bp_systolic", None, "required"),
        ("bp_diastolic", None, "required"),
        ("bp_systolic", "30", "not plausible"),
        ("bp_diastolic", "140", "not plausible"),  # diastolic above systolic 130
        ("unchanged_since_screening", None, "do not start the session"),
        ("duration_minutes", "2", "shorter than the exposure"),
    ],
)
def test_whole_body_cryotherapy_implausible_reading_is_a_field_error(wbc_appointment, field, value, message):
    form = _form(wbc_appointment, **{field: value})
    assert not form.is_valid()
    assert message in " ".join(form.errors[field])


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("body_area", "", "required"),
        ("resource", "", "required"),
        ("temperature_c", "-170", "outside the device's range of -160.0 to 0.0"),
        ("temperature_c", "15", "outside the device's range"),
        ("exposure_seconds", "1200", "is applied for 60-180 seconds; 1200 seconds is outside that"),
        ("exposure_seconds", "abc", "whole number"),
    ],
)
def test_localized_cryotherapy_implausible_reading_is_a_field_error(local_appointment, field, value, message):
    form = _form(local_appointment, **{field: value})
    assert not form.is_valid()
    assert message in " ".join(form.errors[field])


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("points_used", "", "required"),
        ("needle_count", "0", "greater than or equal to 1"),
        ("needle_count", "200", "less than or equal to 60"),
        ("needle_count", "", "required"),
        ("exposure_seconds", "60", "Needle retention of 60 minutes is outside this treatment's 20-30 minutes"),
        ("exposure_seconds", "5", "outside this treatment's 20-30 minutes"),
        ("electro_stimulation", "", "required"),
        ("electro_stimulation", "maybe", "valid choice"),
    ],
)
def test_acupuncture_implausible_reading_is_a_field_error(acupuncture_appointment, field, value, message):
    form = _form(acupuncture_appointment, **{field: value})
    assert not form.is_valid()
    assert message in " ".join(form.errors[field])


def test_blood_pressure_above_the_clinic_limit_blocks_the_whole_body_session(wbc_appointment):
    form = _form(wbc_appointment, bp_systolic="172", bp_diastolic="95")
    assert not form.is_valid()
    assert "above the clinic's limit of 160/100" in form.errors["bp_systolic"][0]
    assert "do not start the session" in form.errors["bp_systolic"][0]


def test_diastolic_pressure_above_the_limit_also_blocks(wbc_appointment):
    form = _form(wbc_appointment, bp_systolic="150", bp_diastolic="105")
    assert not form.is_valid()
    assert "above the clinic's limit" in form.errors["bp_diastolic"][0]


def test_acupuncture_retention_is_entered_in_minutes_and_stored_in_seconds(acupuncture_appointment):
    form = _form(acupuncture_appointment, exposure_seconds="25")
    assert form.is_valid(), form.errors
    assert form.clinical_values()["exposure_seconds"] == 25 * 60
