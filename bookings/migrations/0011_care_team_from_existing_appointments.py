"""Existing appointments become care-team memberships, so today's records stay reachable.

Each (patient, practitioner) pair with a booked or attended appointment (or a no-show) gets
one "booked with" membership lasting ``CLINIC_CARE_TEAM_MONTHS`` after the last of them,
with an audit row naming it.  Care plans alone grant nothing: creating a plan was the way a
practitioner could widen their own access (issue 13, finding 1), and a plan made by someone
who also has an appointment with the patient is covered by that appointment.  A plan whose
practitioner has no appointment needs the front desk or an admin to assign them.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import migrations
from django.db.models import Max
from django.utils import timezone


def grant_for_appointments(apps, schema_editor) -> None:
    Appointment = apps.get_model("bookings", "Appointment")
    Membership = apps.get_model("clinic", "CareTeamMembership")
    AuditEvent = apps.get_model("clinic", "AuditEvent")
    Practitioner = apps.get_model("clinic", "Practitioner")
    Patient = apps.get_model("clinic", "Patient")
    span = timedelta(days=round(30.44 * getattr(settings, "CLINIC_CARE_TEAM_MONTHS", 12)))
    now = timezone.now()
    pairs = (
        Appointment.objects.exclude(status="cancelled")
        .values("patient_id", "practitioner_id")
        .annotate(last=Max("starts_at"))
    )
    practitioner_users = dict(Practitioner.objects.values_list("pk", "user_id"))
    patient_users = dict(Patient.objects.values_list("pk", "user_id"))
    for pair in pairs.iterator():
        ends_at = pair["last"] + span
        if ends_at <= now:
            continue  # lapsed already: it would grant nothing
        membership = Membership.objects.create(
            patient_id=pair["patient_id"],
            member_id=practitioner_users[pair["practitioner_id"]],
            kind="booking",
            granted_by_id=patient_users[pair["patient_id"]],
            starts_at=now,
            ends_at=ends_at,
        )
        AuditEvent.objects.create(
            patient_id=pair["patient_id"],
            action="create",
            target_type="clinic.careteammembership",
            target_id=str(membership.pk),
            description="Care team: booked with (from appointments existing before the care team)",
        )


class Migration(migrations.Migration):
    dependencies = [
        ("bookings", "0010_care_plan_one_active_per_family"),
        ("clinic", "0010_care_team_and_front_desk"),
    ]

    operations = [migrations.RunPython(grant_for_appointments, migrations.RunPython.noop)]
