"""Nobody widens their own access in the Django admin, and a password alone enrols no authenticator.

The probe: a clinic admin who is not a superuser ticked ``is_superuser`` on their own
account, then created two-factor devices and set passwords for other staff.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.urls import reverse
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from clinic.models import Role, TwoFactorEnrolment, User
from tests.factories import AdminFactory, PractitionerFactory, verified_login
from tests.security.factories import current_code

pytestmark = pytest.mark.django_db


@pytest.fixture
def superuser(db):
    return AdminFactory(is_superuser=True, email="owner@example.com")


def _change_form(client, user) -> dict[str, object]:
    """The user's change form as the admin shows it, ready to post back."""
    return {
        "email": user.email,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "role": user.role,
        "is_active": "on",
        "is_staff": "on" if user.is_staff else "",
        "date_joined_0": f"{timezone.localtime(user.date_joined):%Y-%m-%d}",
        "date_joined_1": f"{timezone.localtime(user.date_joined):%H:%M:%S}",
    }


def test_clinic_admin_cannot_make_themselves_superuser(client, clinic_admin):
    verified_login(client, clinic_admin)
    form = {**_change_form(client, clinic_admin), "is_superuser": "on", "user_permissions": ["1", "2"]}

    client.post(reverse("admin:clinic_user_change", args=[clinic_admin.pk]), form)

    clinic_admin.refresh_from_db()
    assert not clinic_admin.is_superuser
    assert not clinic_admin.user_permissions.exists()


def test_clinic_admin_cannot_promote_a_practitioner_to_admin(client, clinic_admin):
    practitioner = PractitionerFactory().user
    verified_login(client, clinic_admin)
    form = {**_change_form(client, practitioner), "role": Role.ADMIN, "is_staff": "on"}

    client.post(reverse("admin:clinic_user_change", args=[practitioner.pk]), form)

    practitioner.refresh_from_db()
    assert practitioner.role == Role.PRACTITIONER
    assert not practitioner.is_staff


def test_superuser_may_change_privileges(client, superuser):
    practitioner = PractitionerFactory().user
    verified_login(client, superuser)
    form = {**_change_form(client, practitioner), "role": Role.ADMIN, "is_staff": "on"}

    response = client.post(reverse("admin:clinic_user_change", args=[practitioner.pk]), form)

    assert response.status_code == 302
    practitioner.refresh_from_db()
    assert practitioner.role == Role.ADMIN
    assert practitioner.is_staff


def test_clinic_admin_cannot_set_another_persons_password(client, clinic_admin):
    practitioner = PractitionerFactory().user
    verified_login(client, clinic_admin)
    url = reverse("admin:auth_user_password_change", args=[practitioner.pk])

    response = client.post(url, {"password1": "a-new-pass-phrase-42", "password2": "a-new-pass-phrase-42"})

    assert response.status_code == 403
    practitioner.refresh_from_db()
    assert not practitioner.check_password("a-new-pass-phrase-42")


def test_clinic_admin_cannot_create_a_two_factor_device_for_someone_else(client, clinic_admin):
    practitioner = PractitionerFactory().user
    verified_login(client, clinic_admin)

    response = client.post(
        reverse("admin:otp_totp_totpdevice_add"),
        {"user": practitioner.pk, "name": "mine", "key": "3132333435363738393031323334353637383930", "step": 30,
         "t0": 0, "digits": 6, "tolerance": 1, "drift": 0, "confirmed": "on"},
    )  # fmt: skip

    assert response.status_code == 403
    assert not TOTPDevice.objects.filter(user=practitioner).exists()


def test_clinic_admin_cannot_delete_another_persons_authenticator(client, clinic_admin):
    practitioner = PractitionerFactory().user
    device = TOTPDevice.objects.create(user=practitioner, name="Authenticator app", confirmed=True)
    verified_login(client, clinic_admin)

    client.post(reverse("admin:otp_totp_totpdevice_delete", args=[device.pk]), {"post": "yes"})

    assert TOTPDevice.objects.filter(pk=device.pk).exists()


def test_staff_with_only_a_password_cannot_enrol_an_authenticator(client, practitioner_user):
    client.force_login(practitioner_user)  # whoever has the password

    page = client.get(reverse("two_factor_setup"))

    assert page.status_code == 403
    assert "enrolment link" in page.content.decode()
    assert not TOTPDevice.objects.filter(user=practitioner_user).exists()


def _issue_link(client, admin_user, staff_user) -> str:
    verified_login(client, admin_user)
    client.post(
        reverse("admin:clinic_user_changelist"),
        {"action": "two_factor_enrolment_send", "_selected_action": [staff_user.pk]},
    )
    client.logout()
    (message,) = [m for m in mail.outbox if staff_user.email in m.to]
    return re.search(r"https?://\S+/two-factor/enrol/\S+/", message.body).group(0)


def test_an_admin_issued_link_enrols_once_and_then_stops_working(client, clinic_admin, practitioner_user, start):
    with time_machine.travel(start, tick=False) as clock:
        link = _issue_link(client, clinic_admin, practitioner_user)
        enrolment = TwoFactorEnrolment.objects.get(user=practitioner_user)
        assert link.rstrip("/").rsplit("/", 1)[1] not in enrolment.token_hash  # only a hash is stored

        client.force_login(practitioner_user)
        assert client.get(link).status_code == 302
        assert client.get(reverse("two_factor_setup")).status_code == 200
        device = TOTPDevice.objects.get(user=practitioner_user, confirmed=False)
        clock.shift(timedelta(seconds=5))
        accepted = client.post(reverse("two_factor_setup"), {"code": current_code(device)})
        assert accepted["Location"] == reverse("two_factor_recovery_codes")

        client.logout()
        client.force_login(practitioner_user)
        assert client.get(link).status_code == 410


def test_an_enrolment_link_expires(client, clinic_admin, practitioner_user, start, settings):
    with time_machine.travel(start, tick=False) as clock:
        link = _issue_link(client, clinic_admin, practitioner_user)
        clock.shift(timedelta(hours=settings.CLINIC_TWO_FACTOR_ENROLMENT_HOURS, minutes=1))
        client.force_login(practitioner_user)

        assert client.get(link).status_code == 410
        assert client.get(reverse("two_factor_setup")).status_code == 403


def test_an_enrolment_link_works_only_for_the_account_it_was_issued_to(client, clinic_admin, practitioner_user):
    link = _issue_link(client, clinic_admin, practitioner_user)
    client.force_login(PractitionerFactory().user)

    assert client.get(link).status_code == 410
    assert client.get(reverse("two_factor_setup")).status_code == 403


def test_clinic_admin_cannot_create_a_new_admin_account(client, clinic_admin):
    verified_login(client, clinic_admin)
    form = {"email": "new.admin@example.com", "first_name": "New", "last_name": "Admin", "role": Role.ADMIN,
            "password1": "a-long-unusual-passphrase", "password2": "a-long-unusual-passphrase"}  # fmt: skip

    client.post(reverse("admin:clinic_user_add"), form)
    client.post(reverse("admin:clinic_user_add"), {**form, "role": Role.PRACTITIONER})

    assert list(User.objects.filter(email="new.admin@example.com").values_list("role", flat=True)) == [
        Role.PRACTITIONER
    ]
