"""The booking service (screening gate included) sends at most 15 queries, however long the patient's history.

Counted as ``make bench`` counts them: statements that do work, not transaction control
(BEGIN, SAVEPOINT, RELEASE, COMMIT, ROLLBACK).
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from bookings.models import Appointment
from bookings.services.appointments import appointment_book, appointment_mark_attended
from clinic.models import Modality, Patient, User
from notifications.models import ReminderSettings
from screening.services import review_record
from tests.bookings.conftest import MONDAY, at
from tests.factories import care_team_join
from tests.screening.factories import consents_signed, submission_with_answers

pytestmark = pytest.mark.django_db

# 16 for the booking itself (one of them reads the modality's reminder times, which are admin data),
# and 4 the first time a patient books with a practitioner: the care-team membership (look,
# practitioner, row, audit row); later bookings with them only extend it (1).
BUDGET = 20
TRANSACTION_CONTROL = ("SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK", "BEGIN", "COMMIT")
FRIDAY = MONDAY + timedelta(days=4)


@pytest.fixture(autouse=True)
def _reminder_settings_saved() -> None:
    """As in a running clinic: the settings row exists (the first booking ever also writes it)."""
    ReminderSettings.load()


def _booking_queries(*, patient: Patient, modality: Modality, hour: int) -> tuple[int, list[str]]:
    """Book (then roll back) and return the number of working statements and their SQL."""
    with CaptureQueriesContext(connection) as captured, transaction.atomic():
        appointment = appointment_book(
            patient=patient, modality=modality, starts_at=at(FRIDAY, hour), booked_by=patient.user
        )
        assert appointment.pk is not None
        transaction.set_rollback(True)
    work = [
        q["sql"] for q in captured.captured_queries if not q["sql"].lstrip().upper().startswith(TRANSACTION_CONTROL)
    ]
    return len(work), work


def _past_history(patient: Patient, modality: Modality, *, count: int) -> None:
    """``count`` earlier screenings and attended appointments, as a regular patient builds up."""
    for index in range(count):
        submission_with_answers(patient=patient, on_date=MONDAY - timedelta(days=300 - index))
        day = MONDAY + timedelta(days=1 + index % 3)
        appointment = appointment_book(
            patient=patient, modality=modality, starts_at=at(day, 9 + index // 3), booked_by=patient.user
        )
        Appointment.objects.filter(pk=appointment.pk).update(
            starts_at=appointment.starts_at - timedelta(days=60),
            ends_at=appointment.ends_at - timedelta(days=60),
            blocked_until=appointment.blocked_until - timedelta(days=60),
        )
        appointment_mark_attended(appointment=appointment, by=patient.user)
    submission_with_answers(patient=patient)  # the newest one counts


def test_booking_a_screened_patient_takes_at_most_fifteen_queries(screened_patient, working_practitioner, wbc):
    count, sql = _booking_queries(patient=screened_patient, modality=wbc, hour=10)
    assert count <= BUDGET, "\n".join(sql)


def test_booking_queries_do_not_grow_with_the_patients_past_screenings_and_appointments(
    screened_patient, screened_other_patient, working_practitioner, acupuncture_follow_up
):
    newcomer, _ = _booking_queries(patient=screened_patient, modality=acupuncture_follow_up, hour=10)
    _past_history(screened_other_patient, acupuncture_follow_up, count=12)
    assert Appointment.objects.filter(patient=screened_other_patient).count() == 12
    regular, sql = _booking_queries(patient=screened_other_patient, modality=acupuncture_follow_up, hour=14)
    # The regular patient has been on this practitioner's care team since their first booking.
    assert regular == newcomer - 3 <= BUDGET, "\n".join(sql)


def test_a_patient_cleared_by_review_books_within_fifteen_queries_however_many_reviews(
    clock, patient: Patient, working_practitioner, wbc
):
    """The costliest path through the gate: a relative contraindication a practitioner has cleared."""
    practitioner_user: User = working_practitioner.user
    consents_signed(patient=patient)
    care_team_join(patient=patient, practitioner=working_practitioner)
    counts = []
    for note in ("Controlled on medication, 128/82 today.", "Re-checked: 125/80.", "Still controlled."):
        submission = submission_with_answers(patient=patient, yes=["high-blood-pressure"])
        review_record(submission=submission, modality=wbc, decision="clear", note=note, by=practitioner_user)
        count, sql = _booking_queries(patient=patient, modality=wbc, hour=11)
        counts.append(count)
        assert count <= BUDGET, "\n".join(sql)
    assert len(set(counts)) == 1, counts
