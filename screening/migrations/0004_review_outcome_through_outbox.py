"""The review-outcome email goes through the outbox: each review's timestamp becomes an outbox row.

A review whose email went out gets a sent row (same key the service now writes, so it is never
sent again); one whose email had not gone out yet gets a pending row the dispatcher sends.
Then the timestamp column goes.
"""

from django.db import migrations
from django.utils import timezone


def notified_into_outbox(apps, schema_editor):
    Review = apps.get_model("screening", "Review")
    Reminder = apps.get_model("notifications", "Reminder")
    ContentType = apps.get_model("contenttypes", "ContentType")
    reviews = Review.objects.select_related("submission")
    if not reviews.exists():
        return
    review_type, _ = ContentType.objects.get_or_create(app_label="screening", model="review")
    now = timezone.now()
    rows = []
    for review in reviews.iterator():
        sent_at = review.patient_notified_at
        rows.append(
            Reminder(
                key=f"review_outcome:{review.pk}",
                kind="review_outcome",
                channel="email",
                patient_id=review.submission.patient_id,
                about_type=review_type,
                about_id=review.pk,
                due_at=sent_at or now,
                next_attempt_at=sent_at or now,
                state="sent" if sent_at else "pending",
                attempts=1 if sent_at else 0,
                sent_at=sent_at,
            )
        )
    Reminder.objects.bulk_create(rows, ignore_conflicts=True, batch_size=1000)


def outbox_into_notified(apps, schema_editor):
    Review = apps.get_model("screening", "Review")
    Reminder = apps.get_model("notifications", "Reminder")
    for row in Reminder.objects.filter(kind="review_outcome", state="sent").only("about_id", "sent_at"):
        Review.objects.filter(pk=row.about_id).update(patient_notified_at=row.sent_at)


class Migration(migrations.Migration):

    dependencies = [
        ("screening", "0003_history"),
        ("notifications", "0002_message_channel_and_about_index"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [
        migrations.RunPython(notified_into_outbox, outbox_into_notified),
        migrations.RemoveField(
            model_name="historicalreview",
            name="patient_notified_at",
        ),
        migrations.RemoveField(
            model_name="review",
            name="patient_notified_at",
        ),
    ]
