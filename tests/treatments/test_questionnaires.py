"""Questionnaires (PROMs): sent through the outbox at a plan's start, every few weeks and at its
end; answered once from a signed, expiring link without logging in; scored and charted."""

from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from bookings.models import CarePlan, PlanTemplate
from bookings.services.plans import care_plan_end
from notifications.models import Reminder
from notifications.tasks import reminders_send_due
from tests.factories import care_team_join
from tests.reminders.factories import local
from tests.treatments.factories import past_slot, session_logged
from treatments.followup import FollowUpMessage, questionnaires_plan_due
from treatments.models import Instrument, QuestionnaireRequest
from treatments.selectors import session_report

pytestmark = pytest.mark.django_db
START = date(2027, 3, 1)


@pytest.fixture
def plan(patient, practitioner, wbc) -> CarePlan:
    care_team_join(patient=patient, practitioner=practitioner)
    template = PlanTemplate.objects.get(family="wbc")
    return CarePlan.objects.create(patient=patient, template=template, start_date=START, assigned_by=practitioner.user)


def _run(day: date, hour: int = 10) -> None:
    with time_machine.travel(local(day.year, day.month, day.day, hour), tick=False):
        questionnaires_plan_due()
        reminders_send_due()


def _link(message) -> str:
    url = re.search(r"(https?://\S+/treatments/q/\S+/)", message.body).group(1)
    return "/" + url.split("://", 1)[-1].split("/", 1)[-1]


def _answer(path: str, values: list[int], day: date) -> str:
    with time_machine.travel(local(day.year, day.month, day.day, 12), tick=False):
        client = Client()
        assert client.get(path).status_code == 200
        response = client.post(path, {f"item_{n}": value for n, value in enumerate(values, start=1)})
    assert response.status_code == 200, response.content.decode()[:2000]
    return response.content.decode()


def test_peg_is_sent_at_intake_every_four_weeks_and_at_discharge_each_once(plan, practitioner):
    for hour in (9, 10, 11):
        _run(START, hour)
    _run(START + timedelta(days=27))
    _run(START + timedelta(days=28))
    _run(START + timedelta(days=28), 15)
    with time_machine.travel(local(2027, 4, 10, 9), tick=False):
        care_plan_end(plan=plan, by=practitioner.user)
    _run(date(2027, 4, 10))
    _run(date(2027, 4, 11))
    occasions = list(QuestionnaireRequest.objects.order_by("created_at").values_list("occasion_key", flat=True))
    assert occasions == ["intake", "during:1", "discharge"]
    assert Reminder.objects.filter(kind=FollowUpMessage.QUESTIONNAIRE, state=Reminder.State.SENT).count() == 3
    assert sum("a few questions about your pain" in message.subject for message in mail.outbox) == 3


def test_the_link_is_answered_once_on_the_patients_phone_and_scored(plan, patient):
    _run(START)
    [message] = mail.outbox
    path = _link(message)
    page = _answer(path, [6, 5, 4], START)
    assert "Your score: <strong>5</strong>" in page
    answered = QuestionnaireRequest.objects.get()
    assert (answered.answers, answered.score) == ([6, 5, 4], Decimal("5.000"))
    with time_machine.travel(local(2027, 3, 2, 12), tick=False):
        again = Client().post(path, {"item_1": 0, "item_2": 0, "item_3": 0})
    assert again.status_code == 410
    assert QuestionnaireRequest.objects.get().score == Decimal("5.000")


def test_an_expired_link_or_a_forged_one_is_refused_and_a_missing_answer_is_a_field_error(plan):
    _run(START)
    path = _link(mail.outbox[0])
    with time_machine.travel(local(2027, 3, 1, 12), tick=False):
        response = Client().post(path, {"item_1": 3, "item_2": 11})
    assert response.status_code == 400
    assert "Choose a number for this question." in response.content.decode()
    assert QuestionnaireRequest.objects.get().answered_at is None
    assert Client().get(path[:-4] + "abc/").status_code == 404
    with time_machine.travel(local(2027, 3, 20, 12), tick=False):
        assert Client().get(path).status_code == 410


def test_chart_and_my_progress_show_the_trend_with_the_meaningful_change(plan, patient, practitioner, settings):
    settings.CLINIC_STAFF_2FA_REQUIRED = False
    _run(START)
    _answer(_link(mail.outbox[-1]), [8, 7, 6], START)
    _run(START + timedelta(days=28))
    _answer(_link(mail.outbox[-1]), [6, 5, 4], START + timedelta(days=28))
    client = Client()
    client.force_login(practitioner.user)
    chart = client.get(reverse("treatments:patient_chart", args=[patient.pk])).content.decode()
    assert "PEG pain scale" in chart
    assert "2 better" in chart
    assert "Meaningful improvement" in chart
    assert "<polyline" in chart
    client.force_login(patient.user)
    progress = client.get(reverse("treatments:my_progress")).content.decode()
    assert "My questionnaires" in progress
    assert "2 better" in progress


def test_report_counts_questionnaire_improvements_per_course(plan, patient, practitioner, wbc):
    session_logged(patient=patient, practitioner=practitioner, modality=wbc, starts_at=past_slot(5))
    now = timezone.now()
    peg = Instrument.objects.get(code="peg")
    for key, score, days_ago in [("intake", "7.0", 40), ("during:1", "5.5", 3)]:
        QuestionnaireRequest.objects.create(
            patient=patient, instrument=peg, care_plan=plan, family="wbc", occasion=key.split(":")[0],
            occasion_key=key, created_at=now - timedelta(days=days_ago), expires_at=now,
            answered_at=now - timedelta(days=days_ago), answers=[7, 7, 7], score=Decimal(score),
        )  # fmt: skip
    today = timezone.localdate()
    [row] = session_report(date_from=today - timedelta(days=30), date_to=today)
    assert (row.questionnaires_assessed, row.questionnaires_improved) == (1, 1)


def test_an_instrument_added_in_the_admin_is_sent_answered_and_scored(plan, admin_user, settings):
    settings.CLINIC_STAFF_2FA_REQUIRED = False
    Instrument.objects.filter(code="peg").update(is_active=False)
    admin = Client()
    admin.force_login(admin_user)
    response = admin.post(
        reverse("admin:treatments_instrument_add"),
        {
            # The admin edits the translated texts per language (modeltranslation): English is required.
            "code": "function-3", "name_en_gb": "Back function (3 items)", "instructions_en_gb": "", "scale_min": 0,
            "scale_max": 4, "scoring": "percent", "score_decimals": 0, "higher_is_worse": "on",
            "minimal_important_change": "10", "licence": "Licensed to the clinic", "citation": "", "families": "",
            "is_active": "on",
            "items-TOTAL_FORMS": 3, "items-INITIAL_FORMS": 0, "items-MIN_NUM_FORMS": 0, "items-MAX_NUM_FORMS": 1000,
            "items-0-position": 1, "items-0-text_en_gb": "Lifting", "items-0-min_label_en_gb": "No trouble",
            "items-0-max_label_en_gb": "Cannot",
            "items-1-position": 2, "items-1-text_en_gb": "Walking", "items-1-min_label_en_gb": "No trouble",
            "items-1-max_label_en_gb": "Cannot",
            "items-2-position": 3, "items-2-text_en_gb": "Sleeping", "items-2-min_label_en_gb": "No trouble",
            "items-2-max_label_en_gb": "Cannot",
        },
    )  # fmt: skip
    assert response.status_code == 302, response.content.decode()[:3000]
    _run(START)
    [message] = mail.outbox
    assert "Back function" in message.subject
    _answer(_link(message), [4, 2, 0], START)
    assert QuestionnaireRequest.objects.get().score == Decimal(50)


def test_the_patients_data_export_holds_their_questionnaires(plan, patient):
    from privacy.services import patient_data

    _run(START)
    _answer(_link(mail.outbox[0]), [3, 2, 1], START)
    [row] = patient_data(patient=patient)["questionnaires"]
    assert (row["answers"], row["score"], row["occasion"]) == ([3, 2, 1], "2.000", "Start of the plan")
