"""Writing session logs: attended appointments, signing, amendments, no deletion, DB backstops."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from bookings.models import Appointment
from tests.factories import care_team_join
from tests.treatments.factories import appointment_create, session_logged, valid_values
from treatments.models import AdverseEvent, Amendment, ClinicalRecordDeletion, SafetyThresholds, SessionLog
from treatments.services import SessionLogRefused, session_log_create, session_log_sign, session_log_update


def test_logging_a_session_marks_the_appointment_attended(patient, practitioner, wbc):
    appointment = appointment_create(patient=patient, practitioner=practitioner, modality=wbc)
    log = session_log_create(appointment=appointment, by=practitioner.user, values=valid_values(wbc))
    appointment.refresh_from_db()
    assert appointment.status == Appointment.Status.ATTENDED
    assert (log.patient, log.practitioner, log.modality, log.kind) == (patient, practitioner, wbc, "wbc")


def test_implausible_log_stores_nothing_and_leaves_the_appointment_booked(patient, practitioner, wbc):
    appointment = appointment_create(patient=patient, practitioner=practitioner, modality=wbc)
    with pytest.raises(ValidationError) as refused:
        session_log_create(
            appointment=appointment, by=practitioner.user, values=valid_values(wbc, exposure_seconds=600),
            adverse_events=[{"kind": "redness", "severity": "mild", "action_taken": "Observed"}],
        )  # fmt: skip
    assert "exposure_seconds" in refused.value.error_dict
    appointment.refresh_from_db()
    assert appointment.status == Appointment.Status.BOOKED
    assert not SessionLog.objects.exists()
    assert not AdverseEvent.objects.exists()


def test_blood_pressure_above_the_clinic_threshold_blocks_the_whole_body_log(patient, practitioner, wbc):
    appointment = appointment_create(patient=patient, practitioner=practitioner, modality=wbc)
    with pytest.raises(ValidationError, match="above the clinic's limit of 160/100"):
        session_log_create(
            appointment=appointment, by=practitioner.user, values=valid_values(wbc, bp_systolic=175, bp_diastolic=90)
        )
    assert not SessionLog.objects.exists()


def test_admin_edited_blood_pressure_threshold_applies_to_the_next_log(patient, practitioner, wbc):
    SafetyThresholds.objects.filter(pk=1).update(wbc_systolic_max=140)
    appointment = appointment_create(patient=patient, practitioner=practitioner, modality=wbc)
    with pytest.raises(ValidationError, match="limit of 140/100"):
        session_log_create(appointment=appointment, by=practitioner.user, values=valid_values(wbc, bp_systolic=145))


def test_the_database_refuses_an_implausible_row_that_skipped_validation(patient, practitioner, wbc):
    log = session_logged(patient=patient, practitioner=practitioner, modality=wbc)
    for change in ({"pain_before": 11}, {"exposure_seconds": 600}, {"temperature_c": -20}, {"bp_systolic": 190}):
        with pytest.raises(IntegrityError), transaction.atomic():
            SessionLog.objects.filter(pk=log.pk).update(**change)


def test_a_cancelled_appointment_cannot_be_logged(patient, practitioner, wbc):
    appointment = appointment_create(
        patient=patient, practitioner=practitioner, modality=wbc, status=Appointment.Status.CANCELLED
    )
    care_team_join(patient=patient, practitioner=practitioner)  # a cancelled booking alone grants nothing
    with pytest.raises(SessionLogRefused, match="cancelled"):
        session_log_create(appointment=appointment, by=practitioner.user, values=valid_values(wbc))


def test_an_appointment_is_logged_once(patient, practitioner, wbc):
    log = session_logged(patient=patient, practitioner=practitioner, modality=wbc)
    with pytest.raises(SessionLogRefused, match="already logged"):
        session_log_create(appointment=log.appointment, by=practitioner.user, values=valid_values(wbc))


def test_a_session_on_a_later_day_cannot_be_logged_yet(patient, practitioner, wbc):
    appointment = appointment_create(
        patient=patient, practitioner=practitioner, modality=wbc, starts_at=timezone.now() + timedelta(days=2)
    )
    with pytest.raises(SessionLogRefused, match="later day"):
        session_log_create(appointment=appointment, by=practitioner.user, values=valid_values(wbc))


def test_a_draft_is_corrected_without_an_amendment(patient, practitioner, acupuncture_initial):
    log = session_logged(patient=patient, practitioner=practitioner, modality=acupuncture_initial, sign=False)
    session_log_update(log=log, by=practitioner.user, values={"needle_count": 10}, adverse_events=[])
    log.refresh_from_db()
    assert log.needle_count == 10
    assert not Amendment.objects.exists()


def test_amending_a_signed_log_keeps_the_earlier_version_who_and_why(patient, practitioner, other_patient, wbc):
    log = session_logged(
        patient=patient, practitioner=practitioner, modality=wbc, pain_after=4,
        adverse_events=[{"kind": "redness", "severity": "mild", "action_taken": "Observed, resolved"}],
    )  # fmt: skip
    editor = practitioner.user
    session_log_update(
        log=log,
        by=editor,
        values={"pain_after": 3},
        adverse_events=[{"kind": "numbness", "severity": "moderate", "description": "", "action_taken": "Warmed"}],
        reason="Patient re-rated after warming up",
    )
    log.refresh_from_db()
    assert log.pain_after == 3
    assert [event.kind for event in log.adverse_events.all()] == ["numbness"]
    amendment = log.amendments.get()
    assert amendment.changed_by == editor
    assert amendment.reason == "Patient re-rated after warming up"
    assert amendment.previous_values["fields"]["pain_after"] == 4
    assert amendment.previous_values["adverse_events"][0]["kind"] == "redness"
    assert set(amendment.changed_fields) == {"pain_after", "adverse_events"}


def test_second_amendment_keeps_both_earlier_versions(patient, practitioner, wbc):
    log = session_logged(patient=patient, practitioner=practitioner, modality=wbc, pain_after=4)
    session_log_update(log=log, by=practitioner.user, values={"pain_after": 3}, adverse_events=[], reason="First fix")
    session_log_update(log=log, by=practitioner.user, values={"pain_after": 2}, adverse_events=[], reason="Second fix")
    assert [a.previous_values["fields"]["pain_after"] for a in log.amendments.order_by("pk")] == [4, 3]


def test_amending_a_signed_log_needs_a_reason(patient, practitioner, wbc):
    log = session_logged(patient=patient, practitioner=practitioner, modality=wbc)
    with pytest.raises(SessionLogRefused, match="reason"):
        session_log_update(log=log, by=practitioner.user, values={"pain_after": 1}, adverse_events=[], reason="  ")
    log.refresh_from_db()
    assert log.pain_after == 4
    assert not Amendment.objects.exists()


def test_an_amendment_must_still_be_plausible(patient, practitioner, wbc):
    log = session_logged(patient=patient, practitioner=practitioner, modality=wbc)
    with pytest.raises(ValidationError):
        session_log_update(
            log=log, by=practitioner.user, values={"exposure_seconds": 900}, adverse_events=[], reason="Typo"
        )
    log.refresh_from_db()
    assert log.exposure_seconds == 150
    assert not Amendment.objects.exists()


def test_signing_records_who_signed_and_locks_later_changes_into_amendments(patient, practitioner, wbc):
    log = session_logged(patient=patient, practitioner=practitioner, modality=wbc, sign=False)
    session_log_sign(log=log, by=practitioner.user)
    log.refresh_from_db()
    assert log.is_signed
    assert log.signed_by == practitioner.user
    with pytest.raises(SessionLogRefused):
        session_log_update(log=log, by=practitioner.user, values={"pain_after": 1}, adverse_events=[])


def test_session_logs_adverse_events_and_amendments_cannot_be_deleted(patient, practitioner, wbc):
    log = session_logged(
        patient=patient, practitioner=practitioner, modality=wbc,
        adverse_events=[{"kind": "tingling", "severity": "mild", "action_taken": "Observed"}],
    )  # fmt: skip
    session_log_update(log=log, by=practitioner.user, values={"pain_after": 2}, adverse_events=[], reason="Re-rated")
    with pytest.raises(ClinicalRecordDeletion):
        log.delete()
    with pytest.raises(ClinicalRecordDeletion):
        SessionLog.objects.all().delete()
    with pytest.raises(ClinicalRecordDeletion):
        Amendment.objects.all().delete()
    with pytest.raises(ClinicalRecordDeletion):
        log.amendments.get().delete()
    with pytest.raises(ClinicalRecordDeletion):
        AdverseEvent.objects.all().delete()
    assert SessionLog.objects.count() == 1


def test_the_appointment_of_a_logged_session_cannot_be_deleted(patient, practitioner, wbc):
    from django.db.models import ProtectedError

    log = session_logged(patient=patient, practitioner=practitioner, modality=wbc)
    with pytest.raises(ProtectedError):
        log.appointment.delete()
