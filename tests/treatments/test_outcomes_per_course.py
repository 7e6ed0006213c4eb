"""Outcomes per course against a hand-computed data set (README, "Outcome definitions").

Period: the last 30 days.  Signed sessions unless marked draft.

- Pat Split, acupuncture with Nikhil Needham: initial consultation 45 days ago 8->6 (before the
  period), follow-ups 20 days ago 6->5 and 10 days ago 5->4.  One course, true baseline 8,
  latest 5: 3 points (37.5 %) better, a responder.  (Measured per modality and from the first
  session in the period, it read 6 -> 5: not a responder.)
- Lou Low, whole-body with Freya Frost: 3->2 (20 days ago), 2->1 (10 days ago).  Baseline 3 is
  below the floor of 4: counted apart, not as a non-responder.
- Wes Worse, whole-body with Freya Frost: 5->4 (25 days ago), 8->7 (5 days ago): 3 points worse,
  not a responder; plus a draft 2 days ago 1->0 that counts nowhere (it would make him a responder).

Per treatment: Acupuncture 2 sessions, mean change 1.00, 1 responder of 1, 0 low baselines;
whole-body 4 sessions, mean 1.00, 0 of 1, 1 low baseline.  Per practitioner: Needham = the
acupuncture row, Frost = the whole-body row.
"""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.factories import PatientFactory, PractitionerFactory, care_team_join
from tests.treatments.factories import past_slot, session_logged
from treatments.models import OutcomeSettings
from treatments.selectors import patient_outcomes, session_report


@pytest.fixture
def period() -> dict[str, object]:
    today = timezone.localdate()
    return {"date_from": today - timedelta(days=30), "date_to": today}


@pytest.fixture
def people(db, wbc, acupuncture_initial, acupuncture_follow_up):
    frost = PractitionerFactory(user__first_name="Freya", user__last_name="Frost", modalities=[wbc])
    needham = PractitionerFactory(
        user__first_name="Nikhil",
        user__last_name="Needham",
        modalities=[acupuncture_initial, acupuncture_follow_up],
    )
    split = PatientFactory(user__first_name="Pat", user__last_name="Split")
    low = PatientFactory(user__first_name="Lou", user__last_name="Low")
    worse = PatientFactory(user__first_name="Wes", user__last_name="Worse")
    sessions = [
        (split, needham, acupuncture_initial, 45, 8, 6, True),
        (split, needham, acupuncture_follow_up, 20, 6, 5, True),
        (split, needham, acupuncture_follow_up, 10, 5, 4, True),
        (low, frost, wbc, 20, 3, 2, True),
        (low, frost, wbc, 10, 2, 1, True),
        (worse, frost, wbc, 25, 5, 4, True),
        (worse, frost, wbc, 5, 8, 7, True),
        (worse, frost, wbc, 2, 1, 0, False),
    ]
    for patient, practitioner, modality, days_ago, before, after, signed in sessions:
        session_logged(
            patient=patient, practitioner=practitioner, modality=modality, starts_at=past_slot(days_ago),
            pain_before=before, pain_after=after, sign=signed,
        )  # fmt: skip
    return {"frost": frost, "needham": needham, "split": split, "low": low, "worse": worse}


def _figures(rows):
    return {
        row.label: (
            row.sessions,
            str(row.mean_immediate_change),
            row.responders,
            row.patients_assessed,
            row.low_baseline,
        )
        for row in rows
    }


def test_report_per_treatment_measures_each_course_from_its_true_baseline(people, period):
    assert _figures(session_report(**period, group_by="modality")) == {
        "Acupuncture": (2, "1.00", 1, 1, 0),
        "Whole-body cryotherapy": (4, "1.00", 0, 1, 1),
    }


def test_report_per_practitioner_agrees_with_the_report_per_treatment(people, period):
    assert _figures(session_report(**period, group_by="practitioner")) == {
        "Nikhil Needham": (2, "1.00", 1, 1, 0),
        "Freya Frost": (4, "1.00", 0, 1, 1),
    }


def test_a_course_counts_for_the_practitioner_of_its_latest_session_in_the_period(people, period, wbc):
    other = PractitionerFactory(user__first_name="Otto", user__last_name="Other", modalities=[wbc])
    session_logged(
        patient=people["worse"], practitioner=other, modality=wbc, starts_at=past_slot(1), pain_before=8, pain_after=8
    )
    rows = _figures(session_report(**period, group_by="practitioner"))
    assert rows["Otto Other"] == (1, "0.00", 0, 1, 0)
    assert rows["Freya Frost"] == (4, "1.00", 0, 0, 1)
    per_treatment = _figures(session_report(**period, group_by="modality"))
    assert per_treatment["Whole-body cryotherapy"][2:] == (0, 1, 1)


def test_the_chart_reads_the_same_course_figures(people):
    split, worse, low = people["split"], people["worse"], people["low"]
    [acupuncture] = patient_outcomes(actor=split.user, patient=split)
    assert (acupuncture.label, acupuncture.baseline, acupuncture.latest) == ("Acupuncture", 8, 5)
    assert acupuncture.is_responder
    [wbc_course] = patient_outcomes(actor=worse.user, patient=worse)
    assert [point.pain_before for point in wbc_course.sessions] == [5, 8]  # the draft is not charted
    assert (wbc_course.worse_points, wbc_course.is_responder) == (3, False)
    [low_course] = patient_outcomes(actor=low.user, patient=low)
    assert low_course.is_low_baseline
    assert not low_course.is_responder


def test_my_progress_says_a_worsening_is_worse(people, client):
    client.force_login(people["worse"].user)
    page = client.get(reverse("treatments:my_progress")).content.decode()
    assert "3 points worse" in page
    assert "higher" not in page


def test_chart_says_a_low_baseline_cannot_show_a_response(people, client, settings):
    settings.CLINIC_STAFF_2FA_REQUIRED = False
    care_team_join(patient=people["low"], practitioner=people["frost"])
    client.force_login(people["frost"].user)
    page = client.get(reverse("treatments:patient_chart", args=[people["low"].pk])).content.decode()
    assert "Baseline below 4/10" in page
    client.force_login(people["split"].user)
    page = client.get(reverse("treatments:my_progress")).content.decode()
    assert "3 points better (37.5% less pain)" in page


def test_the_baseline_floor_is_the_clinics_setting(people, period):
    settings_row = OutcomeSettings.load()
    settings_row.baseline_floor = 3
    settings_row.save()
    assert _figures(session_report(**period))["Whole-body cryotherapy"][2:] == (1, 2, 0)  # 3 -> 2 is 33 %


def test_report_page_says_how_courses_are_measured_and_the_csv_has_the_same_figures(people, period, settings, client):
    settings.CLINIC_STAFF_2FA_REQUIRED = False
    client.force_login(people["frost"].user)
    params = {key: str(value) for key, value in period.items()} | {"group_by": "modality"}
    page = client.get(reverse("treatments:report"), params).content.decode()
    assert "true baseline" in page
    assert "drafts do not" in page
    rows = list(csv.reader(io.StringIO(client.get(reverse("treatments:report_csv"), params).content.decode())))
    assert rows[1][:9] == ["Acupuncture", "2", "1.00", "1", "1", "100.0", "0", "0.0", "0"]
    assert rows[2][:9] == ["Whole-body cryotherapy", "4", "1.00", "1", "0", "0.0", "0", "0.0", "1"]
