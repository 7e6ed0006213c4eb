"""Date-of-birth plausibility: one rule for registration, the health questions and the service behind them."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from screening.services import submission_create
from tests.clinic.test_accounts import REGISTRATION
from tests.screening.factories import questionnaire_current

pytestmark = pytest.mark.django_db

TOMORROW = timezone.localdate() + timedelta(days=1)
LONG_AGO = date(timezone.localdate().year - 121, 6, 1)


@pytest.mark.parametrize("born", [TOMORROW, LONG_AGO])
def test_registration_refuses_an_implausible_date_of_birth(client, born):
    response = client.post(reverse("register"), {**REGISTRATION, "date_of_birth": born.isoformat()})
    assert response.status_code == 200
    assert response.context["form"].has_error("date_of_birth")


@pytest.mark.parametrize("born", [TOMORROW, LONG_AGO])
def test_health_answers_refuse_an_implausible_date_of_birth_whoever_calls(patient, born):
    questionnaire = questionnaire_current()
    answers = {question.pk: False for question in questionnaire.questions.all()}
    with pytest.raises(ValidationError):
        submission_create(patient=patient, answers=answers, submitted_by=patient.user, date_of_birth=born)
    patient.refresh_from_db()
    assert patient.date_of_birth != born
