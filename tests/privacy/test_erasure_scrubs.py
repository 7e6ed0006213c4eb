"""Erasure leaves no birthday, email or address behind in screening history or the login log."""

from __future__ import annotations

from datetime import date

import pytest
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.test import Client
from django.urls import reverse

from screening.models import Submission
from tests.factories import PASSWORD
from tests.security.world import A_EMAIL, World

pytestmark = pytest.mark.django_db

A_ADDRESS = "203.0.113.77"
BIRTHDAY = date(1980, 6, 15)  # tests.factories.PatientFactory


def _erase(client: Client) -> None:
    response = client.post(reverse("privacy:delete"), {"password": PASSWORD, "understood": "on"})
    assert response.status_code == 302


def test_erasure_keeps_only_the_year_of_birth_in_screenings_and_their_history(client_a: Client, world: World) -> None:
    submissions = Submission.objects.filter(patient=world.patient_a)
    assert set(submissions.values_list("date_of_birth", flat=True)) == {BIRTHDAY}
    assert Submission.history.filter(patient_id=world.patient_a.pk, date_of_birth=BIRTHDAY).exists()

    _erase(client_a)

    assert set(submissions.values_list("date_of_birth", flat=True)) == {date(1980, 1, 1)}
    assert set(Submission.history.filter(patient_id=world.patient_a.pk).values_list("date_of_birth", flat=True)) == {
        date(1980, 1, 1)
    }
    # Other patients' screenings keep their full date of birth.
    assert Submission.objects.filter(patient=world.patient_b, date_of_birth=BIRTHDAY).exists()


def test_erasure_removes_the_email_and_address_from_the_login_log(world: World, settings) -> None:
    settings.AXES_ENABLE_ACCESS_FAILURE_LOG = True
    client = Client(REMOTE_ADDR=A_ADDRESS)
    client.post(reverse("login"), {"username": A_EMAIL.upper(), "password": "wrong guess"})
    client.post(reverse("login"), {"username": A_EMAIL, "password": PASSWORD})
    assert client.session.get("_auth_user_id") == str(world.patient_a.user.pk)
    # A failure from another address stays until this one logs in; make sure one is kept.
    Client(REMOTE_ADDR="198.51.100.9").post(reverse("login"), {"username": A_EMAIL, "password": "another guess"})
    tables = (AccessAttempt, AccessLog, AccessFailureLog)
    assert all(model.objects.filter(username__iexact=A_EMAIL).exists() for model in tables)
    other = Client(REMOTE_ADDR="192.0.2.5")
    other.post(reverse("login"), {"username": world.patient_b.user.email, "password": "typo"})

    _erase(client)

    for model in tables:
        assert not model.objects.filter(username__iexact=A_EMAIL).exists(), model.__name__
        assert not model.objects.filter(ip_address=A_ADDRESS).exists(), model.__name__
    assert AccessAttempt.objects.filter(username=world.patient_b.user.email).exists(), "others' attempts stay"
