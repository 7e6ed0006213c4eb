from __future__ import annotations

import re

import pytest
from django.core import mail
from django.urls import reverse

from clinic.models import Patient, Role, User
from clinic.two_factor import two_factor_required
from tests.factories import PASSWORD, AdminFactory, PatientFactory, PractitionerFactory

pytestmark = pytest.mark.django_db

REGISTRATION = {
    "first_name": "Alex",
    "last_name": "Moreno",
    "email": "Alex.Moreno@Example.com",
    "date_of_birth": "1985-03-02",
    "phone": "07911 123456",
    "emergency_contact_name": "Sam Moreno",
    "emergency_contact_phone": "+44 7911 123457",
    "password1": "a-long-unusual-passphrase",
    "password2": "a-long-unusual-passphrase",
}


def _link_in_last_email(to: str) -> str:
    (message,) = [m for m in mail.outbox if to in m.to]
    return re.search(r"https?://[^/\s]+(/\S+)", message.body).group(1)


def test_new_patient_registers_confirms_their_email_and_is_logged_in(client):
    response = client.post(reverse("register"), REGISTRATION, follow=True)

    assert response.status_code == 200
    assert "Check your email" in response.content.decode()
    assert not response.context["user"].is_authenticated
    patient = Patient.objects.get(user__email="alex.moreno@example.com")
    assert patient.user.role == Role.PATIENT
    assert not patient.user.is_staff
    assert patient.phone == "+447911123456", "typed in the national form, stored in E.164"
    assert patient.emergency_contact_phone == "+447911123457"

    confirmed = client.get(_link_in_last_email("alex.moreno@example.com"), follow=True)

    assert confirmed.context["user"] == patient.user
    assert "Hello, Alex" in confirmed.content.decode()


def test_an_unconfirmed_account_cannot_log_in_until_the_link_is_opened(client):
    client.post(reverse("register"), REGISTRATION)
    credentials = {"username": "alex.moreno@example.com", "password": REGISTRATION["password1"]}

    refused = client.post(reverse("login"), credentials)
    assert "confirm your email address" in refused.content.decode()
    assert not refused.wsgi_request.user.is_authenticated

    link = _link_in_last_email("alex.moreno@example.com")
    client.get(link)
    client.post(reverse("logout"))
    assert client.post(reverse("login"), credentials).status_code == 302
    # The link works once.
    client.post(reverse("logout"))
    assert not client.get(link, follow=True).context["user"].is_authenticated


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("date_of_birth", "2999-01-01", "cannot be in the future"),
        ("email", "not-an-email", "valid email"),
        ("password2", "something-else-entirely", "passwords differ"),
        ("password1", "123", "too short"),
        ("first_name", "", "required"),
    ],
)
def test_registration_with_bad_input_shows_field_error_and_stores_nothing(client, field, value, message):
    data = {**REGISTRATION, field: value}
    if field == "password1":
        data["password2"] = value

    response = client.post(reverse("register"), data)

    assert response.status_code == 200
    assert message in str(response.context["form"].errors[field])
    assert not User.objects.exists()


@pytest.mark.parametrize("existing", [PatientFactory, PractitionerFactory])
def test_registering_an_address_in_use_answers_as_for_a_new_one_and_warns_the_owner(client, existing):
    owner = existing(user__email="alex.moreno@example.com").user
    fresh = client.post(reverse("register"), {**REGISTRATION, "email": "nobody.yet@example.com"}, follow=True)
    mail.outbox.clear()

    taken = client.post(reverse("register"), REGISTRATION, follow=True)

    assert taken.status_code == fresh.status_code == 200
    assert taken.redirect_chain == fresh.redirect_chain
    assert "already exists" not in taken.content.decode()
    assert "Check your email" in taken.content.decode()
    assert User.objects.filter(email="alex.moreno@example.com").count() == 1
    (warning,) = mail.outbox
    assert warning.to == [owner.email]
    assert "tried to create an account" in warning.body
    owner.refresh_from_db()
    assert owner.check_password(PASSWORD)


def test_login_is_by_email_address_in_any_case(client):
    patient = PatientFactory(user__email="kim@example.com")

    response = client.post(reverse("login"), {"username": "KIM@example.com", "password": PASSWORD}, follow=True)

    assert response.context["user"] == patient.user


def test_wrong_password_does_not_log_in(client):
    PatientFactory(user__email="kim@example.com")

    response = client.post(reverse("login"), {"username": "kim@example.com", "password": "wrong"})

    assert response.status_code == 200
    assert not response.context["user"].is_authenticated
    assert "correct email address and password" in response.content.decode()


def test_logout_ends_the_session(client):
    patient = PatientFactory()
    client.force_login(patient.user)

    client.post(reverse("logout"))

    assert client.get(reverse("profile")).status_code == 302


def test_password_reset_mails_a_link_that_sets_a_new_password(client):
    patient = PatientFactory(user__email="kim@example.com")

    client.post(reverse("password_reset"), {"email": "kim@example.com"})

    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["kim@example.com"]
    link = re.search(r"http://testserver(/accounts/password/reset/\S+/)", mail.outbox[0].body).group(1)
    form_page = client.get(link, follow=True)
    client.post(
        form_page.redirect_chain[-1][0],
        {"new_password1": "brand-new-passphrase-42", "new_password2": "brand-new-passphrase-42"},
    )
    patient.user.refresh_from_db()
    assert patient.user.check_password("brand-new-passphrase-42")


def test_password_reset_for_an_unknown_address_sends_nothing_and_reveals_nothing(client):
    response = client.post(reverse("password_reset"), {"email": "nobody@example.com"}, follow=True)

    assert "If an account uses that address" in response.content.decode()
    assert mail.outbox == []


def test_patient_edits_own_profile_and_reminder_preferences(client):
    patient = PatientFactory()
    client.force_login(patient.user)

    client.post(
        reverse("profile_edit"),
        {
            "first_name": "Renamed",
            "last_name": "Person",
            "phone": "020 7946 0123",
            "emergency_contact_name": "",
            "emergency_contact_phone": "",
            "message_channels": "both",
            "appointment_reminders": "on",
        },
    )

    patient.refresh_from_db()
    assert patient.user.first_name == "Renamed"
    assert patient.appointment_reminders is True
    assert patient.rebooking_nudges is False
    assert patient.phone == "+442079460123"
    assert patient.message_channels == Patient.MessageChannels.BOTH


def test_patient_cannot_reach_the_django_admin(client):
    patient = PatientFactory()
    client.force_login(patient.user)

    response = client.get(reverse("admin:index"))

    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


def test_practitioner_cannot_reach_the_django_admin(client):
    practitioner = PractitionerFactory()
    client.force_login(practitioner.user)

    assert client.get(reverse("admin:clinic_modality_changelist")).status_code == 302


def test_clinic_admin_manages_the_catalogue_in_the_django_admin(client):
    admin = AdminFactory()
    client.force_login(admin)

    assert client.get(reverse("admin:clinic_modality_changelist")).status_code == 200
    assert client.get(reverse("admin:django_celery_beat_periodictask_changelist")).status_code == 200
    assert admin.has_perm("clinic.change_modality")
    assert not admin.is_superuser


def test_practitioner_permissions_cover_clinical_records_but_not_the_catalogue():
    practitioner = PractitionerFactory()
    user = User.objects.get(pk=practitioner.user.pk)  # fresh instance: permissions are cached

    assert not user.has_perm("clinic.change_modality")
    assert not user.has_perm("clinic.view_user")


def test_patient_has_no_model_permissions():
    patient = PatientFactory()

    assert not patient.user.get_all_permissions()


def test_profile_page_needs_login(client):
    response = client.get(reverse("profile"))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize(
    ("make_user", "is_staff"),
    [
        (lambda: PatientFactory().user, False),
        (lambda: PractitionerFactory().user, True),
        (lambda: AdminFactory(), True),
        (lambda: User.objects.create_user(email="desk@example.com", role=Role.PATIENT, is_staff=True), True),
    ],
)
def test_staff_need_two_factor_including_a_patient_account_given_admin_access(settings, make_user, is_staff):
    """``User.is_clinic_staff`` is the one definition (audit, two-factor, booking changes past the cut-off)."""
    settings.CLINIC_STAFF_2FA_REQUIRED = True
    user = make_user()
    assert user.is_clinic_staff is is_staff
    assert two_factor_required(user=user) is is_staff
