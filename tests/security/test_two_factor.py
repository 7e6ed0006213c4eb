from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import quote

import pytest
import time_machine
from django.core import mail
from django.urls import reverse
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from clinic.two_factor import two_factor_enrolment_send
from tests.factories import PASSWORD, AdminFactory, PatientFactory, verified_login
from tests.security.factories import current_code, wrong_code

pytestmark = pytest.mark.django_db


def _enrolment_link(user) -> str:
    """The path of an enrolment link an admin emailed to ``user``."""
    two_factor_enrolment_send(user=user, actor=AdminFactory())
    return re.search(r"/accounts/two-factor/enrol/\S+/", mail.outbox[-1].body).group(0)


def _confirmed_device(user) -> TOTPDevice:
    return TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=True)


def test_practitioner_without_an_authenticator_is_sent_to_set_one_up(client, practitioner_user):
    client.force_login(practitioner_user)

    response = client.get(reverse("home"))

    assert response.status_code == 302
    assert response["Location"] == f"{reverse('two_factor_setup')}?next={quote('/', safe='')}"


def test_clinic_admin_cannot_open_the_django_admin_before_two_factor(client, clinic_admin):
    client.force_login(clinic_admin)

    response = client.get(reverse("admin:clinic_modality_changelist"))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("two_factor_setup"))


def test_staff_with_an_authenticator_must_enter_a_code_after_login(client, clinic_admin):
    _confirmed_device(clinic_admin)
    client.post(reverse("login"), {"username": clinic_admin.email, "password": PASSWORD})

    response = client.get(reverse("admin:index"))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("two_factor_verify"))


def test_staff_setup_confirms_the_app_shows_recovery_codes_once_then_pages_open(
    client, practitioner_user, start, time_machine
):
    time_machine.move_to(start, tick=False)
    client.force_login(practitioner_user)
    client.get(_enrolment_link(practitioner_user))
    page = client.get(reverse("two_factor_setup"))
    device = TOTPDevice.objects.get(user=practitioner_user, confirmed=False)

    assert page.status_code == 200
    body = page.content.decode()
    assert 'src="data:image/svg+xml;base64,' in body
    assert page.context["secret"].replace(" ", "") in body.replace(" ", "")

    refused = client.post(reverse("two_factor_setup") + "?next=/accounts/profile/", {"code": wrong_code(device)})
    assert "not right" in str(refused.context["form"].errors["code"])
    assert not TOTPDevice.objects.filter(user=practitioner_user, confirmed=True).exists()

    time_machine.shift(timedelta(seconds=30))  # each wrong code makes the next try wait a little longer
    accepted = client.post(reverse("two_factor_setup") + "?next=/accounts/profile/", {"code": current_code(device)})
    assert accepted["Location"] == reverse("two_factor_recovery_codes")
    codes_page = client.get(reverse("two_factor_recovery_codes"))
    codes = codes_page.context["codes"]
    assert len(codes) == 10
    assert all(code in codes_page.content.decode() for code in codes)
    assert codes_page.context["next_url"] == "/accounts/profile/"
    assert client.get(reverse("two_factor_recovery_codes")).context["codes"] is None  # shown once

    assert client.get(reverse("home")).status_code == 200
    assert client.get(reverse("profile")).status_code == 200


def test_wrong_code_is_refused_and_the_right_one_opens_the_admin(client, clinic_admin, start):
    device = _confirmed_device(clinic_admin)
    client.force_login(clinic_admin)
    verify_url = reverse("two_factor_verify") + "?next=" + reverse("admin:index")

    with time_machine.travel(start, tick=False) as clock:
        refused = client.post(verify_url, {"code": wrong_code(device)})
        still_blocked = client.get(reverse("admin:index"))
        clock.shift(timedelta(seconds=30))
        accepted = client.post(verify_url, {"code": current_code(device)})

    assert refused.status_code == 200
    assert "not right" in str(refused.context["form"].errors["code"])
    assert still_blocked.status_code == 302
    assert accepted["Location"] == reverse("admin:index")
    with time_machine.travel(start + timedelta(minutes=1), tick=False):
        assert client.get(reverse("admin:index")).status_code == 200
        assert client.get(reverse("admin:clinic_modality_changelist")).status_code == 200


def test_a_recovery_code_logs_in_once(client, practitioner_user, settings):
    from clinic.two_factor import recovery_codes_replace

    _confirmed_device(practitioner_user)
    code = recovery_codes_replace(user=practitioner_user)[0]

    client.force_login(practitioner_user)
    first = client.post(reverse("two_factor_verify"), {"code": code.upper()})
    client.post(reverse("logout"))
    client.force_login(practitioner_user)
    second = client.post(reverse("two_factor_verify"), {"code": code})

    assert first.status_code == 302
    assert "not right" in str(second.context["form"].errors["code"])
    assert StaticToken.objects.filter(device__user=practitioner_user).count() == 9


def test_next_address_off_the_site_is_ignored(client, practitioner_user):
    device = _confirmed_device(practitioner_user)
    client.force_login(practitioner_user)

    response = client.post(reverse("two_factor_verify") + "?next=https://evil.example/", {"code": current_code(device)})

    assert response["Location"] == reverse("home")


def test_unverified_session_cannot_replace_the_authenticator(client, practitioner_user):
    _confirmed_device(practitioner_user)
    client.force_login(practitioner_user)

    response = client.get(reverse("two_factor_setup"))

    assert response["Location"].startswith(reverse("two_factor_verify"))
    assert TOTPDevice.objects.filter(user=practitioner_user).count() == 1


def test_staff_cannot_turn_two_factor_off(client, practitioner_user):
    verified_login(client, practitioner_user)

    response = client.post(reverse("two_factor_disable"))

    assert response.status_code == 403
    assert TOTPDevice.objects.filter(user=practitioner_user).exists()


def test_verified_login_helper_gives_a_staff_session_that_opens_pages(client, practitioner_user):
    verified_login(client, practitioner_user)

    assert client.get(reverse("home")).status_code == 200


def test_enforcement_can_be_switched_off_by_setting(client, practitioner_user, settings):
    settings.CLINIC_STAFF_2FA_REQUIRED = False
    client.force_login(practitioner_user)

    assert client.get(reverse("home")).status_code == 200


def test_two_factor_is_optional_for_patients(client):
    patient = PatientFactory()
    client.force_login(patient.user)

    assert client.get(reverse("home")).status_code == 200
    assert reverse("two_factor") in client.get(reverse("profile")).content.decode()
    assert "Turn on two-factor" in client.get(reverse("two_factor")).content.decode()


def test_patient_who_turned_two_factor_on_is_asked_for_a_code_at_login_and_may_turn_it_off(client, start):
    patient = PatientFactory()
    with time_machine.travel(start, tick=False) as clock:
        client.force_login(patient.user)
        client.get(reverse("two_factor_setup"))
        device = TOTPDevice.objects.get(user=patient.user)
        client.post(reverse("two_factor_setup"), {"code": current_code(device)})
        client.post(reverse("logout"))

        clock.shift(timedelta(seconds=60))  # a new code; the app never accepts one twice
        client.post(reverse("login"), {"username": patient.user.email, "password": PASSWORD})
        asked = client.get(reverse("profile"))
        client.post(reverse("two_factor_verify"), {"code": current_code(device)})
        opened = client.get(reverse("profile"))
        client.post(reverse("two_factor_disable"))

    assert asked["Location"].startswith(reverse("two_factor_verify"))
    assert opened.status_code == 200
    assert not TOTPDevice.objects.filter(user=patient.user).exists()


def test_a_used_app_code_cannot_be_replayed_in_another_session(client, practitioner_user, start):
    device = _confirmed_device(practitioner_user)
    with time_machine.travel(start, tick=False):
        code = current_code(device)
        client.force_login(practitioner_user)
        client.post(reverse("two_factor_verify"), {"code": code})
        client.post(reverse("logout"))
        client.force_login(practitioner_user)
        replay = client.post(reverse("two_factor_verify"), {"code": code})

    assert replay.status_code == 200
    assert replay.context["form"].errors
