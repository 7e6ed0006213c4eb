"""Fixtures for the treatment log tests."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.factories import AdminFactory


@pytest.fixture(autouse=True)
def _staff_without_second_factor(settings) -> None:
    """These tests are about the log, not about two-factor login (tested in tests/clinic)."""
    settings.CLINIC_STAFF_2FA_REQUIRED = False


@pytest.fixture
def practitioner_client(practitioner) -> Client:
    client = Client()
    client.force_login(practitioner.user)
    return client


@pytest.fixture
def patient_client(patient) -> Client:
    client = Client()
    client.force_login(patient.user)
    return client


@pytest.fixture
def admin_user(db):
    return AdminFactory()
