"""Whose records staff may open (bookings.access and screening.access), and that it is audited."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from clinic.care_team import patients_visible_to
from clinic.models import AuditEvent
from tests.factories import PatientFactory, verified_login
from tests.screening.factories import submission_with_answers
from tests.security.world import World, build_world

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(db) -> World:
    return build_world()


def _staff_client(user) -> Client:
    client = Client()
    verified_login(client, user)
    return client


def test_a_practitioner_sees_only_patients_they_have_an_appointment_or_plan_with(world: World) -> None:
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


def test_any_practitioner_may_screen_a_new_patient_at_the_desk(world: World) -> None:
    newcomer = PatientFactory()
    client = _staff_client(world.unrelated.user)
    assert client.get(reverse("screening:patient", args=[newcomer.pk])).status_code == 200
    assert client.get(reverse("screening:patient_questionnaire", args=[newcomer.pk])).status_code == 200
    # ...but not open the chart of someone they have not treated.
    assert client.get(reverse("treatments:patient_chart", args=[newcomer.pk])).status_code == 404


def test_answers_awaiting_review_are_open_to_every_practitioner(world: World) -> None:
    waiting = PatientFactory()
    # High blood pressure holds whole-body cryotherapy for a clinician's decision.
    submission = submission_with_answers(patient=waiting, yes=["high-blood-pressure"])
    # An appointment with someone else would otherwise hide the answers from this practitioner.
    world.appointment_b.patient = waiting
    world.appointment_b.save()
    client = _staff_client(world.unrelated.user)
    queue = client.get(reverse("screening:review_queue"))
    assert [item.submission for item in queue.context["queue"]] == [submission]
    assert client.get(reverse("screening:review", args=[submission.pk])).status_code == 200


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
