"""Export and erasure check who is asking, in the service, and audit it there.

A page, a command or a future API all call the same services, so the right is
checked and the audit row written once, with the acting user, whoever calls.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils import timezone

from bookings.models import Appointment
from clinic.care_team import patients_visible_to
from clinic.models import AuditEvent
from privacy.services import patient_data_export, patient_erase
from tests.factories import verified_login
from tests.security.world import A_EMAIL, World

pytestmark = pytest.mark.django_db


def _is_untouched(world: World) -> bool:
    world.patient_a.user.refresh_from_db()
    return world.patient_a.user.email == A_EMAIL and world.patient_a.user.is_active


def test_patient_erasing_their_own_account_is_audited_as_them_without_a_request(world: World) -> None:
    patient_erase(actor=world.patient_a.user, patient=world.patient_a)
    event = AuditEvent.objects.get(action=AuditEvent.Action.DELETE, patient=world.patient_a)
    assert event.actor == world.patient_a.user


@pytest.mark.parametrize("who", ["related", "unrelated", "patient_b"])
def test_nobody_but_the_patient_or_an_admin_can_erase_an_account(world: World, who: str) -> None:
    actor = getattr(world, who).user
    with pytest.raises(PermissionDenied):
        patient_erase(actor=actor, patient=world.patient_a, reason="asked by phone")
    assert _is_untouched(world)
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.DELETE, patient=world.patient_a).exists()
    refusal = AuditEvent.objects.get(action=AuditEvent.Action.DENIED, patient=world.patient_a)
    assert refusal.actor == actor


def test_a_deactivated_admin_cannot_erase(world: World) -> None:
    world.admin.is_active = False
    world.admin.save(update_fields=["is_active"])
    with pytest.raises(PermissionDenied):
        patient_erase(actor=world.admin, patient=world.patient_a, reason="Written request")
    assert _is_untouched(world)


def test_an_admin_erasing_on_request_must_say_why(world: World) -> None:
    with pytest.raises(PermissionDenied, match="reason"):
        patient_erase(actor=world.admin, patient=world.patient_a, reason="  ")
    assert _is_untouched(world)


def test_an_admin_erases_on_the_patients_request_and_is_named_in_the_audit(world: World) -> None:
    # Inside the online cut-off the patient could not do it themselves; the clinic can.
    soon = timezone.now() + timedelta(hours=2)
    Appointment.objects.filter(pk=world.appointment_a.pk).update(
        starts_at=soon, ends_at=soon + world.modality.slot_length, blocked_until=soon + world.modality.slot_length
    )
    patient_erase(actor=world.admin, patient=world.patient_a, reason="Written request of 28 November, ref. 113")
    assert not _is_untouched(world)
    world.appointment_a.refresh_from_db()
    assert world.appointment_a.status == Appointment.Status.CANCELLED
    assert world.appointment_a.cancelled_by == world.admin
    event = AuditEvent.objects.get(action=AuditEvent.Action.DELETE, patient=world.patient_a)
    assert event.actor == world.admin
    assert "ref. 113" in event.description


def test_export_is_audited_as_the_patient_without_a_request(world: World) -> None:
    patient_data_export(actor=world.patient_a.user, patient=world.patient_a)
    event = AuditEvent.objects.get(action=AuditEvent.Action.EXPORT, patient=world.patient_a)
    assert event.actor == world.patient_a.user


@pytest.mark.parametrize("who", ["related", "unrelated", "patient_b", "admin"])
def test_only_the_patient_can_take_the_self_service_export(world: World, who: str) -> None:
    actor = getattr(world, who)
    actor = getattr(actor, "user", actor)
    with pytest.raises(PermissionDenied):
        patient_data_export(actor=actor, patient=world.patient_a)
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.EXPORT, patient=world.patient_a).exists()
    assert AuditEvent.objects.get(action=AuditEvent.Action.DENIED, patient=world.patient_a).actor == actor


def test_an_erased_patient_cannot_export_any_more(world: World) -> None:
    patient_erase(actor=world.patient_a.user, patient=world.patient_a)
    world.patient_a.user.refresh_from_db()  # as the next request would load it
    with pytest.raises(PermissionDenied):
        patient_data_export(actor=world.patient_a.user, patient=world.patient_a)


def test_erasure_ends_the_care_team_so_no_practitioner_keeps_reading_the_kept_records(world: World, client) -> None:
    assert patients_visible_to(world.related.user).filter(pk=world.patient_a.pk).exists()
    patient_erase(actor=world.patient_a.user, patient=world.patient_a)

    assert not patients_visible_to(world.related.user).filter(pk=world.patient_a.pk).exists()
    verified_login(client, world.related.user)
    assert client.get(reverse("treatments:patient_chart", args=[world.patient_a.pk])).status_code == 404
