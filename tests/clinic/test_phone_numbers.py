"""Phone numbers are validated at every form and stored in E.164, read in the clinic's region."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.urls import reverse

from clinic.models import Patient, User
from tests.clinic.test_accounts import REGISTRATION
from tests.factories import AdminFactory, FrontDeskFactory, PatientFactory

INVALID_MESSAGE = "Enter a valid phone number"
ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.django_db
@pytest.mark.parametrize("value", ["12345", "+44 1234", "call me", "07911 12345678901"])
@pytest.mark.parametrize("field", ["phone", "emergency_contact_phone"])
def test_registration_refuses_an_invalid_number_with_a_clear_message(client, field, value):
    response = client.post(reverse("register"), {**REGISTRATION, field: value})
    assert response.status_code == 200
    [error] = response.context["form"].errors[field]
    assert error.startswith(INVALID_MESSAGE)
    assert "international call prefix" in error
    assert not User.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("typed", "stored"),
    [("07911 123456", "+447911123456"), ("+353 85 123 4567", "+353851234567"), ("020 7946 0123", "+442079460123")],
)
def test_a_number_typed_nationally_or_internationally_is_stored_in_e164(client, typed, stored):
    client.post(reverse("register"), {**REGISTRATION, "phone": typed})
    assert Patient.objects.get().phone == stored


def test_the_clinic_region_comes_from_the_environment_and_reads_numbers_without_a_country_code():
    code = (
        "import django, os; os.environ['DJANGO_SETTINGS_MODULE'] = 'clinic.settings'; django.setup();"
        "from django.conf import settings; from clinic.forms import PatientRegistrationForm;"
        "field = PatientRegistrationForm().fields['phone'];"
        "print(settings.PHONENUMBER_DEFAULT_REGION, field.clean('085 123 4567').as_e164)"
    )
    env = {**os.environ, "CLINIC_PHONE_REGION": "ie", "DJANGO_DEBUG": "true"}
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True)  # noqa: S603
    assert result.stdout.split() == ["IE", "+353851234567"]


@pytest.mark.django_db
def test_the_profile_form_refuses_an_invalid_number_and_keeps_the_old_one(client):
    patient = PatientFactory(phone="+447911123456")
    client.force_login(patient.user)
    response = client.post(
        reverse("profile_edit"),
        {"first_name": "A", "last_name": "B", "phone": "555", "message_channels": "sms", "appointment_reminders": "on"},
    )
    assert response.status_code == 200
    assert str(response.context["form"].errors["phone"][0]).startswith(INVALID_MESSAGE)
    patient.refresh_from_db()
    assert patient.phone == "+447911123456"
    assert patient.message_channels == Patient.MessageChannels.EMAIL


@pytest.mark.django_db
def test_the_profile_shows_the_number_and_how_messages_travel(client):
    patient = PatientFactory(phone="+447911123456", message_channels=Patient.MessageChannels.BOTH)
    client.force_login(patient.user)
    page = client.get(reverse("profile")).content.decode()
    assert "+44 7911 123456" in page
    assert "Email and text message" in page


@pytest.mark.django_db
def test_the_admin_refuses_an_invalid_number(client):
    patient = PatientFactory(phone="+447911123456")
    client.force_login(AdminFactory(is_superuser=True))
    url = reverse("admin:clinic_patient_change", args=[patient.pk])
    form = client.get(url).context["adminform"].form
    data = {name: form[name].value() for name in form.fields if form[name].value() is not None}
    data |= {"phone": "not a number", "user": patient.user.pk, "date_of_birth": "1980-01-01"}
    response = client.post(url, data)
    assert response.status_code == 200
    assert str(response.context["adminform"].form.errors["phone"][0]).startswith(INVALID_MESSAGE)
    patient.refresh_from_db()
    assert patient.phone == "+447911123456"


BEFORE = [("clinic", "0011_patient_search_and_phone_only_patients")]
AFTER = [("clinic", "0013_patient_phone_numbers_and_message_channels")]


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_migration_rewrites_readable_numbers_in_e164_and_keeps_unreadable_ones_as_typed(client):
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    old_apps = executor.loader.project_state(BEFORE).apps
    OldUser, OldPatient = old_apps.get_model("clinic", "User"), old_apps.get_model("clinic", "Patient")
    rows = {
        "national": ("07911 123456", "", "+447911123456", ""),
        "spaced": ("+44 (0)20 7946 0123", "07911 123457", "+442079460123", "+447911123457"),
        "garbage": ("ring the desk", "n/a", "ring the desk", "n/a"),
        "drama": ("07700 900123", "", "07700 900123", ""),
    }
    for name, (phone, emergency, _, _) in rows.items():
        user = OldUser.objects.create(email=f"{name}@example.com", role="patient", password="!")
        OldPatient.objects.create(user=user, date_of_birth="1980-01-01", phone=phone, emergency_contact_phone=emergency)

    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(AFTER)
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())

    for name, (_, _, phone, emergency) in rows.items():
        stored = Patient.objects.values("phone", "emergency_contact_phone").get(user__email=f"{name}@example.com")
        assert stored == {"phone": phone, "emergency_contact_phone": emergency}, name
    # The admin lists the numbers a person must fix.
    client.force_login(AdminFactory(is_superuser=True))
    response = client.get(reverse("admin:clinic_patient_changelist"), {"phone_number": "needs_fixing"})
    listed = {patient.user.email for patient in response.context["cl"].result_list}
    assert listed == {"garbage@example.com", "drama@example.com"}


@pytest.mark.django_db
def test_the_front_desk_registration_refuses_an_invalid_number_and_stores_a_valid_one_in_e164(client):
    client.force_login(FrontDeskFactory())
    data = {"first_name": "Kim", "last_name": "Lee", "email": "kim@example.com", "date_of_birth": "1970-02-03"}
    url = reverse("bookings:desk_patient_register")
    refused = client.post(url, {**data, "phone": "0791"})
    assert refused.status_code == 200
    assert str(refused.context["form"].errors["phone"][0]).startswith(INVALID_MESSAGE)
    assert client.post(url, {**data, "phone": "07911 123456"}).status_code == 302
    assert Patient.objects.get(user__email="kim@example.com").phone == "+447911123456"
