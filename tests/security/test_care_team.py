"""The care team (issue 13): nobody widens their own access; each probe finding, as the probe tried it.

Every test drives the pages over HTTP as the outside probe did (reproductions at commit 43e6a65),
and fails on the code before the care team.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from bookings.forms import slot_value
from bookings.models import Appointment, CarePlan, PlanTemplate
from clinic.care_team import care_team_break_glass, patients_visible_to
from clinic.models import AuditEvent, CareTeamMembership
from screening.models import Submission
from tests.bookings.conftest import working_hours
from tests.factories import PASSWORD, PatientFactory, appointment_create, care_team_join, verified_login
from tests.screening.factories import consents_signed, submission_with_answers
from tests.security.world import A_CLINICAL, A_EMAIL, A_NAME, World, build_world
from treatments.models import SessionLog

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(db) -> World:
    return build_world()


def _staff(user) -> Client:
    client = Client()
    verified_login(client, user)
    return client


def _chart(client: Client, patient) -> int:
    return client.get(reverse("treatments:patient_chart", args=[patient.pk])).status_code


def _future_slot(days: int = 14, hour: int = 11) -> datetime:
    day = timezone.localdate() + timedelta(days=days)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return datetime.combine(day, time(hour), tzinfo=timezone.get_current_timezone())


# --- the rule ---------------------------------------------------------------------------------


def test_a_practitioner_sees_the_patients_of_their_care_team_and_no_one_else(world: World) -> None:
    assert set(patients_visible_to(world.related.user)) == {world.patient_a}
    assert not patients_visible_to(world.unrelated.user).exists()
    assert not patients_visible_to(world.desk).exists()


def test_access_ends_when_the_membership_lapses(world: World, settings) -> None:
    settings.CLINIC_CARE_TEAM_MONTHS = 12
    client = _staff(world.related.user)
    assert _chart(client, world.patient_a) == 200
    CareTeamMembership.objects.filter(member=world.related.user).update(
        starts_at=timezone.now() - timedelta(days=800), ends_at=timezone.now() - timedelta(days=1)
    )
    assert _chart(client, world.patient_a) == 404


def test_an_inactive_practitioner_sees_nobody(world: World) -> None:
    world.related.user.is_active = False
    world.related.user.save()
    assert not patients_visible_to(world.related.user).exists()


# --- finding 1: a care plan granted access ---------------------------------------------------------


def test_finding_1_creating_a_care_plan_grants_no_access_and_the_form_lists_only_own_patients(world: World) -> None:
    client = _staff(world.unrelated.user)
    form = client.get(reverse("bookings:plan_create"))
    body = form.content.decode()
    assert A_NAME not in body
    assert A_EMAIL not in body
    template = PlanTemplate.objects.active().exclude(pk=world.plan_a.template_id).first()
    response = client.post(
        reverse("bookings:plan_create"),
        {"patient": world.patient_a.pk, "template": template.pk, "start_date": timezone.localdate().isoformat()},
    )
    assert response.status_code != 302  # the form is shown again: A is not among the choices
    assert not CarePlan.objects.filter(patient=world.patient_a, assigned_by=world.unrelated.user).exists()
    assert _chart(client, world.patient_a) == 404


def test_finding_1_plan_pages_are_audited(world: World) -> None:
    client = _staff(world.related.user)
    assert client.get(reverse("bookings:plan_detail", args=[world.plan_a.pk])).status_code == 200
    assert AuditEvent.objects.filter(
        actor=world.related.user, patient=world.patient_a, action=AuditEvent.Action.VIEW, description="Care plan"
    ).exists()


# --- finding 2: phone booking --------------------------------------------------------------------


def test_finding_2_staff_booking_refusal_never_shows_screening_reasons_to_the_desk(world: World) -> None:
    raynaud = PatientFactory()
    submission_with_answers(patient=raynaud, yes=["raynauds"])
    consents_signed(patient=raynaud)
    wbc = world.modality.__class__.objects.get(slug="whole-body-cryotherapy")
    response = _staff(world.desk).post(
        reverse("bookings:staff_book"),
        {"patient": raynaud.pk, "modality": wbc.pk, "starts_at": slot_value(_future_slot())},
    )
    body = response.content.decode()
    assert response.status_code == 409
    assert "Raynaud" not in body
    assert "not eligible" in body
    assert not Appointment.objects.filter(patient=raynaud).exists()


def test_finding_2_a_practitioner_cannot_book_a_patient_outside_their_care_team(world: World) -> None:
    response = _staff(world.unrelated.user).post(
        reverse("bookings:staff_book"),
        {
            "patient": world.patient_a.pk,
            "modality": world.modality.pk,
            "practitioner": world.unrelated.pk,
            "starts_at": slot_value(_future_slot()),
        },
    )
    assert response.status_code in (400, 404)
    assert A_CLINICAL not in response.content.decode()
    assert not Appointment.objects.filter(patient=world.patient_a, practitioner=world.unrelated).exists()
    assert _chart(_staff(world.unrelated.user), world.patient_a) == 404


def test_finding_2_nobody_books_an_erased_patient(world: World) -> None:
    patient_client = Client()
    patient_client.force_login(world.patient_b.user)
    patient_client.post(reverse("privacy:delete"), {"password": PASSWORD, "understood": "on"})
    world.patient_b.user.refresh_from_db()
    assert not world.patient_b.user.is_active
    for actor in (world.desk, world.admin, world.practitioner_b.user):
        response = _staff(actor).post(
            reverse("bookings:staff_book"),
            {"patient": world.patient_b.pk, "modality": world.modality.pk, "starts_at": slot_value(_future_slot())},
        )
        assert response.status_code in (400, 404), actor
    assert not Appointment.objects.filter(patient=world.patient_b, status=Appointment.Status.BOOKED).exists()


def test_finding_2_a_desk_booking_is_audited_and_puts_the_practitioner_on_the_care_team(world: World) -> None:
    working_hours(world.practitioner_b)
    starts_at = _future_slot()
    response = _staff(world.desk).post(
        reverse("bookings:staff_book"),
        {
            "patient": world.patient_b.pk,
            "modality": world.modality.pk,
            "practitioner": world.practitioner_b.pk,
            "starts_at": slot_value(starts_at),
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    appointment = Appointment.objects.get(patient=world.patient_b, starts_at=starts_at)
    assert AuditEvent.objects.filter(
        actor=world.desk, patient=world.patient_b, target_id=str(appointment.pk), action=AuditEvent.Action.CREATE
    ).exists()
    assert world.patient_b in set(patients_visible_to(world.practitioner_b.user))


# --- finding 3: erasure opened the kept screening to every practitioner -----------------------------


def test_finding_3_after_erasure_no_practitioner_outside_the_team_reads_the_kept_screening(world: World) -> None:
    # As the probe found it: a patient whose only appointment is still to come, so deleting the
    # account cancels it and the old "new patient" exception matched them.
    leaver = PatientFactory()
    submission = submission_with_answers(patient=leaver, yes=["high-blood-pressure"], notes=f"{A_CLINICAL} kept")
    appointment_create(
        patient=leaver, practitioner=world.practitioner_b, modality=world.modality, starts_at=_future_slot(days=10)
    )
    patient_client = Client()
    patient_client.force_login(leaver.user)
    response = patient_client.post(reverse("privacy:delete"), {"password": PASSWORD, "understood": "on"})
    assert response.status_code == 302
    assert Submission.objects.filter(patient=leaver).exists()  # kept for the retention period
    client = _staff(world.unrelated.user)
    page = client.get(reverse("screening:patient", args=[leaver.pk]))
    assert page.status_code == 404
    assert A_CLINICAL not in page.content.decode()
    assert client.get(reverse("screening:review", args=[submission.pk])).status_code == 404


def test_a_new_patient_with_nobody_on_their_team_is_not_open_to_every_practitioner(world: World) -> None:
    newcomer = PatientFactory()
    submission = submission_with_answers(patient=newcomer, yes=["high-blood-pressure"])
    client = _staff(world.unrelated.user)
    assert client.get(reverse("screening:patient", args=[newcomer.pk])).status_code == 404
    assert client.get(reverse("screening:review", args=[submission.pk])).status_code == 404
    queue = client.get(reverse("screening:review_queue"))
    assert queue.context["queue"] == []
    assert queue.context["unassigned_waiting"] == 1
    assert newcomer.full_name not in queue.content.decode()
    # The desk assigns a reviewer; from then on the answers are open to them, and only them.
    care_team_join(patient=newcomer, practitioner=world.unrelated)
    assert client.get(reverse("screening:review", args=[submission.pk])).status_code == 200
    assert _staff(world.practitioner_b.user).get(reverse("screening:review", args=[submission.pk])).status_code == 404


# --- finding 5: amending another practitioner's log -------------------------------------------------


def test_finding_5_a_colleague_on_the_team_cannot_amend_or_sign_another_practitioners_log(world: World) -> None:
    care_team_join(patient=world.patient_a, practitioner=world.practitioner_b)
    client = _staff(world.practitioner_b.user)
    assert _chart(client, world.patient_a) == 200
    before = SessionLog.objects.get(pk=world.log_a.pk).subjective
    response = client.post(
        reverse("treatments:log_amend", args=[world.log_a.pk]),
        {"subjective": "overwritten by a colleague", "reason": "probe"},
    )
    assert response.status_code == 403
    assert SessionLog.objects.get(pk=world.log_a.pk).subjective == before


def test_finding_5_a_colleague_cannot_sign_another_practitioners_draft(world: World) -> None:
    SessionLog.objects.filter(pk=world.log_a.pk).update(status=SessionLog.Status.DRAFT, signed_at=None, signed_by=None)
    care_team_join(patient=world.patient_a, practitioner=world.practitioner_b)
    response = _staff(world.practitioner_b.user).post(reverse("treatments:log_sign", args=[world.log_a.pk]))
    assert response.status_code == 403
    assert SessionLog.objects.get(pk=world.log_a.pk).status == SessionLog.Status.DRAFT


# --- the legitimate ways in --------------------------------------------------------------------------


def test_break_the_glass_opens_the_chart_for_hours_and_is_listed_for_review(world: World, settings) -> None:
    settings.CLINIC_EMERGENCY_ACCESS_HOURS = 24
    client = _staff(world.unrelated.user)
    short = client.post(reverse("bookings:break_glass"), {"patient_email": A_EMAIL, "reason": "help"})
    assert short.status_code == 200
    assert _chart(client, world.patient_a) == 404
    response = client.post(
        reverse("bookings:break_glass"), {"patient_email": A_EMAIL, "reason": "Collapsed in the waiting room"}
    )
    assert response.status_code == 302
    assert _chart(client, world.patient_a) == 200
    membership = CareTeamMembership.objects.get(member=world.unrelated.user, kind="emergency")
    assert membership in CareTeamMembership.objects.emergency_unreviewed()
    assert AuditEvent.objects.filter(target_id=str(membership.pk), description__contains="EMERGENCY").exists()
    CareTeamMembership.objects.filter(pk=membership.pk).update(
        starts_at=timezone.now() - timedelta(hours=25), ends_at=timezone.now() - timedelta(hours=1)
    )
    assert _chart(client, world.patient_a) == 404


def test_the_desk_cannot_break_the_glass(world: World) -> None:
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        care_team_break_glass(patient=world.patient_a, actor=world.desk, reason="I would like to read it")


def test_a_member_refers_a_colleague_but_an_outsider_cannot(world: World) -> None:
    outsider = _staff(world.unrelated.user)
    response = outsider.post(
        reverse("bookings:care_team", args=[world.patient_a.pk]),
        {"action": "refer", "practitioner": world.unrelated.pk, "reason": "me"},
    )
    assert response.status_code == 404
    member = _staff(world.related.user)
    response = member.post(
        reverse("bookings:care_team", args=[world.patient_a.pk]),
        {"action": "refer", "practitioner": world.practitioner_b.pk, "reason": "second opinion on needling"},
    )
    assert response.status_code == 302
    assert _chart(_staff(world.practitioner_b.user), world.patient_a) == 200


def test_the_desk_assigns_and_ends_but_reads_no_clinical_record(world: World) -> None:
    desk = _staff(world.desk)
    page = desk.get(reverse("bookings:care_team", args=[world.patient_a.pk]))
    assert page.status_code == 200
    assert A_CLINICAL not in page.content.decode()
    assert _chart(desk, world.patient_a) == 403
    desk.post(
        reverse("bookings:care_team", args=[world.patient_a.pk]),
        {"action": "assign", "practitioner": world.unrelated.pk, "reason": "takes over"},
    )
    assert _chart(_staff(world.unrelated.user), world.patient_a) == 200
    membership = CareTeamMembership.objects.get(member=world.unrelated.user, kind="assigned")
    desk.post(reverse("bookings:care_team", args=[world.patient_a.pk]), {"action": "end", "membership": membership.pk})
    assert _chart(_staff(world.unrelated.user), world.patient_a) == 404


def test_admins_list_emergency_access_for_review_and_mark_it_reviewed(world: World) -> None:
    membership = care_team_break_glass(
        patient=world.patient_a, actor=world.unrelated.user, reason="Collapsed in the waiting room"
    )
    client = _staff(world.admin)
    listing = client.get("/admin/clinic/careteammembership/", {"review": "waiting"})
    assert listing.status_code == 200
    assert "Collapsed in the waiting room" in listing.content.decode()
    response = client.post(
        "/admin/clinic/careteammembership/",
        {"action": "mark_reviewed", "_selected_action": [membership.pk], "index": 0},
    )
    assert response.status_code == 302
    membership.refresh_from_db()
    assert membership.reviewed_by == world.admin
    assert membership not in CareTeamMembership.objects.emergency_unreviewed()
    assert client.get("/admin/clinic/careteammembership/add/").status_code == 403
