"""Relief check-ins set the cadence: a patient whose relief lasts 14 days is due every 14 days
(within the clinician's bounds), and back to 21 when their relief lasts longer."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

import pytest
import time_machine
from django.core import mail
from django.test import Client
from django.utils import timezone

from bookings.models import CarePlan, PlanTemplate
from bookings.services.plans import care_plan_relief_settings_set
from notifications.models import Reminder
from notifications.tasks import reminders_send_due
from tests.factories import PractitionerFactory, care_team_join
from tests.reminders.factories import local
from tests.treatments.factories import session_logged
from treatments.followup import FollowUpMessage, followups_plan_due
from treatments.models import ReliefCheckIn

pytestmark = pytest.mark.django_db
FIRST = date(2027, 1, 4)


def at(day: date, hour: int = 10) -> datetime:
    return local(day.year, day.month, day.day, hour)


@pytest.fixture
def plan(patient, practitioner, wbc) -> CarePlan:
    care_team_join(patient=patient, practitioner=practitioner)
    template = PlanTemplate.objects.get(family="wbc")  # seeded: every 21 days
    return CarePlan.objects.create(patient=patient, template=template, start_date=FIRST, assigned_by=practitioner.user)


def _beat(day: date, hour: int = 10) -> None:
    """What the beat does that morning: plan follow-ups, send what is due."""
    with time_machine.travel(at(day, hour), tick=False):
        followups_plan_due()
        reminders_send_due()


def _tap(session_day: date, offset: int, pain: int) -> None:
    """The patient taps ``pain`` in the day-``offset`` check-in about that session, then the button."""
    about = f"It is {offset} days since your session on {session_day:%A %-d %B}"
    [message] = [m for m in mail.outbox if about in m.body]
    url = re.search(rf"^{pain}: (\S+)$", message.body, re.MULTILINE).group(1)
    path = url.split("://", 1)[-1].split("/", 1)[-1]
    with time_machine.travel(at(session_day + timedelta(days=offset), 11), tick=False):
        response = Client().post("/" + path)
    assert response.status_code == 200
    assert f"{pain} of 10" in response.content.decode()


def _session(day: date, patient, practitioner, wbc, before: int = 7) -> None:
    with time_machine.travel(at(day, 10), tick=False):
        session_logged(
            patient=patient, practitioner=practitioner, modality=wbc,
            starts_at=at(day, 9), pain_before=before, pain_after=before - 3,
        )  # fmt: skip


def _course(day: date, answers: dict[int, int], patient, practitioner, wbc) -> None:
    """A session on ``day``, then the check-ins on their days with ``answers`` (day -> pain)."""
    _session(day, patient, practitioner, wbc)
    _beat(day, 12)
    for offset in (7, 14, 21):
        _beat(day + timedelta(days=offset))
        if offset in answers:
            _tap(day, offset, answers[offset])


def _next_due(plan: CarePlan, today: date) -> date:
    plan.refresh_from_db()
    return plan.cadence(today).next_due_on


def test_relief_of_14_days_moves_the_next_due_date_to_14_days_and_back_when_relief_lasts_longer(
    plan, patient, practitioner, wbc
):
    day = FIRST
    assert _next_due(plan, day) == FIRST
    # Relief lasts 14 days: at day 7 pain is 3 (of a 7 before), at day 14 it is back to 6.
    for _ in range(3):
        _course(day, {7: 3, 14: 6}, patient, practitioner, wbc)
        assert _next_due(plan, day + timedelta(days=14)) == day + timedelta(days=14)
        day += timedelta(days=14)
    plan.refresh_from_db()
    assert plan.learned_interval_days == 14
    assert [entry["relief_days"] for entry in plan.learned_interval_evidence] == [14, 14, 14]
    # Relief now lasts beyond the last check-in (day 21): after three such sessions, due every 21 days.
    for number in range(3):
        _course(day, {7: 2, 14: 3, 21: 4}, patient, practitioner, wbc)
        expected = 14 if number < 1 else 21  # the median of the three latest sessions
        assert _next_due(plan, day + timedelta(days=21)) == day + timedelta(days=expected)
        day += timedelta(days=21)
    plan.refresh_from_db()
    assert plan.cadence(day).interval_learned


def test_each_check_in_is_sent_once_and_no_answer_changes_nothing(plan, patient, practitioner, wbc):
    _session(FIRST, patient, practitioner, wbc)
    for hour in (12, 13, 14):
        _beat(FIRST, hour)
    assert ReliefCheckIn.objects.count() == 3
    for offset in (7, 14, 21, 22):
        _beat(FIRST + timedelta(days=offset))
        _beat(FIRST + timedelta(days=offset), 15)
    sent = Reminder.objects.filter(kind=FollowUpMessage.RELIEF_CHECKIN, state=Reminder.State.SENT)
    assert sent.count() == 3
    assert sum("back pain today" in message.subject for message in mail.outbox) == 3
    plan.refresh_from_db()
    assert plan.learned_interval_days is None
    assert _next_due(plan, FIRST + timedelta(days=22)) == FIRST + timedelta(days=21)


def test_the_learned_interval_stays_within_the_clinicians_bounds_and_a_lock_keeps_the_plans_own(
    plan, patient, practitioner, wbc
):
    _course(FIRST, {7: 7}, patient, practitioner, wbc)  # relief gone within a week
    plan.refresh_from_db()
    assert plan.learned_interval_days == 7
    assert _next_due(plan, FIRST + timedelta(days=7)) == FIRST + timedelta(days=14)  # the shortest bound
    care_plan_relief_settings_set(plan=plan, by=practitioner.user, min_days=10, max_days=28, locked=False)
    assert _next_due(plan, FIRST + timedelta(days=7)) == FIRST + timedelta(days=10)
    care_plan_relief_settings_set(plan=plan, by=practitioner.user, min_days=10, max_days=28, locked=True)
    assert _next_due(plan, FIRST + timedelta(days=7)) == FIRST + timedelta(days=21)


def test_a_check_in_link_shows_the_score_and_records_it_only_on_the_button(plan, patient, practitioner, wbc):
    _session(FIRST, patient, practitioner, wbc)
    _beat(FIRST, 12)
    _beat(FIRST + timedelta(days=7))
    [message] = [m for m in mail.outbox if "back pain today" in m.subject]
    url = re.search(r"^5: (\S+)$", message.body, re.MULTILINE).group(1)
    path = "/" + url.split("://", 1)[-1].split("/", 1)[-1]
    with time_machine.travel(at(FIRST + timedelta(days=7), 11), tick=False):
        client = Client()
        page = client.get(path)
        assert page.status_code == 200
        assert "Send 5 of 10" in page.content.decode()
        assert ReliefCheckIn.objects.get(day=7).pain is None
        client.post(path)
    assert ReliefCheckIn.objects.get(day=7).pain == 5
    with time_machine.travel(at(FIRST + timedelta(days=40)), tick=False):
        assert Client().post(path).status_code == 410
    assert Client().get(path[:-3] + "xx/").status_code == 404
    assert timezone.localdate(ReliefCheckIn.objects.get(day=7).answered_at) == FIRST + timedelta(days=7)


def test_the_chart_shows_the_evidence_and_the_clinician_sets_bounds_and_lock(
    plan, patient, practitioner, wbc, settings
):
    settings.CLINIC_STAFF_2FA_REQUIRED = False
    _course(FIRST, {7: 3, 14: 6}, patient, practitioner, wbc)
    with time_machine.travel(at(FIRST + timedelta(days=15)), tick=False):
        client = Client()
        client.force_login(practitioner.user)
        chart = client.get(f"/treatments/patients/{patient.pk}/").content.decode()
        assert "Relief lasts about <strong>14 days</strong>" in chart
        assert "day 7: 3, day 14: 6" in chart
        assert "(following the patient&#x27;s relief)" in chart or "(following the patient's relief)" in chart
        url = f"/treatments/plans/{plan.pk}/cadence/"
        client.post(url, {"min_days": 20, "max_days": 10})
        plan.refresh_from_db()
        assert (plan.relief_min_days, plan.relief_max_days) == (14, 28)  # refused: the form says why
        client.post(url, {"min_days": 18, "max_days": 30, "locked": "on"})
        plan.refresh_from_db()
        assert (plan.relief_min_days, plan.relief_max_days, plan.cadence_locked) == (18, 30, True)
        outsider = Client()
        outsider.force_login(PractitionerFactory().user)
        assert outsider.post(url, {"min_days": 1, "max_days": 2}).status_code == 404
