"""The Django admin finds patients through the patient search; autocompletes list nobody until typed."""

from __future__ import annotations

import pytest
from django.urls import reverse

from clinic.models import AuditEvent
from tests.factories import AdminFactory, PatientFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def john():
    return PatientFactory(user=UserFactory(first_name="John", last_name="Smith"), phone="07700 900123")


def _autocomplete(client, term: str) -> list[str]:
    response = client.get(
        reverse("admin:autocomplete"),
        {"app_label": "bookings", "model_name": "careplan", "field_name": "patient", "term": term},
    )
    assert response.status_code == 200
    return [result["text"] for result in response.json()["results"]]


def test_patient_autocomplete_uses_the_search_and_is_audited(client, john):
    PatientFactory(user=UserFactory(first_name="Mary", last_name="Jones"))
    admin = AdminFactory()
    client.force_login(admin)
    assert _autocomplete(client, "") == []
    assert _autocomplete(client, "smith") == [str(john)]
    assert _autocomplete(client, "+44 7700 900123") == [str(john)]
    assert AuditEvent.objects.filter(actor=admin, action=AuditEvent.Action.SEARCH).count() == 2


def test_admin_patient_list_search_finds_by_phone_digits(client, john):
    PatientFactory(user=UserFactory(first_name="Mary", last_name="Jones"))
    client.force_login(AdminFactory())
    page = client.get(reverse("admin:clinic_patient_changelist"), {"q": "7700900123"}).content.decode()
    assert "John Smith" in page
    assert "Mary Jones" not in page


@pytest.mark.postgres
def test_admin_patient_list_search_is_typo_tolerant_on_postgresql(client, john):
    client.force_login(AdminFactory())
    page = client.get(reverse("admin:clinic_patient_changelist"), {"q": "Jonh Smyth"}).content.decode()
    assert "John Smith" in page
