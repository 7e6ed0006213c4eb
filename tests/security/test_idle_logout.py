from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from tests.factories import PatientFactory, verified_login

pytestmark = pytest.mark.django_db


def test_staff_idle_longer_than_the_limit_are_logged_out_with_a_message(client, practitioner_user, start, time_machine):
    time_machine.move_to(start, tick=False)
    verified_login(client, practitioner_user)
    assert client.get(reverse("home")).status_code == 200

    time_machine.shift(timedelta(minutes=16))
    response = client.get(reverse("profile"))

    assert response.status_code == 302
    assert response["Location"] == f"{reverse('login')}?next=%2Faccounts%2Fprofile%2F"
    assert "logged out after 15 minutes" in " ".join(str(m) for m in get_messages(response.wsgi_request))
    assert client.get(reverse("profile"))["Location"].startswith(reverse("login"))


def test_staff_who_keep_working_stay_logged_in(client, practitioner_user, start, time_machine):
    time_machine.move_to(start, tick=False)
    verified_login(client, practitioner_user)
    for _ in range(4):
        time_machine.shift(timedelta(minutes=14))
        assert client.get(reverse("profile")).status_code == 200


def test_idle_limit_follows_the_setting(client, practitioner_user, settings, start, time_machine):
    settings.CLINIC_STAFF_IDLE_MINUTES = 5
    time_machine.move_to(start, tick=False)
    verified_login(client, practitioner_user)
    client.get(reverse("home"))

    time_machine.shift(timedelta(minutes=6))

    assert client.get(reverse("profile")).status_code == 302


def test_patients_idle_longer_than_their_limit_are_logged_out(client, start, time_machine):
    patient = PatientFactory()
    time_machine.move_to(start, tick=False)
    client.force_login(patient.user)
    client.get(reverse("home"))

    time_machine.shift(timedelta(minutes=31))
    response = client.get(reverse("profile"))

    assert response.status_code == 302
    assert "logged out after 30 minutes" in " ".join(str(m) for m in get_messages(response.wsgi_request))


def test_patients_who_keep_using_the_site_stay_logged_in_for_longer_than_staff(client, start, time_machine):
    patient = PatientFactory()
    time_machine.move_to(start, tick=False)
    client.force_login(patient.user)
    for _ in range(4):
        time_machine.shift(timedelta(minutes=25))
        assert client.get(reverse("profile")).status_code == 200


def test_a_session_ends_after_its_absolute_age_even_when_active(client, settings, start, time_machine):
    settings.CLINIC_SESSION_MAX_HOURS = 12
    patient = PatientFactory()
    time_machine.move_to(start, tick=False)
    client.force_login(patient.user)
    client.get(reverse("home"))
    for _ in range(12 * 60 // 20):
        time_machine.shift(timedelta(minutes=20))
        assert client.get(reverse("profile")).status_code == 200

    time_machine.shift(timedelta(minutes=20))
    response = client.get(reverse("profile"))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
    assert "after 12 hours" in " ".join(str(m) for m in get_messages(response.wsgi_request))


def test_the_session_cookie_lasts_no_longer_than_the_absolute_session_age(settings):
    assert settings.SESSION_COOKIE_AGE <= settings.CLINIC_SESSION_MAX_HOURS * 3600 <= 24 * 3600
