"""The demo data includes a charted treatment history and stays idempotent."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.management import call_command

from clinic.models import Patient
from treatments.models import SessionLog
from treatments.selectors import patient_outcomes


@pytest.mark.django_db
def test_demo_data_logs_a_history_once():
    call_command("demo_data", verbosity=0)
    logged = SessionLog.objects.count()
    assert logged >= 9
    call_command("demo_data", verbosity=0)
    assert SessionLog.objects.count() == logged
    pat = Patient.objects.get(user__email="pat@example.com")
    [outcome] = [o for o in patient_outcomes(actor=pat.user, patient=pat) if o.kind == "wbc"]
    assert (outcome.change_points, outcome.change_percent, outcome.is_responder) == (3, Decimal("37.5"), True)


@pytest.mark.django_db
def test_demo_patient_has_a_questionnaire_trend_with_a_meaningful_improvement():
    from treatments.selectors import patient_questionnaire_trends

    call_command("demo_data", verbosity=0)
    pat = Patient.objects.get(user__email="pat@example.com")
    [trend] = patient_questionnaire_trends(actor=pat.user, patient=pat)
    assert (trend.first, trend.latest, trend.is_meaningful) == (Decimal("7.3"), Decimal("4.3"), True)
