"""The outbox (Reminder, ReminderSettings) moves to the ``notifications`` app, keeping its tables and rows.

Bookings sits above notifications, so the outbox can no longer point at an appointment: the
appointment column goes (0010 copied it into the generic ``about``), and the appointment time
a reminder was planned for becomes ``about_at``.  Then the models leave bookings' state only
(their tables stay, ``notifications`` adopts them with ``db_table``), their content types and
permissions move with them, and the beat entry of the send task follows the task to its new module.
"""

from django.db import migrations

OLD_SEND_TASK = "bookings.tasks.reminders_send_due"
NEW_SEND_TASK = "notifications.tasks.reminders_send_due"


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
        ("bookings", "0012_reminder_appointment_into_about"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]
    # notifications adopts the tables in its 0001 (state only) and changes them from its 0002 on.
    run_before = [("notifications", "0001_initial")]

    operations = [
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
