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


def test_patients_are_not_logged_out_when_idle(client, start, time_machine):
    patient = PatientFactory()
    time_machine.move_to(start, tick=False)
    client.force_login(patient.user)
    client.get(reverse("home"))

    time_machine.shift(timedelta(hours=3))

    assert client.get(reverse("profile")).status_code == 200
