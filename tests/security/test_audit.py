from __future__ import annotations

import pytest
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.urls import reverse

from clinic.audit import audit_record
from clinic.models import AuditEvent, AuditTrailIsAppendOnly
from tests.factories import PatientFactory, verified_login

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.security.urls")]


def test_staff_opening_a_patient_chart_is_recorded(client, practitioner_user, patient):
    verified_login(client, practitioner_user)

    response = client.get(reverse("test_patient_chart", args=[patient.pk]), REMOTE_ADDR="192.0.2.44")

    assert response.status_code == 200
    event = AuditEvent.objects.get()
    assert event.actor == practitioner_user
    assert event.patient == patient
    assert event.action == AuditEvent.Action.VIEW
    assert (event.target_type, event.target_id) == ("clinic.patient", str(patient.pk))
    assert event.description == "Patient chart"
    assert event.ip_address == "192.0.2.44"
    assert event.path == f"/test-audit/patients/{patient.pk}/"


def test_audit_address_trusts_only_the_configured_proxies(client, practitioner_user, patient, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    verified_login(client, practitioner_user)

    client.get(
        reverse("test_patient_chart", args=[patient.pk]),
        REMOTE_ADDR="10.0.0.2",
        HTTP_X_FORWARDED_FOR="6.6.6.6, 198.51.100.20",
    )

    assert AuditEvent.objects.get().ip_address == "198.51.100.20"


def test_staff_asking_for_a_record_that_is_not_theirs_to_see_leaves_a_denied_row(client, practitioner_user):
    verified_login(client, practitioner_user)

    response = client.get(reverse("test_patient_chart", args=[987654]))

    assert response.status_code == 404
    event = AuditEvent.objects.get()
    assert event.action == AuditEvent.Action.DENIED
    assert event.actor == practitioner_user
    assert event.patient is None
    assert event.path == "/test-audit/patients/987654/"


def test_a_forbidden_answer_is_recorded_as_denied(client, practitioner_user):
    verified_login(client, practitioner_user)

    assert client.get(reverse("test_sealed_record")).status_code == 403

    assert AuditEvent.objects.get().action == AuditEvent.Action.DENIED


def test_patient_trying_a_staff_page_is_refused_and_recorded(client, patient, other_patient):
    client.force_login(patient.user)

    response = client.get(reverse("test_patient_chart", args=[other_patient.pk]))

    assert response.status_code == 403
    event = AuditEvent.objects.get()
    assert (event.actor, event.action) == (patient.user, AuditEvent.Action.DENIED)


def test_anonymous_visitors_are_sent_to_login_without_an_audit_row(client, patient):
    response = client.get(reverse("test_patient_chart", args=[patient.pk]))

    assert response.status_code == 302
    assert not AuditEvent.objects.exists()


def test_audit_record_takes_actor_patient_and_target_from_its_arguments(rf, practitioner_user, patient):
    request = rf.post("/treatments/logs/1/", REMOTE_ADDR="192.0.2.5")
    request.user = practitioner_user

    event = audit_record(
        request=request,
        patient=patient,
        action=AuditEvent.Action.CHANGE,
        target=patient.user,
        description="x" * 400,
    )

    event.refresh_from_db()
    assert event.actor == practitioner_user
    assert event.method == "POST"
    assert event.target_type == "clinic.user"
    assert len(event.description) == 255


def test_audit_events_cannot_be_changed_or_deleted_through_the_model(patient):
    event = audit_record(request=None, patient=patient, action=AuditEvent.Action.EXPORT, description="nightly export")

    event.description = "nothing happened"
    with pytest.raises(AuditTrailIsAppendOnly):
        event.save()
    with pytest.raises(AuditTrailIsAppendOnly):
        event.delete()
    with pytest.raises(AuditTrailIsAppendOnly):
        AuditEvent.objects.filter(pk=event.pk).update(description="nothing happened")
    with pytest.raises(AuditTrailIsAppendOnly):
        AuditEvent.objects.all().delete()
    assert AuditEvent.objects.get().description == "nightly export"


def test_a_patient_with_audit_history_cannot_be_deleted(patient):
    audit_record(request=None, patient=patient, action=AuditEvent.Action.VIEW)

    with pytest.raises(IntegrityError), transaction.atomic():
        patient.delete()


def test_the_database_itself_refuses_to_rewrite_the_audit_trail(patient):
    """Raw SQL bypasses the model guards; the trigger refuses it on SQLite and PostgreSQL alike."""
    event = audit_record(request=None, patient=patient, action=AuditEvent.Action.VIEW)
    statements = ["UPDATE clinic_auditevent SET description = 'x'", "DELETE FROM clinic_auditevent"]
    if connection.vendor == "postgresql":
        # Immediate constraints first: TRUNCATE refuses to run past pending foreign-key checks.
        statements.append("SET CONSTRAINTS ALL IMMEDIATE; TRUNCATE clinic_auditevent CASCADE")

    for statement in statements:
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(statement)
    assert AuditEvent.objects.get(pk=event.pk).description == ""


def test_audit_trail_is_read_only_in_the_admin(client, clinic_admin, patient):
    event = audit_record(request=None, patient=patient, action=AuditEvent.Action.VIEW, description="chart")
    verified_login(client, clinic_admin)

    changelist = client.get(reverse("admin:clinic_auditevent_changelist"), {"action__exact": "view"})
    detail = client.get(reverse("admin:clinic_auditevent_change", args=[event.pk]))
    post_change = client.post(reverse("admin:clinic_auditevent_change", args=[event.pk]), {"description": "edited"})
    delete = client.post(reverse("admin:clinic_auditevent_delete", args=[event.pk]), {"post": "yes"})
    add = client.get(reverse("admin:clinic_auditevent_add"))

    assert changelist.status_code == 200
    assert "chart" in changelist.content.decode()
    assert detail.status_code == 200
    assert 'name="_save"' not in detail.content.decode()
    assert post_change.status_code == 403
    assert delete.status_code == 403
    assert add.status_code == 403
    event.refresh_from_db()
    assert event.description == "chart"


def test_audit_admin_filters_by_user_patient_and_date(client, rf, clinic_admin, practitioner_user, patient):
    request = rf.get("/")
    request.user = practitioner_user
    audit_record(request=request, patient=patient, action=AuditEvent.Action.VIEW, description="wanted")
    audit_record(request=request, patient=PatientFactory(), action=AuditEvent.Action.VIEW, description="other patient")
    audit_record(request=None, patient=patient, action=AuditEvent.Action.EXPORT, description="no actor")
    verified_login(client, clinic_admin)
    today = AuditEvent.objects.first().created_at

    response = client.get(
        reverse("admin:clinic_auditevent_changelist"),
        {
            "actor__id__exact": practitioner_user.pk,
            "patient__id__exact": patient.pk,
            "created_at__year": today.year,
            "created_at__month": today.month,
            "created_at__day": today.day,
        },
    )

    assert [event.description for event in response.context["cl"].queryset] == ["wanted"]
    filters = {str(spec.title) for spec in response.context["cl"].filter_specs}
    assert {"actor", "patient", "action"} <= filters


def test_practitioners_cannot_read_the_audit_trail_in_the_admin(client, practitioner_user):
    verified_login(client, practitioner_user)

    response = client.get(reverse("admin:clinic_auditevent_changelist"))

    assert response.status_code == 302  # admin login: practitioners have no admin access
