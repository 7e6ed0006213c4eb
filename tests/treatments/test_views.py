"""The pages: who may log, who sees what, and what a practitioner and a patient see."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse

from bookings.models import Appointment
from tests.screening.factories import screening_cleared
from tests.treatments.factories import appointment_create, session_logged, valid_post
from treatments.models import Amendment, SessionLog


def _no_inline_style_or_script(html: str) -> None:
    assert not re.search(r"\sstyle=", html)
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html)


@pytest.fixture
def wbc_appointment(patient, practitioner, wbc):
    return appointment_create(patient=patient, practitioner=practitioner, modality=wbc)


def test_practitioner_logs_a_whole_body_session_from_the_appointment(practitioner_client, wbc_appointment):
    url = reverse("treatments:log_create", args=[wbc_appointment.pk])
    page = practitioner_client.get(url)
    assert page.status_code == 200
    html = page.content.decode()
    assert wbc_appointment.patient.full_name in html
    assert 'value="15"' in html  # planned duration pre-filled
    assert "Chamber temperature" in html
    _no_inline_style_or_script(html)

    data = valid_post(wbc_appointment.modality) | {
        "sign": "1",
        "events-0-kind": "redness",
        "events-0-severity": "mild",
        "events-0-action_taken": "Observed, settled in 10 minutes",
    }
    response = practitioner_client.post(url, data)
    log = SessionLog.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("treatments:log_detail", args=[log.pk])
    assert log.is_signed
    assert [event.kind for event in log.adverse_events.all()] == ["redness"]
    wbc_appointment.refresh_from_db()
    assert wbc_appointment.status == Appointment.Status.ATTENDED


def test_practitioner_logs_an_acupuncture_session(practitioner_client, patient, practitioner, acupuncture_initial):
    appointment = appointment_create(patient=patient, practitioner=practitioner, modality=acupuncture_initial)
    response = practitioner_client.post(
        reverse("treatments:log_create", args=[appointment.pk]),
        valid_post(acupuncture_initial, exposure_seconds="25", electro_stimulation="yes"),
    )
    assert response.status_code == 302
    log = SessionLog.objects.get()
    assert (log.exposure_seconds, log.electro_stimulation, log.is_signed) == (1500, True, False)


def test_blood_pressure_block_is_shown_and_nothing_is_stored(practitioner_client, wbc_appointment):
    response = practitioner_client.post(
        reverse("treatments:log_create", args=[wbc_appointment.pk]),
        valid_post(wbc_appointment.modality, bp_systolic="182", bp_diastolic="104", sign="1"),
    )
    assert response.status_code == 400
    assert "above the clinic&#x27;s limit of 160/100" in response.content.decode()
    assert not SessionLog.objects.exists()
    wbc_appointment.refresh_from_db()
    assert wbc_appointment.status == Appointment.Status.BOOKED


def test_an_incomplete_adverse_event_row_is_a_field_error(practitioner_client, wbc_appointment):
    response = practitioner_client.post(
        reverse("treatments:log_create", args=[wbc_appointment.pk]),
        valid_post(wbc_appointment.modality) | {"events-0-kind": "other", "events-0-severity": "mild"},
    )
    assert response.status_code == 400
    assert not SessionLog.objects.exists()


def test_patients_cannot_log_sessions(patient_client, wbc_appointment):
    url = reverse("treatments:log_create", args=[wbc_appointment.pk])
    assert patient_client.get(url).status_code == 403
    assert patient_client.post(url, valid_post(wbc_appointment.modality)).status_code == 403
    assert not SessionLog.objects.exists()


def test_anonymous_visitors_are_sent_to_log_in(client, wbc_appointment):
    response = client.get(reverse("treatments:log_create", args=[wbc_appointment.pk]))
    assert response.status_code == 302
    assert reverse("login") in response["Location"]


def test_admin_may_log_a_session(admin_user, wbc_appointment):
    client = Client()
    client.force_login(admin_user)
    response = client.post(
        reverse("treatments:log_create", args=[wbc_appointment.pk]), valid_post(wbc_appointment.modality)
    )
    assert response.status_code == 302
    assert SessionLog.objects.get().recorded_by == admin_user


def test_amending_a_signed_log_through_the_page_needs_a_reason_and_keeps_history(
    practitioner_client, patient, practitioner, wbc
):
    log = session_logged(patient=patient, practitioner=practitioner, modality=wbc, pain_after=4)
    url = reverse("treatments:log_amend", args=[log.pk])
    assert practitioner_client.get(url).status_code == 200
    without_reason = practitioner_client.post(url, valid_post(wbc, pain_after="2"))
    assert without_reason.status_code == 400
    assert "reason" in without_reason.context["form"].errors
    response = practitioner_client.post(url, valid_post(wbc, pain_after="2", reason="Re-rated after 5 minutes"))
    assert response.status_code == 302
    amendment = Amendment.objects.get()
    assert amendment.previous_values["fields"]["pain_after"] == 4
    detail = practitioner_client.get(reverse("treatments:log_detail", args=[log.pk])).content.decode()
    assert "Re-rated after 5 minutes" in detail


def test_patient_sees_own_history_and_progress(patient_client, patient, practitioner, wbc):
    log = session_logged(patient=patient, practitioner=practitioner, modality=wbc, pain_before=7, pain_after=5)
    progress = patient_client.get(reverse("treatments:my_progress"))
    assert progress.status_code == 200
    html = progress.content.decode()
    assert "<svg" in html
    assert "<table" in html
    _no_inline_style_or_script(html)
    assert patient_client.get(reverse("treatments:log_detail", args=[log.pk])).status_code == 200


def test_patient_gets_404_for_another_patients_log(patient_client, other_patient, practitioner, wbc):
    log = session_logged(patient=other_patient, practitioner=practitioner, modality=wbc)
    assert patient_client.get(reverse("treatments:log_detail", args=[log.pk])).status_code == 404


def test_patient_progress_does_not_show_other_patients_sessions(patient_client, other_patient, practitioner, wbc):
    session_logged(patient=other_patient, practitioner=practitioner, modality=wbc, subjective="Secret note")
    html = patient_client.get(reverse("treatments:my_progress")).content.decode()
    assert "No sessions logged yet" in html
    assert "Secret note" not in html


def test_patients_cannot_open_a_patient_chart_or_amend(patient_client, patient, practitioner, wbc):
    log = session_logged(patient=patient, practitioner=practitioner, modality=wbc)
    assert patient_client.get(reverse("treatments:patient_chart", args=[patient.pk])).status_code == 403
    assert patient_client.get(reverse("treatments:log_amend", args=[log.pk])).status_code == 403


def test_patient_chart_shows_screening_plan_sessions_adverse_events_and_outcome(
    practitioner_client, patient, practitioner, wbc, acupuncture_initial
):
    session_logged(
        patient=patient, practitioner=practitioner, modality=wbc,
        adverse_events=[{"kind": "frostbite", "severity": "moderate", "action_taken": "Referred to GP"}],
    )  # fmt: skip
    session_logged(patient=patient, practitioner=practitioner, modality=acupuncture_initial)
    unlogged = appointment_create(patient=patient, practitioner=practitioner, modality=wbc)
    response = practitioner_client.get(reverse("treatments:patient_chart", args=[patient.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    for heading in ("Screening", "Care plan", "Pain over time", "Adverse events", "Sessions"):
        assert heading in html
    assert "Frostbite" in html
    assert "Referred to GP" in html
    assert "Whole-body cryotherapy" in html
    assert "Acupuncture" in html
    assert reverse("treatments:log_create", args=[unlogged.pk]) in html
    _no_inline_style_or_script(html)


def test_unknown_patient_chart_is_404(practitioner_client, db):
    assert practitioner_client.get(reverse("treatments:patient_chart", args=[99999])).status_code == 404


def test_logged_appointment_link_leads_to_the_existing_log(practitioner_client, patient, practitioner, wbc):
    log = session_logged(patient=patient, practitioner=practitioner, modality=wbc)
    response = practitioner_client.get(reverse("treatments:log_create", args=[log.appointment_id]))
    assert response.status_code == 302
    assert response["Location"] == reverse("treatments:log_detail", args=[log.pk])


def test_menu_links_depend_on_the_role(patient_client, practitioner_client):
    assert reverse("treatments:my_progress") in patient_client.get(reverse("home")).content.decode()
    assert reverse("treatments:report") in practitioner_client.get(reverse("home")).content.decode()


def test_admin_offers_no_delete_for_clinical_records(admin_user, patient, practitioner, wbc):
    log = session_logged(patient=patient, practitioner=practitioner, modality=wbc)
    client = Client()
    client.force_login(admin_user)
    assert client.get(reverse("admin:treatments_sessionlog_change", args=[log.pk])).status_code == 200
    assert client.get(reverse("admin:treatments_sessionlog_delete", args=[log.pk])).status_code == 403
    assert client.get(reverse("admin:treatments_sessionlog_changelist")).status_code == 200
    assert client.get(reverse("admin:treatments_amendment_changelist")).status_code == 200
    assert client.get(reverse("admin:treatments_adverseevent_changelist")).status_code == 200
    assert SessionLog.objects.filter(pk=log.pk).exists()


def test_log_form_warns_when_the_screening_is_not_cleared(practitioner_client, wbc_appointment):
    html = practitioner_client.get(reverse("treatments:log_create", args=[wbc_appointment.pk])).content.decode()
    assert "Do not treat until the screening is cleared" in html


def test_log_form_has_no_screening_warning_for_a_cleared_patient(practitioner_client, wbc_appointment):
    screening_cleared(patient=wbc_appointment.patient)
    html = practitioner_client.get(reverse("treatments:log_create", args=[wbc_appointment.pk])).content.decode()
    assert "Do not treat until the screening is cleared" not in html


def test_staff_reads_and_logs_are_attributable_in_the_audit_trail(practitioner_client, practitioner, wbc_appointment):
    from clinic.models import AuditEvent

    patient = wbc_appointment.patient
    practitioner_client.get(reverse("treatments:patient_chart", args=[patient.pk]))
    practitioner_client.post(
        reverse("treatments:log_create", args=[wbc_appointment.pk]), valid_post(wbc_appointment.modality)
    )
    actions = set(AuditEvent.objects.filter(patient=patient, actor=practitioner.user).values_list("action", flat=True))
    assert {"view", "create"} <= actions
