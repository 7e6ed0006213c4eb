"""Whose records staff may open (clinic.care_team and screening.access), and that it is audited."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from clinic.care_team import patients_visible_to
from clinic.models import AuditEvent
from tests.factories import PatientFactory, verified_login
from tests.security.world import World, build_world

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(db) -> World:
    return build_world()


def _staff_client(user) -> Client:
    client = Client()
    verified_login(client, user)
    return client


def test_a_practitioner_sees_only_patients_of_their_care_team(world: World) -> None:
    assert set(patients_visible_to(world.related.user)) == {world.patient_a}
    assert set(patients_visible_to(world.practitioner_b.user)) == {world.patient_b}
    assert not patients_visible_to(world.unrelated.user).exists()


def test_an_admin_sees_every_patient_and_a_patient_only_themselves(world: World) -> None:
    assert {world.patient_a, world.patient_b} <= set(patients_visible_to(world.admin))
    assert list(patients_visible_to(world.patient_b.user)) == [world.patient_b]


def test_a_cancelled_appointment_alone_gives_no_access(world: World) -> None:
    world.appointment_b.status = "cancelled"
    world.appointment_b.save()
    newcomer = PatientFactory()
    world.appointment_b.patient = newcomer
    world.appointment_b.save()
    assert newcomer not in set(patients_visible_to(world.practitioner_b.user))


def test_staff_reading_screening_answers_is_audited(world: World) -> None:
    client = _staff_client(world.related.user)
    assert client.get(reverse("screening:patient", args=[world.patient_a.pk])).status_code == 200
    event = AuditEvent.objects.get(action=AuditEvent.Action.VIEW, patient=world.patient_a)
    assert event.actor == world.related.user
    assert event.description == "Screening answers"


def test_a_refused_screening_page_is_audited_without_revealing_the_patient(world: World) -> None:
    client = _staff_client(world.unrelated.user)
    assert client.get(reverse("screening:review", args=[world.submission_a.pk])).status_code == 404
    event = AuditEvent.objects.get(action=AuditEvent.Action.DENIED, actor=world.unrelated.user)
    assert "refused" in event.description


def test_a_refused_chart_is_audited(world: World) -> None:
    client = _staff_client(world.unrelated.user)
    assert client.get(reverse("treatments:patient_chart", args=[world.patient_a.pk])).status_code == 404
    assert AuditEvent.objects.filter(action=AuditEvent.Action.DENIED, actor=world.unrelated.user).exists()
