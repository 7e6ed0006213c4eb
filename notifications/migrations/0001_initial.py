"""The outbox's models, adopted from bookings with their tables and rows (see bookings 0010)."""

import datetime
import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('clinic', '0006_modality_max_span'),
        ('contenttypes', '0002_remove_content_type_name'),
    ]

    operations = [
        # The tables exist already (bookings created them); this app adopts them as they are.
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='ReminderSettings',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('upcoming_hours_before', models.PositiveSmallIntegerField(default=24, help_text='How long before a booked session its reminder email goes out.', verbose_name='appointment reminder (hours before)')),
                        ('screening_expiry_days_before', models.PositiveSmallIntegerField(default=14, help_text='How many days before an intake screening expires the patient is told to renew it.', verbose_name='screening expiry notice (days before)')),
                        ('quiet_hours_start', models.TimeField(default=datetime.time(21, 0), help_text='From this clinic-time hour no reminder is sent (until the end below).')),
                        ('quiet_hours_end', models.TimeField(default=datetime.time(8, 0), help_text='Reminders held during the quiet hours go out from this clinic time.')),
                        ('max_attempts', models.PositiveSmallIntegerField(default=5, help_text='Failed sends tried this often in total before the reminder is marked failed.')),
                        ('retry_backoff_seconds', models.PositiveIntegerField(default=60, help_text='Wait after the first failed send; it doubles with every further failure (capped at an hour).')),
                        ('requeue_after_seconds', models.PositiveIntegerField(default=300, help_text='A due reminder handed to a worker and still unsent after this long is handed out again (covers a lost queue message or a killed worker; the send itself stays at most once).')),
                    ],
                    options={
                        'verbose_name': 'reminder settings',
                        'verbose_name_plural': 'reminder settings',
                        'db_table': 'bookings_remindersettings',
                        'constraints': [models.CheckConstraint(condition=models.Q(('max_attempts__gte', 1)), name='reminder_settings_at_least_one_attempt'), models.CheckConstraint(condition=models.Q(('pk', 1)), name='reminder_settings_single_row')],
                    },
                ),
                migrations.CreateModel(
                    name='Reminder',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('key', models.CharField(help_text="What this message is about, e.g. 'upcoming:42:2026-03-01T09:00:00+00:00'. The same key can never be planned twice.", max_length=200, unique=True)),
                        ('kind', models.CharField(db_index=True, help_text='Which message this is; the app that sends it registers the kind and how to write it (see notifications.kinds).', max_length=24)),
                        ('about_at', models.DateTimeField(blank=True, help_text="The time of what the message is about when it was planned (an appointment's start); a moved appointment gets a new message.", null=True)),
                        ('about_id', models.PositiveBigIntegerField(blank=True, null=True)),
                        ('context', models.JSONField(blank=True, default=dict, help_text='Facts fixed when the reminder was planned (e.g. the modality to rebook).')),
                        ('due_at', models.DateTimeField(help_text='When the message is meant to go out (after quiet hours).')),
                        ('next_attempt_at', models.DateTimeField(help_text='Earliest time of the next send attempt: the due time, later after a failed try.')),
                        ('state', models.CharField(choices=[('pending', 'Pending'), ('sent', 'Sent'), ('failed', 'Failed'), ('cancelled', 'Cancelled')], db_index=True, default='pending', max_length=12)),
                        ('attempts', models.PositiveSmallIntegerField(default=0, help_text='Send attempts that failed or succeeded.')),
                        ('last_error', models.TextField(blank=True, help_text='Why the last attempt failed.')),
                        ('enqueued_at', models.DateTimeField(blank=True, help_text='When a worker was last asked to send it (the lease of the dispatcher).', null=True)),
                        ('sent_at', models.DateTimeField(blank=True, null=True)),
                        ('created_at', models.DateTimeField(auto_now_add=True)),
                        ('updated_at', models.DateTimeField(auto_now=True)),
                        ('about_type', models.ForeignKey(blank=True, help_text='What the message is about (an appointment, a care plan, a screening, a review).', null=True, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='contenttypes.contenttype')),
                        ('patient', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='reminders', to='clinic.patient')),
                    ],
                    options={
                        'db_table': 'bookings_reminder',
                        'ordering': ['-due_at'],
                        'indexes': [models.Index(fields=['state', 'next_attempt_at'], name='reminder_state_next_idx')],
                        'constraints': [models.CheckConstraint(condition=models.Q(models.Q(('state', 'sent'), _negated=True), ('sent_at__isnull', False), _connector='OR'), name='reminder_sent_has_sent_at')],
                    },
                ),
            ],
        ),
    ]
