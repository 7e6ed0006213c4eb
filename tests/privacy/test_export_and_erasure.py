"""A patient downloads all their data, and deletes their account."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from datetime import timedelta
from pathlib import Path

import pytest
import time_machine
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from bookings.models import Appointment, CalendarFeed, CarePlan
from clinic.models import AuditEvent, Patient
from notifications.models import Reminder
from notifications.services import reminder_deliver, reminders_dispatch_due
from privacy.services import erased_patients_past_retention
from screening.models import Consent, Submission
from tests.factories import PASSWORD
from tests.security.world import A_CLINICAL, A_EMAIL, A_NAME, World
from treatments.models import SessionLog

pytestmark = pytest.mark.django_db


def _archive(client: Client) -> zipfile.ZipFile:
    response = client.get(reverse("privacy:export"))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    assert "attachment" in response["Content-Disposition"]
    return zipfile.ZipFile(io.BytesIO(response.content))


def test_export_is_one_zip_with_json_and_a_csv_per_table(client_a: Client) -> None:
    names = set(_archive(client_a).namelist())
    assert {
        "README.txt",
        "data.json",
        "profile.csv",
        "screenings.csv",
        "screening_answers.csv",
        "consents.csv",
    } <= names
    assert {"appointments.csv", "care_plans.csv", "session_logs.csv", "adverse_events.csv", "reminders.csv"} <= names


def test_export_json_has_the_patients_appointments_logs_and_screening_answers(client_a: Client, world: World) -> None:
    data = json.loads(_archive(client_a).read("data.json"))
    assert data["profile"]["email"] == A_EMAIL
    appointment_times = {row["starts_at"] for row in data["appointments"]}
    assert timezone.localtime(world.appointment_a.starts_at).isoformat() in appointment_times
    assert len(data["appointments"]) == Appointment.objects.filter(patient=world.patient_a).count()
    assert [log["id"] for log in data["session_logs"]] == [world.log_a.pk]
    assert A_CLINICAL in data["session_logs"][0]["subjective"]
    assert data["session_logs"][0]["pain_before"] == 6
    assert data["screenings"][0]["answers"], "the answers of the screening are in the export"
    assert {"question", "answer"} <= set(data["screenings"][0]["answers"][0])
    assert len(data["consents"]) == Consent.objects.filter(patient=world.patient_a).count() > 0
    assert data["reminders"], "the planned reminder is listed"


def test_export_contains_no_other_patients_data(client_a: Client, world: World) -> None:
    archive = _archive(client_a)
    everything = "".join(archive.read(name).decode("utf-8") for name in archive.namelist())
    assert world.patient_b.user.email not in everything
    assert world.patient_b.user.last_name not in everything
    assert "B's own note" not in everything
    sessions = list(csv.DictReader(io.StringIO(archive.read("session_logs.csv").decode("utf-8"))))
    assert [row["id"] for row in sessions] == [str(world.log_a.pk)]


def test_export_is_audited(client_a: Client, world: World) -> None:
    _archive(client_a)
    event = AuditEvent.objects.get(action=AuditEvent.Action.EXPORT, patient=world.patient_a)
    assert event.actor == world.patient_a.user


def test_staff_cannot_use_the_patients_export(world: World) -> None:
    client = Client()
    client.force_login(world.unrelated.user)
    assert client.get(reverse("privacy:export")).status_code in (302, 403)


def _delete(client: Client, password: str = PASSWORD):
    return client.post(reverse("privacy:delete"), {"password": password, "understood": "on"})


def test_account_deletion_needs_the_password(client_a: Client, world: World) -> None:
    response = _delete(client_a, password="not my password")
    assert response.status_code == 400
    assert "That is not your password." in response.content.decode()
    world.patient_a.user.refresh_from_db()
    assert world.patient_a.user.is_active


def test_account_deletion_cancels_future_appointments_and_reminders_and_anonymises(
    client_a: Client, world: World
) -> None:
    response = _delete(client_a)
    assert response.status_code == 302
    patient = Patient.objects.select_related("user").get(pk=world.patient_a.pk)
    user = patient.user
    assert not user.is_active
    assert not user.has_usable_password()
    assert user.email.endswith("@erased.invalid")
    assert A_EMAIL not in user.email
    assert user.get_full_name() != A_NAME
    assert patient.phone == ""
    assert patient.emergency_contact_name == ""
    assert patient.date_of_birth.month == 1
    assert patient.date_of_birth.day == 1
    assert patient.date_of_birth.year == 1980
    assert not patient.history.filter(phone=world.patient_a.phone).exists(), "old phone gone from the history"

    world.appointment_a.refresh_from_db()
    assert world.appointment_a.status == Appointment.Status.CANCELLED
    assert not Reminder.objects.filter(patient=patient, state=Reminder.State.PENDING).exists()
    assert not CarePlan.objects.filter(patient=patient).active().exists()
    assert not CalendarFeed.objects.filter(patient=patient).exists()
    # Other patients are untouched.
    world.appointment_b.refresh_from_db()
    assert world.appointment_b.status == Appointment.Status.BOOKED


def test_clinical_records_are_kept_after_deletion(client_a: Client, world: World) -> None:
    _delete(client_a)
    assert SessionLog.objects.filter(pk=world.log_a.pk, subjective__contains=A_CLINICAL).exists()
    assert Submission.objects.filter(patient=world.patient_a).exists()
    assert Consent.objects.filter(patient=world.patient_a).exists()


def _recipients_when_the_reminder_is_due(world: World) -> set[str]:
    """Run the reminder dispatch at the moment A's upcoming-appointment reminder falls due."""
    mail.outbox.clear()
    with time_machine.travel(world.reminder_a.due_at + timedelta(minutes=1), tick=False):
        for reminder_id in reminders_dispatch_due():
            reminder_deliver(reminder_id=reminder_id)
    return {address for message in mail.outbox for address in message.to}


def test_without_deletion_the_reminder_would_reach_patient_a(world: World) -> None:
    assert A_EMAIL in _recipients_when_the_reminder_is_due(world)


def test_no_reminder_reaches_the_old_address_after_deletion(client_a: Client, world: World) -> None:
    _delete(client_a)
    recipients = _recipients_when_the_reminder_is_due(world)
    assert A_EMAIL not in recipients
    assert not any(address.endswith("erased.invalid") for address in recipients)


def test_the_deleted_account_cannot_log_in(client_a: Client, world: World) -> None:
    _delete(client_a)
    assert client_a.get(reverse("bookings:appointment_list")).status_code == 302, "logged out"
    client = Client()
    response = client.post(reverse("login"), {"username": A_EMAIL, "password": PASSWORD})
    assert response.status_code == 200  # the form again, with an error
    assert "_auth_user_id" not in client.session


def test_deletion_is_audited_and_found_by_the_retention_check(client_a: Client, world: World, settings) -> None:
    _delete(client_a)
    event = AuditEvent.objects.get(action=AuditEvent.Action.DELETE, patient=world.patient_a)
    assert event.target_type == "clinic.patient"
    assert "kept until" in event.description
    assert erased_patients_past_retention() == []
    later = timezone.localdate() + timedelta(days=365 * settings.CLINIC_RECORD_RETENTION_YEARS + 30)
    assert [patient.pk for patient, _ in erased_patients_past_retention(today=later)] == [world.patient_a.pk]


def test_deletion_is_refused_while_an_appointment_is_inside_the_cancellation_cutoff(world: World) -> None:
    soon = timezone.now() + timedelta(hours=2)
    world.appointment_a.place(modality=world.modality, starts_at=soon)
    world.appointment_a.save()
    client = Client()
    client.force_login(world.patient_a.user)
    response = _delete(client)
    assert response.status_code == 409
    assert "too close to cancel online" in response.content.decode()
    world.patient_a.user.refresh_from_db()
    assert world.patient_a.user.is_active
    assert world.patient_a.user.email == A_EMAIL


def test_profile_page_leads_to_download_and_deletion(client_a: Client) -> None:
    profile = client_a.get(reverse("profile")).content.decode()
    assert f'href="{reverse("privacy:overview")}"' in profile
    overview = client_a.get(reverse("privacy:overview")).content.decode()
    assert reverse("privacy:export") in overview
    assert reverse("privacy:delete") in overview


def test_staff_profile_page_has_no_patient_data_link(world: World) -> None:
    client = Client()
    client.force_login(world.related.user)
    assert "/privacy/" not in client.get(reverse("profile")).content.decode()


def test_clinic_templates_name_no_privacy_page() -> None:
    """clinic sits below privacy: its pages reach privacy only through the settings (composition root)."""
    templates = Path(__file__).resolve().parents[2] / "templates" / "clinic"
    assert not [path.name for path in templates.rglob("*.html") if "privacy:" in path.read_text()]
