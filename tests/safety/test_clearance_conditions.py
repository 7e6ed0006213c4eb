"""Issue 16 gap 3: a clearance's conditions are structured, enforced when the session is logged, shown on the chart."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from screening.models import ClearanceCondition, Review
from screening.services import review_record
from tests.factories import care_team_join
from tests.screening.factories import consents_signed, submission_with_answers
from tests.treatments.factories import appointment_create, valid_values
from treatments.models import SessionLog
from treatments.services import session_log_create


@pytest.fixture
def manual_needling_only(db) -> ClearanceCondition:
    return ClearanceCondition.objects.get(name="Manual needling only (no electro-stimulation)")


@pytest.fixture
def pacemaker_patient_cleared(patient, practitioner, acupuncture_follow_up, manual_needling_only):
    care_team_join(patient=patient, practitioner=practitioner)
    submission = submission_with_answers(patient=patient, yes=["pacemaker"])
    consents_signed(patient=patient, modalities=[acupuncture_follow_up])
    return review_record(
        submission=submission,
        modality=acupuncture_follow_up,
        decision=Review.Decision.CLEAR,
        note="Fine for acupuncture, but no electro-acupuncture with a pacemaker.",
        conditions=[manual_needling_only],
        by=practitioner.user,
    )


def test_a_log_with_electro_stimulation_is_refused_for_a_manual_needling_only_clearance(
    pacemaker_patient_cleared, patient, practitioner, acupuncture_follow_up
):
    appointment = appointment_create(patient=patient, practitioner=practitioner, modality=acupuncture_follow_up)
    values = valid_values(acupuncture_follow_up, electro_stimulation=True)
    with pytest.raises(ValidationError) as refused:
        session_log_create(appointment=appointment, by=practitioner.user, values=values)
    message = " ".join(refused.value.error_dict["electro_stimulation"][0].messages)
    assert "Manual needling only" in message
    assert "electro-stimulation is not allowed" in message
    assert not SessionLog.objects.exists()


def test_manual_needling_is_logged_as_usual_under_that_clearance(
    pacemaker_patient_cleared, patient, practitioner, acupuncture_follow_up
):
    appointment = appointment_create(patient=patient, practitioner=practitioner, modality=acupuncture_follow_up)
    log = session_log_create(appointment=appointment, by=practitioner.user, values=valid_values(acupuncture_follow_up))
    assert log.electro_stimulation is False


def test_the_log_form_shows_the_clearance_condition_as_a_field_error(
    pacemaker_patient_cleared, practitioner_client, patient, practitioner, acupuncture_follow_up
):
    from tests.treatments.factories import valid_post

    appointment = appointment_create(patient=patient, practitioner=practitioner, modality=acupuncture_follow_up)
    response = practitioner_client.post(
        reverse("treatments:log_create", args=[appointment.pk]),
        valid_post(acupuncture_follow_up, electro_stimulation="yes"),
    )
    assert response.status_code == 400
    assert "electro-stimulation is not allowed" in response.content.decode()


def test_a_condition_only_binds_the_modality_it_was_given_for(
    pacemaker_patient_cleared, patient, practitioner, acupuncture_initial
):
    """The clearance was for follow-ups; the initial consultation has its own review (none here)."""
    from screening.services import clearance_in_force

    assert clearance_in_force(patient=patient, modality=acupuncture_initial) is None


def test_the_chart_shows_the_clearance_conditions(
    pacemaker_patient_cleared, practitioner_client, patient, acupuncture_follow_up
):
    page = practitioner_client.get(reverse("treatments:patient_chart", args=[patient.pk]))
    assert "Cleared on condition: Manual needling only (no electro-stimulation)" in page.content.decode()


def test_the_review_form_offers_the_conditions(pacemaker_patient_cleared, manual_needling_only):
    from screening.forms import ReviewForm

    form = ReviewForm(modalities=[], modality=None)
    assert manual_needling_only in form.fields["conditions"].queryset
