"""The outbox (Reminder, ReminderSettings) moves to the ``notifications`` app, keeping its tables and rows.

Bookings sits above notifications, so the outbox can no longer point at an appointment: each
row's appointment becomes its generic ``about`` (content type + id), and the appointment time it
was planned for becomes ``about_at``.  Then the models leave bookings' state only (their tables
stay, ``notifications`` adopts them with ``db_table``), their content types and permissions move
with them, and the beat entry of the send task follows the task to its new module.
"""

from django.db import migrations
from django.db.models import F

OLD_SEND_TASK = "bookings.tasks.reminders_send_due"
NEW_SEND_TASK = "notifications.tasks.reminders_send_due"


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


def content_types_move(apps, schema_editor, *, source="bookings", target="notifications"):
    ContentType = apps.get_model("contenttypes", "ContentType")
    for model in ("reminder", "remindersettings"):
        if ContentType.objects.filter(app_label=target, model=model).exists():
            continue
        ContentType.objects.filter(app_label=source, model=model).update(app_label=target)


def content_types_move_back(apps, schema_editor):
    content_types_move(apps, schema_editor, source="notifications", target="bookings")


def beat_task_rename(apps, schema_editor, *, old=OLD_SEND_TASK, new=NEW_SEND_TASK):
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    PeriodicTask.objects.filter(task=old).update(task=new)


def beat_task_rename_back(apps, schema_editor):
    beat_task_rename(apps, schema_editor, old=NEW_SEND_TASK, new=OLD_SEND_TASK)


class Migration(migrations.Migration):

    dependencies = [
        ("bookings", "0009_settings_single_row"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]
    # notifications adopts the tables in its 0001 (state only) and changes them from its 0002 on.
    run_before = [("notifications", "0001_initial")]

    operations = [
        migrations.RunPython(appointment_into_about, about_into_appointment),
        migrations.RemoveField(model_name="reminder", name="appointment"),
        migrations.RenameField(model_name="reminder", old_name="appointment_starts_at", new_name="about_at"),
        migrations.RunPython(content_types_move, content_types_move_back),
        migrations.RunPython(beat_task_rename, beat_task_rename_back),
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.DeleteModel(name="Reminder"),
                migrations.DeleteModel(name="ReminderSettings"),
            ],
        ),
    ]
