"""What staff read about screenings on their start page and calendars."""

from __future__ import annotations

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.factories import PatientFactory, care_team_join
from tests.screening.factories import screening_cleared, submission_with_answers


def _home(client) -> tuple[str, int]:
    with CaptureQueriesContext(connection) as queries:
        page = client.get(reverse("home")).content.decode()
    return page, len(queries)


def _team_patient(practitioner):
    patient = PatientFactory()
    care_team_join(patient=patient, practitioner=practitioner)
    return patient


def test_practitioner_home_counts_their_teams_screenings_waiting_for_review_and_links_the_queue(client, practitioner):
    client.force_login(practitioner.user)
    page, _ = _home(client)
    assert "No screenings waiting for review" in page

    submission_with_answers(patient=_team_patient(practitioner), yes=["high-blood-pressure"])
    submission_with_answers(patient=PatientFactory(), yes=["high-blood-pressure"])  # not their patient
    page, one_waiting = _home(client)
    assert "<strong>1</strong> screening waiting for review" in page
    assert reverse("screening:review_queue") in page

    for _ in range(3):
        submission_with_answers(patient=_team_patient(practitioner), yes=["high-blood-pressure"])
    screening_cleared(patient=_team_patient(practitioner))  # nothing to review
    page, four_waiting = _home(client)
    assert "<strong>4</strong> screenings waiting for review" in page
    assert four_waiting == one_waiting  # the count costs the same however long the queue
    queue = client.get(reverse("screening:review_queue")).content.decode()
    assert queue.count(">Review<") == 4  # the queue shows exactly what the start page counted


def test_staff_read_cleared_where_patients_read_ready_to_book(client, practitioner, patient):
    screening_cleared(patient=patient)
    client.force_login(practitioner.user)
    page = client.get(reverse("screening:patient", args=[patient.pk])).content.decode()
    assert "Cleared" in page
    assert "Ready to book" not in page
