from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse

from tests.factories import PASSWORD, PatientFactory

ROOT = Path(__file__).resolve().parents[2]


def _real_settings(code: str) -> str:
    """Run ``code`` against clinic.settings as production loads it (the test fixtures swap the hasher)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    env.update(DJANGO_SETTINGS_MODULE="clinic.settings", DJANGO_SECRET_KEY="s" * 60, DJANGO_DEBUG="false")
    return subprocess.run(  # noqa: S603 - our own interpreter and fixed code
        [sys.executable, "-c", f"import django; django.setup(); {code}"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()


def test_passwords_are_hashed_with_argon2_and_checked_by_django_validators():
    output = _real_settings(
        "from django.conf import settings; from django.contrib.auth.hashers import make_password;"
        "print(make_password('a-long-unusual-passphrase').split('$')[0]);"
        "print(len(settings.AUTH_PASSWORD_VALIDATORS))"
    )

    hasher, validators = output.splitlines()[-2:]
    assert hasher == "argon2"
    assert int(validators) == 4


@pytest.mark.django_db
def test_password_change_ends_the_other_sessions_but_keeps_this_one():
    patient = PatientFactory()
    here, elsewhere = Client(), Client()
    here.force_login(patient.user)
    elsewhere.force_login(patient.user)
    assert elsewhere.get(reverse("profile")).status_code == 200

    response = here.post(
        reverse("password_change"),
        {
            "old_password": PASSWORD,
            "new_password1": "another-long-passphrase-7",
            "new_password2": "another-long-passphrase-7",
        },
    )

    assert response["Location"] == reverse("password_change_done")
    assert here.get(reverse("profile")).status_code == 200
    assert elsewhere.get(reverse("profile"))["Location"].startswith(reverse("login"))


@pytest.mark.django_db
def test_new_password_must_pass_the_validators(client):
    patient = PatientFactory()
    client.force_login(patient.user)

    response = client.post(
        reverse("password_change"), {"old_password": PASSWORD, "new_password1": "12345678", "new_password2": "12345678"}
    )

    assert response.status_code == 200
    assert "too common" in str(response.context["form"].errors["new_password2"])
