"""Reading clinical records in the Django admin leaves audit rows, as the clinic's own pages do (finding 4)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from clinic.models import AuditEvent
from tests.factories import verified_login
from tests.security.world import build_world

pytestmark = pytest.mark.django_db

# Every clinical model with its own admin page: (app_label, model_name).
CLINICAL_ADMINS = [
    ("clinic", "patient"),
    ("screening", "submission"),
    ("screening", "review"),
    ("screening", "consent"),
    ("bookings", "appointment"),
    ("bookings", "careplan"),
    ("bookings", "planseries"),
    ("treatments", "sessionlog"),
    ("treatments", "adverseevent"),
    ("treatments", "amendment"),
]
# Patient A's records in the test world, opened one by one.
RECORDS = {
    ("clinic", "patient"): "patient_a",
    ("screening", "submission"): "submission_a",
    ("bookings", "appointment"): "appointment_a",
    ("bookings", "careplan"): "plan_a",
    ("bookings", "planseries"): "series_a",
    ("treatments", "sessionlog"): "log_a",
}


@pytest.fixture
def world():
    return build_world()


def _new_rows(before: int):
    return list(AuditEvent.objects.order_by("id")[before:])


@pytest.mark.parametrize(("app_label", "model_name"), CLINICAL_ADMINS)
def test_admin_list_of_clinical_records_is_audited(client, world, app_label, model_name):
    verified_login(client, world.admin)
    before = AuditEvent.objects.count()

    response = client.get(reverse(f"admin:{app_label}_{model_name}_changelist"))

    assert response.status_code == 200
    (row,) = _new_rows(before)
    assert row.actor == world.admin
    assert row.action == AuditEvent.Action.VIEW
    assert row.path.startswith(f"/admin/{app_label}/{model_name}/")


@pytest.mark.parametrize(("app_label", "model_name"), sorted(RECORDS))
@pytest.mark.parametrize("view", ["change", "history"])
def test_admin_opening_a_clinical_record_is_audited_against_the_patient(client, world, app_label, model_name, view):
    record = getattr(world, RECORDS[(app_label, model_name)])
    verified_login(client, world.admin)
    before = AuditEvent.objects.count()

    response = client.get(reverse(f"admin:{app_label}_{model_name}_{view}", args=[record.pk]))

    assert response.status_code == 200
    (row,) = _new_rows(before)
    assert row.actor == world.admin
    assert row.action == AuditEvent.Action.VIEW
    assert row.patient == world.patient_a
    assert row.target_type == f"{app_label}.{model_name}"
    assert row.target_id == str(record.pk)


def test_admin_pages_of_the_catalogue_are_not_audited(client, world):
    verified_login(client, world.admin)
    before = AuditEvent.objects.count()

    client.get(reverse("admin:clinic_modality_changelist"))

    assert _new_rows(before) == []
