"""Outcome figures per patient and treatment, against hand-computed examples."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied

from tests.factories import care_team_join
from tests.treatments.factories import past_slot, session_logged
from treatments.selectors import (
    is_meaningful_response,
    pain_reduction_percent,
    patient_outcomes,
    patient_session_history,
)


def _course(patient, practitioner, modality, scores: list[tuple[int, int]]):
    for days_ago, (before, after) in zip(range(len(scores) * 7, 0, -7), scores, strict=True):
        session_logged(
            patient=patient, practitioner=practitioner, modality=modality, starts_at=past_slot(days_ago),
            pain_before=before, pain_after=after,
        )  # fmt: skip


def test_pre_session_scores_8_7_6_5_are_a_3_point_37_5_percent_reduction_and_a_responder(patient, practitioner, wbc):
    _course(patient, practitioner, wbc, [(8, 6), (7, 5), (6, 5), (5, 3)])
    [outcome] = patient_outcomes(actor=patient.user, patient=patient)
    assert outcome.label == "Whole-body cryotherapy"
    assert [p.pain_before for p in outcome.sessions] == [8, 7, 6, 5]
    assert [p.pain_after for p in outcome.sessions] == [6, 5, 5, 3]
    assert outcome.baseline == 8
    assert outcome.change_points == 3
    assert outcome.change_percent == Decimal("37.5")
    assert outcome.is_responder
    assert [p.immediate_change for p in outcome.sessions] == [2, 2, 1, 2]
    assert outcome.mean_immediate_change == Decimal("1.8")  # 7 / 4 = 1.75, rounded half up


def test_small_drop_from_a_high_baseline_is_not_a_responder(patient, practitioner, wbc):
    _course(patient, practitioner, wbc, [(9, 8), (8, 8)])  # 1 point, 11.1 %
    [outcome] = patient_outcomes(actor=patient.user, patient=patient)
    assert outcome.change_points == 1
    assert outcome.change_percent == Decimal("11.1")
    assert not outcome.is_responder


def test_two_points_count_even_below_thirty_percent(patient, practitioner, wbc):
    _course(patient, practitioner, wbc, [(8, 7), (6, 6)])  # 2 points, 25 %
    [outcome] = patient_outcomes(actor=patient.user, patient=patient)
    assert outcome.change_percent == Decimal("25.0")
    assert outcome.is_responder


def test_acupuncture_follow_ups_count_against_the_initial_consultation_baseline(
    patient, practitioner, acupuncture_initial, acupuncture_follow_up, wbc
):
    session_logged(patient=patient, practitioner=practitioner, modality=acupuncture_initial,
                   starts_at=past_slot(30), pain_before=6, pain_after=5)  # fmt: skip
    session_logged(patient=patient, practitioner=practitioner, modality=acupuncture_follow_up,
                   starts_at=past_slot(20), pain_before=4, pain_after=3)  # fmt: skip
    session_logged(patient=patient, practitioner=practitioner, modality=wbc, starts_at=past_slot(10))
    outcomes = {outcome.kind: outcome for outcome in patient_outcomes(actor=patient.user, patient=patient)}
    assert set(outcomes) == {"wbc", "acupuncture"}
    assert outcomes["acupuncture"].baseline == 6
    assert outcomes["acupuncture"].change_percent == Decimal("33.3")
    assert not outcomes["wbc"].is_responder  # one session: too early to tell


def test_outcomes_show_only_the_patients_own_sessions(patient, other_patient, practitioner, wbc):
    _course(other_patient, practitioner, wbc, [(9, 2), (2, 1)])
    assert patient_outcomes(actor=patient.user, patient=patient) == []


@pytest.mark.parametrize(
    ("baseline", "current", "percent", "meaningful"),
    [(10, 7, Decimal("30.0"), True), (3, 2, Decimal("33.3"), True), (5, 4, Decimal("20.0"), False),
     (0, 0, None, False), (4, 6, Decimal("-50.0"), False)],
)  # fmt: skip
def test_meaningful_response_rule(baseline, current, percent, meaningful):
    assert pain_reduction_percent(baseline=baseline, current=current) == percent
    assert is_meaningful_response(baseline=baseline, current=current) is meaningful


def test_chart_reads_refuse_anyone_outside_the_patient_and_their_care_team(patient, other_patient, practitioner):
    for outsider in (other_patient.user, practitioner.user):
        with pytest.raises(PermissionDenied):
            patient_outcomes(actor=outsider, patient=patient)
        with pytest.raises(PermissionDenied):
            patient_session_history(actor=outsider, patient=patient)
    care_team_join(patient=patient, practitioner=practitioner)
    assert patient_outcomes(actor=practitioner.user, patient=patient) == []
    assert list(patient_session_history(actor=patient.user, patient=patient)) == []
