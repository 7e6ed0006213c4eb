"""The outbox's move from bookings to notifications keeps every row, on SQLite and PostgreSQL.

The database is taken back to the layout before the move (bookings 0009, screening 0003,
no notifications), filled the way that code filled it, and migrated forward again.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone
from django_celery_beat.models import IntervalSchedule, PeriodicTask

from bookings.services.reminders import BookingMessage
from notifications.models import Reminder
from screening.models import Review
from screening.services import review_record
from tests.factories import appointment_create
from tests.screening.factories import submission_with_answers

# serialized_rollback: the seeded catalogue comes back after an earlier transactional test flushed it.
pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

BEFORE_THE_MOVE = [
    ("bookings", "0011_care_team_from_existing_appointments"),
    ("screening", "0003_history"),
    ("notifications", None),
]


def _migrate(targets: list[tuple[str, str | None]]):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state([target for target in targets if target[1]]).apps


def _latest() -> list[tuple[str, str]]:
    executor = MigrationExecutor(connection)
    return executor.loader.graph.leaf_nodes()


def test_moving_the_outbox_keeps_every_row_and_what_it_is_about(
    patient, practitioner, wbc, django_capture_on_commit_callbacks
):
    now = timezone.now()
    appointment = appointment_create(
        patient=patient, practitioner=practitioner, modality=wbc, starts_at=now + timedelta(days=3)
    )
    submission = submission_with_answers(patient=patient, yes=["anaemia"])
    with django_capture_on_commit_callbacks(execute=False):
        notified = review_record(
            submission=submission, modality=wbc, decision="clear", note="Fine.", by=practitioner.user
        )
    Reminder.objects.all().delete()  # the old code wrote no outbox row for a review
    interval = IntervalSchedule.objects.create(every=60, period=IntervalSchedule.SECONDS)
    PeriodicTask.objects.create(
        name="reminders: send due reminders", task="bookings.tasks.reminders_send_due", interval=interval
    )

    old = _migrate(BEFORE_THE_MOVE)
    OldReminder = old.get_model("bookings", "Reminder")
    OldReview = old.get_model("screening", "Review")
    OldContentType = old.get_model("contenttypes", "ContentType")
    plan_type = OldContentType.objects.get_or_create(app_label="bookings", model="careplan")[0]
    common = {"patient_id": patient.pk, "due_at": now, "next_attempt_at": now}
    OldReminder.objects.create(
        key="booked:1", kind="booked", appointment_id=appointment.pk, state="sent", sent_at=now, attempts=1, **common
    )
    OldReminder.objects.create(
        key="upcoming:1",
        kind="upcoming",
        appointment_id=appointment.pk,
        appointment_starts_at=appointment.starts_at,
        **common,
    )
    OldReminder.objects.create(
        key="nudge:7", kind="nudge", about_type=plan_type, about_id=7, context={"due_on": "2026-12-01"}, **common
    )
    OldReview.objects.filter(pk=notified.pk).update(patient_notified_at=now - timedelta(hours=1))

    _migrate(_latest())

    rows = {row.key: row for row in Reminder.objects.all()}
    assert set(rows) == {"booked:1", "upcoming:1", "nudge:7", f"review_outcome:{notified.pk}"}
    assert rows["booked:1"].about == appointment
    assert (rows["booked:1"].state, rows["booked:1"].attempts) == (Reminder.State.SENT, 1)
    assert rows["upcoming:1"].about == appointment
    assert rows["upcoming:1"].about_at == appointment.starts_at
    assert rows["nudge:7"].about_id == 7
    assert rows["nudge:7"].context == {"due_on": "2026-12-01"}
    assert {row.channel for row in rows.values()} == {"email"}
    assert set(Reminder.objects.filter(appointment=appointment).values_list("kind", flat=True)) == {
        BookingMessage.BOOKING_CONFIRMED,
        BookingMessage.UPCOMING_APPOINTMENT,
    }
    # The review's email went out before the move: it is a sent row, never sent again.
    outcome = rows[f"review_outcome:{notified.pk}"]
    assert outcome.about == Review.objects.get(pk=notified.pk)
    assert outcome.state == Reminder.State.SENT
    # Admin permissions and log entries follow the model's content type.
    assert ContentType.objects.filter(app_label="notifications", model="reminder").count() == 1
    assert not ContentType.objects.filter(app_label="bookings", model="reminder").exists()
    assert (
        PeriodicTask.objects.get(name="reminders: send due reminders").task == "notifications.tasks.reminders_send_due"
    )
