"""The privacy commands: an admin's erasure on request, and the retention listing."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.utils import timezone

from clinic.models import AuditEvent
from tests.security.world import A_EMAIL, World

pytestmark = pytest.mark.django_db


def _run(*args: str) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_admin_erases_a_patient_on_request_from_the_command_line(world: World) -> None:
    output = _run("privacy_erase", str(world.patient_a.pk), "--admin", world.admin.email, "--reason", "Letter, ref. 7")
    assert "erased" in output
    world.patient_a.user.refresh_from_db()
    assert world.patient_a.user.email != A_EMAIL
    event = AuditEvent.objects.get(action=AuditEvent.Action.DELETE, patient=world.patient_a)
    assert event.actor == world.admin
    assert "Letter, ref. 7" in event.description


def test_a_practitioner_named_as_the_admin_is_refused(world: World) -> None:
    with pytest.raises(CommandError, match="Only the patient"):
        _run("privacy_erase", str(world.patient_a.pk), "--admin", world.related.user.email, "--reason", "asked")
    world.patient_a.user.refresh_from_db()
    assert world.patient_a.user.email == A_EMAIL


def test_retention_listing_names_erased_patients_once_their_records_are_past_retention(world: World, settings) -> None:
    assert "No erased patient" in _run("privacy_retention_due")
    _run("privacy_erase", str(world.patient_a.pk), "--admin", world.admin.email, "--reason", "Email of 1 March")
    assert "No erased patient" in _run("privacy_retention_due")
    later = timezone.now() + timedelta(days=366 * settings.CLINIC_RECORD_RETENTION_YEARS + 30)
    with time_machine.travel(later, tick=False):
        output = _run("privacy_retention_due")
    assert f"patient {world.patient_a.pk}: retention ended" in output
    assert f"patient {world.patient_b.pk}:" not in output
