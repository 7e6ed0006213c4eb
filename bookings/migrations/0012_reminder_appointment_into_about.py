"""Before the outbox moves to ``notifications`` (0011): each row's appointment is copied into its generic ``about``.

A migration of its own, so that on PostgreSQL the rows are committed before 0011 alters the
table (an ALTER TABLE refuses to run over pending foreign-key checks in the same transaction).
"""

from django.db import migrations
from django.db.models import F


def appointment_into_about(apps, schema_editor):
    Reminder = apps.get_model("bookings", "Reminder")
    ContentType = apps.get_model("contenttypes", "ContentType")
    rows = Reminder.objects.filter(appointment__isnull=False)
    if not rows.exists():
        return
    appointment_type, _ = ContentType.objects.get_or_create(app_label="bookings", model="appointment")
    # Before the move no row had both (confirmations and reminders point at the appointment, nudges
    # and expiry notices at their plan or screening); keep the appointment id if one ever did.
    both = rows.filter(about_type__isnull=False)
    for row in both.only("pk", "context", "appointment_id"):
        row.context = {**(row.context or {}), "appointment_id": row.appointment_id}
        row.save(update_fields=["context"])
    rows.filter(about_type__isnull=True).update(about_type=appointment_type, about_id=F("appointment_id"))


def about_into_appointment(apps, schema_editor):
    Reminder = apps.get_model("bookings", "Reminder")
    ContentType = apps.get_model("contenttypes", "ContentType")
    appointment_type = ContentType.objects.filter(app_label="bookings", model="appointment").first()
    if appointment_type is None:
        return
    Reminder.objects.filter(about_type=appointment_type).update(
        appointment_id=F("about_id"), about_type=None, about_id=None
    )


class Migration(migrations.Migration):

    dependencies = [
        ("bookings", "0011_care_team_from_existing_appointments"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [
        migrations.RunPython(appointment_into_about, about_into_appointment),
    ]
