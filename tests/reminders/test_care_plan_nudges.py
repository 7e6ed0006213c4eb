"""Rebooking nudges over a simulated quarter, driven by the clock (time-machine) and the beat tasks.

The clinic's zone is Europe/London: the quarter crosses the switch to summer time (29 March 2026).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time, timedelta

import pytest
import time_machine
from django.core import mail
from django.utils import timezone

from bookings.models import Appointment, CarePlan, ImprovementBasis, PlanTemplate
from bookings.services.appointments import appointment_mark_attended, appointment_mark_no_show
from bookings.services.plans import care_plan_improvement_record
from bookings.services.reminders import BookingMessage
from bookings.tasks import reminders_plan_due
from notifications.models import Reminder
from notifications.tasks import reminders_send_due
from tests.reminders.factories import appointment_create, local

pytestmark = pytest.mark.django_db

# When the beat tasks run each simulated day (clinic time); 09:00 is when nudges are due.
BEAT_TIMES = [time(0, 5), time(8, 55), time(9, 5), time(12, 0), time(17, 30), time(21, 30)]

Action = Callable[[], None]


def _nudges() -> list[datetime]:
    """When each nudge email went out, in clinic time (the send time is the row's sent_at)."""
    sent = Reminder.objects.filter(kind=BookingMessage.REBOOKING_NUDGE, state=Reminder.State.SENT)
    assert sum(1 for m in mail.outbox if m.subject.startswith("Time to book")) == sent.count()
    return sorted(timezone.localtime(r.sent_at).replace(tzinfo=None) for r in sent)


def _simulate(*, first: date, last: date, actions: dict[tuple[date, time], Action], on_nudge=None) -> None:
    """Run the beat tasks through every day; run the scripted actions at their clinic times."""
    day = first
    while day <= last:
        done: set[time] = set()
        # Re-read the day's moments each time: a patient's reaction may add an action later that day.
        while moments := sorted({*BEAT_TIMES, *(at for (on, at) in actions if on == day)} - done):
            moment = moments[0]
            done.add(moment)
            with time_machine.travel(local(day.year, day.month, day.day, moment.hour, moment.minute), tick=False):
                if (day, moment) in actions:
                    actions[(day, moment)]()
                before = len(mail.outbox)
                reminders_plan_due()
                reminders_send_due()
                if on_nudge:
                    for message in mail.outbox[before:]:
                        if message.subject.startswith("Time to book"):
                            on_nudge(day)
        day += timedelta(days=1)


@pytest.fixture
def plan_for(practitioner):
    def make(patient, family: str, start: date) -> CarePlan:
        template = PlanTemplate.objects.get(family=family)
        return CarePlan.objects.create(
            patient=patient, template=template, start_date=start, assigned_by=practitioner.user
        )

    return make


def test_cryotherapy_nudges_21_days_after_each_attended_session_none_while_booked_and_a_no_show_shifts_them(
    patient, practitioner, wbc, plan_for
):
    plan_for(patient, "wbc", date(2026, 1, 5))
    booked: dict[str, Appointment] = {}

    def book(name: str, on: date) -> Action:
        def act() -> None:
            booked[name] = appointment_create(
                patient=patient, practitioner=practitioner, modality=wbc, starts_at=local(on.year, on.month, on.day, 10)
            )

        return act

    def attended(name: str) -> Action:
        return lambda: appointment_mark_attended(appointment=booked[name], by=practitioner.user)

    def no_show(name: str) -> Action:
        return lambda: appointment_mark_no_show(appointment=booked[name], by=practitioner.user)

    noon, evening = time(12, 0), time(18, 0)
    actions = {
        (date(2026, 1, 2), noon): book("first", date(2026, 1, 5)),
        (date(2026, 1, 5), evening): attended("first"),  # due 26 Jan
        (date(2026, 1, 26), noon): book("second", date(2026, 1, 28)),  # after the nudge
        (date(2026, 1, 28), evening): attended("second"),  # due 18 Feb
        (date(2026, 2, 12), noon): book("third", date(2026, 2, 22)),  # booked before the due date: no nudge
        (date(2026, 2, 22), evening): attended("third"),  # due 15 Mar
        (date(2026, 3, 15), noon): book("missed", date(2026, 3, 17)),
        (date(2026, 3, 17), time(11, 0)): no_show("missed"),  # nothing attended: nudged again at once
        (date(2026, 3, 17), noon): book("fourth", date(2026, 3, 19)),
        (date(2026, 3, 19), evening): attended("fourth"),  # due 9 Apr (7 Apr without the no-show)
    }
    _simulate(first=date(2026, 1, 1), last=date(2026, 4, 12), actions=actions)

    assert _nudges() == [
        datetime(2026, 1, 26, 9, 5),
        # not 18 Feb: the session booked for 22 Feb was already in the diary
        datetime(2026, 3, 15, 9, 5),
        datetime(2026, 3, 17, 11, 0),
        datetime(2026, 4, 9, 9, 5),  # 09:05 summer time: the clocks changed on 29 March
    ]


def test_acupuncture_nudges_weekly_until_the_pain_decreases_then_at_the_maintenance_interval(
    patient, practitioner, acupuncture_initial, acupuncture_follow_up, plan_for
):
    """Issue 16: maintenance starts once pain decreases (here the clinician decides after session 6)."""
    plan_for(patient, "acupuncture", date(2026, 1, 5))
    first = appointment_create(
        patient=patient, practitioner=practitioner, modality=acupuncture_initial, starts_at=local(2026, 1, 5, 10)
    )
    actions = {
        (date(2026, 1, 5), time(18, 0)): lambda: appointment_mark_attended(appointment=first, by=practitioner.user)
    }

    def books_that_afternoon_and_comes(day: date) -> None:
        """The patient answers each nudge by booking 16:00 that day; the session is logged at 18:00."""
        appointment = appointment_create(
            patient=patient,
            practitioner=practitioner,
            modality=acupuncture_follow_up,
            starts_at=local(day.year, day.month, day.day, 16),
        )

        def comes() -> None:
            appointment_mark_attended(appointment=appointment, by=practitioner.user)
            if day == date(2026, 2, 9):
                care_plan_improvement_record(
                    plan=CarePlan.objects.get(patient=patient),
                    basis=ImprovementBasis.CLINICIAN,
                    evidence="Pain down from 7 to 4 over the last three weeks.",
                    by=practitioner.user,
                )

        actions[(day, time(18, 0))] = comes

    _simulate(first=date(2026, 1, 1), last=date(2026, 4, 8), actions=actions, on_nudge=books_that_afternoon_and_comes)

    nudge_days = [moment.date() for moment in _nudges()]
    weekly = [date(2026, 1, 12) + timedelta(weeks=n) for n in range(5)]  # sessions 2-6 of the initial phase
    maintenance = [date(2026, 2, 9) + timedelta(days=14 * n) for n in range(1, 5)]  # then every 14 days
    assert nudge_days == weekly + maintenance
    assert all(moment.time() == time(9, 5) for moment in _nudges())  # the same clinic time across DST


def test_no_nudge_for_a_patient_who_opted_out(patient, practitioner, wbc, plan_for):
    patient.rebooking_nudges = False
    patient.save()
    plan_for(patient, "wbc", date(2026, 1, 5))
    _simulate(first=date(2026, 1, 4), last=date(2026, 1, 8), actions={})
    assert _nudges() == []
    assert not Reminder.objects.exists()
