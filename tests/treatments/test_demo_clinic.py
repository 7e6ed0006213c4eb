"""The demo clinic of ``make run`` keeps the README's promises on whatever day it is loaded."""

from __future__ import annotations

import itertools
from datetime import date, time, timedelta

import pytest
import time_machine
from django.core.management import call_command
from django.utils import timezone

from bookings.models import Appointment, CarePlan, PlanTemplate, WaitlistEntry
from clinic.clinic_time import clinic_datetime
from clinic.models import Patient, Practitioner
from screening.selectors import screening_modalities_awaiting_review
from treatments.models import SessionLog

pytestmark = pytest.mark.django_db

MONDAY = date(2027, 3, 1)
OPENING, CLOSING = time(8), time(20)


def _load(at) -> None:
    with time_machine.travel(at, tick=False):
        call_command("demo_data", verbosity=0)


@pytest.mark.parametrize("weekday", range(6), ids=["mon", "tue", "wed", "thu", "fri", "sat"])
def test_each_practitioner_has_a_session_to_log_now_and_one_ahead_on_any_opening_day(weekday):
    now = clinic_datetime(MONDAY + timedelta(days=weekday), time(11, 10))
    _load(now)
    for practitioner in Practitioner.objects.filter(user__email__endswith="@clinic.example"):
        today = Appointment.objects.filter(practitioner=practitioner, starts_at__date=now.date())
        to_log = today.filter(starts_at__lte=now, status=Appointment.Status.BOOKED, session_log__isnull=True)
        assert to_log.exists(), f"{practitioner} has nothing to log on {now:%A}"
        ahead = Appointment.objects.filter(
            practitioner=practitioner, starts_at__gt=now, starts_at__lte=now + timedelta(days=8)
        )
        assert ahead.exists(), f"{practitioner} has nothing booked ahead on {now:%A}"


@pytest.mark.parametrize("loaded_on", [MONDAY, MONDAY + timedelta(days=3), MONDAY + timedelta(days=6)])
def test_history_falls_in_working_hours_follows_the_cadence_and_was_signed_that_day(loaded_on):
    now = clinic_datetime(loaded_on, time(9, 30))
    _load(now)
    logs = SessionLog.objects.select_related("appointment__modality", "appointment__patient__user")
    assert logs.count() >= 10
    for log in logs:
        starts = timezone.localtime(log.appointment.starts_at)
        assert starts.weekday() != 6, f"a session on a Sunday: {starts}"
        assert starts.time() >= OPENING
        assert timezone.localtime(log.appointment.ends_at).time() <= CLOSING
        assert log.status == SessionLog.Status.SIGNED
        assert timezone.localtime(log.signed_at).date() == starts.date()
        assert log.signed_at >= log.appointment.ends_at
    pat = sorted(
        timezone.localdate(log.appointment.starts_at)
        for log in logs
        if log.appointment.patient.user.first_name == "Pat"
    )
    gaps = {(later - earlier).days for earlier, later in itertools.pairwise(pat)}
    assert gaps
    assert gaps <= {20, 21, 22}  # every three weeks, a Sunday moved to the Saturday before


def test_one_demo_patient_on_each_plan_and_a_screening_waiting_for_review():
    _load(clinic_datetime(MONDAY, time(11)))
    active = CarePlan.objects.filter(status=CarePlan.Status.ACTIVE)
    for family in {template.family for template in PlanTemplate.objects.all()}:
        assert active.filter(template__family=family).values("patient").distinct().count() == 1, family
    robin = Patient.objects.get(user__email="robin@example.com")
    assert screening_modalities_awaiting_review(patient=robin)
    assert WaitlistEntry.objects.filter(status=WaitlistEntry.Status.WAITING).count() == 1


def test_loading_twice_changes_nothing():
    now = clinic_datetime(MONDAY, time(11))
    _load(now)
    counts = (Appointment.objects.count(), SessionLog.objects.count(), CarePlan.objects.count())
    _load(now + timedelta(minutes=5))
    assert (Appointment.objects.count(), SessionLog.objects.count(), CarePlan.objects.count()) == counts
