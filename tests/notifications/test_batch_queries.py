"""The batch sender and the planners cost a constant number of queries per batch, whatever its size.

The sender has no per-message query: emails' "sent" marks are recorded in groups of
``SENT_GROUP_SIZE`` (one UPDATE each), and writing an appointment message reads only what the
batch loaded.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.contrib.contenttypes.models import ContentType
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext

from bookings.models import Appointment
from bookings.services.reminders import reminders_plan_upcoming
from clinic.models import Patient
from notifications.kinds import _KINDS, MessageContent, MessageKind
from notifications.models import Reminder, ReminderSettings
from notifications.services import SENT_GROUP_SIZE, reminders_plan_many, reminders_send_batch
from tests.factories import PatientFactory, appointment_create
from tests.reminders.factories import local

pytestmark = pytest.mark.django_db

NOON = local(2026, 5, 4, 12)
PLAIN = "test_plain"


@pytest.fixture(autouse=True)
def plain_kind(monkeypatch) -> None:
    """A kind whose writing costs no query, so the counts below are the outbox's own."""
    kind = MessageKind(name=PLAIN, label="Plain", render=lambda reminder: MessageContent(subject="Hi", text="Hello"))
    monkeypatch.setitem(_KINDS, PLAIN, kind)


def _plans(patients, count: int, prefix: str) -> list[dict]:
    return [
        {"key": f"{prefix}:{n}", "kind": PLAIN, "patient": patients[n % len(patients)], "due_at": NOON}
        for n in range(count)
    ]


def _queries(function) -> int:
    with CaptureQueriesContext(connection) as captured:
        function()
    return sum(1 for q in captured.captured_queries if not q["sql"].upper().startswith(("SAVEPOINT", "RELEASE")))


def test_planning_many_costs_the_same_queries_for_ten_and_fifty(patient, other_patient):
    # (Forty rows fit one INSERT even within SQLite's 999 parameters; PostgreSQL takes a thousand.)
    def fresh():  # as a planner loads them: the accounts not yet read (choosing channels reads them)
        return list(Patient.objects.filter(pk__in=[patient.pk, other_patient.pk]))

    few, many = _plans(fresh(), 10, "small"), _plans(fresh(), 40, "large")
    small = _queries(lambda: reminders_plan_many(plans=few))
    large = _queries(lambda: reminders_plan_many(plans=many))
    assert small == large
    assert Reminder.objects.count() == 50
    # Planning the same keys again creates nothing.
    assert reminders_plan_many(plans=_plans([patient, other_patient], 40, "large")) == 0
    assert Reminder.objects.count() == 50


def test_a_batch_costs_the_same_queries_for_five_and_forty_and_one_update_per_fifty_emails_more(patient, other_patient):
    patients = [patient, other_patient, PatientFactory()]

    def send(count: int, prefix: str) -> int:
        reminders_plan_many(plans=_plans(patients, count, prefix))
        with time_machine.travel(NOON, tick=False):
            return _queries(lambda: reminders_send_batch(limit=count))

    small, large, larger = send(5, "small"), send(40, "large"), send(120, "larger")
    # No query per message: the "sent" marks of up to SENT_GROUP_SIZE emails are one UPDATE
    # (on PostgreSQL with its "don't wait for the disk" line).
    assert SENT_GROUP_SIZE == 50
    per_group = 2 if connection.vendor == "postgresql" else 1
    assert small == large
    assert larger - large == 2 * per_group  # 120 = three groups, 40 = one
    assert len(mail.outbox) == 165
    assert len({message.extra_headers["Message-ID"] for message in mail.outbox}) == 165
    assert set(Reminder.objects.values_list("state", flat=True)) == {Reminder.State.SENT}
    assert Reminder.objects.filter(sent_at__isnull=True).count() == 0


def test_the_upcoming_planner_costs_the_same_queries_for_few_and_many_appointments(patient, practitioner, wbc):
    def book(count: int, start) -> None:
        for n in range(count):
            appointment_create(
                patient=PatientFactory(),
                practitioner=practitioner,
                modality=wbc,
                starts_at=start + timedelta(minutes=30 * n),
            )

    with time_machine.travel(NOON - timedelta(days=3), tick=False):
        book(2, NOON + timedelta(hours=1))
    with time_machine.travel(NOON, tick=False):
        rules = ReminderSettings.load()
        ContentType.objects.get_for_model(Appointment)  # cached for the process, as in a worker
        few = _queries(lambda: reminders_plan_upcoming(now=NOON, rules=rules))
    with time_machine.travel(NOON - timedelta(days=3), tick=False):
        book(8, NOON + timedelta(days=1, hours=-3))
    with time_machine.travel(NOON, tick=False):
        many = _queries(lambda: reminders_plan_upcoming(now=NOON, rules=rules))
    assert Reminder.objects.filter(kind="upcoming").count() == Appointment.objects.count() == 10
    assert few == many


def test_appointment_reminders_cost_the_same_queries_for_three_and_twelve_with_their_ics(practitioner, wbc):
    """Writing an appointment message (three templates and an .ics) reads only what the batch loaded."""
    with time_machine.travel(NOON - timedelta(days=3), tick=False):
        appointments = [
            appointment_create(
                patient=PatientFactory(), practitioner=practitioner, modality=wbc, starts_at=NOON + timedelta(hours=n)
            )
            for n in range(1, 16)
        ]
    ContentType.objects.get_for_model(Appointment)  # cached for the process, as in a worker

    def send(chosen: list[Appointment], prefix: str) -> int:
        fresh = Appointment.objects.select_related("patient").filter(pk__in=[a.pk for a in chosen])
        plans = [
            {"key": f"{prefix}:{a.pk}", "kind": "upcoming", "patient": a.patient, "about": a, "about_at": a.starts_at,
             "due_at": NOON}
            for a in fresh
        ]  # fmt: skip
        reminders_plan_many(plans=plans)
        with time_machine.travel(NOON, tick=False):
            return _queries(lambda: reminders_send_batch(limit=len(plans)))

    assert send(appointments[:3], "few") == send(appointments[3:], "many")
    reminders = [m for m in mail.outbox if m.extra_headers["X-Clinic-Reminder"].startswith(("few", "many"))]
    assert len(reminders) == 15
    assert all(name == "appointment.ics" for m in reminders for name, _, _ in m.attachments)
    assert all(m.alternatives for m in reminders), "each email has its HTML part"
