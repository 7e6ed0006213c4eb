"""Random sequences of staff actions through HTTP: nobody's reach grows except by a legitimate act.

The machine drives the pages with the Django test client as practitioners, the front desk, an
admin and patients would (book, plan, log, amend, view the chart, export, deactivate, erase,
break the glass, refer, assign).  After every step it probes each practitioner against each
patient's chart and asserts that

- every chart a practitioner can open is backed by an active care-team membership whose
  grant is in the audit trail, and
- the set of (practitioner, patient) pairs that can be opened grows only through an act the
  model knows grants access: a booking with that practitioner, an assignment by the desk, a
  referral by someone who could already read the patient, or break-the-glass.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.db import transaction
from django.test import Client
from django.urls import reverse
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test

from bookings.forms import slot_value
from bookings.models import Appointment, PlanTemplate
from clinic.models import AuditEvent, CareTeamMembership, Modality, Patient, Practitioner, User
from tests.bookings.conftest import MONDAY, NOW, at, cleared, working_hours
from tests.factories import (
    PASSWORD,
    AdminFactory,
    FrontDeskFactory,
    PatientFactory,
    PractitionerFactory,
    verified_login,
)
from treatments.models import SessionLog

PRACTITIONERS = 3
PATIENTS = 3
DAYS = [MONDAY + timedelta(days=offset) for offset in (2, 3, 4)]
HOURS = [9, 10, 11, 12, 13]

who = st.integers(0, PRACTITIONERS - 1)
whom = st.integers(0, PATIENTS - 1)


class CareTeamMachine(RuleBasedStateMachine):
    practitioners: list[Practitioner]
    patients: list[Patient]
    desk: User
    admin: User
    modality: Modality
    grants_seen = 0

    def __init__(self) -> None:
        super().__init__()
        self._atomic = transaction.atomic()
        self._atomic.__enter__()
        self.staff_clients = []
        for practitioner in self.practitioners:
            client = Client()
            verified_login(client, practitioner.user)
            self.staff_clients.append(client)
        self.desk_client = Client()
        verified_login(self.desk_client, self.desk)
        self.patient_clients = []
        for patient in self.patients:
            client = Client()
            client.force_login(patient.user)
            self.patient_clients.append(client)
        # The pairs (practitioner index, patient index) some legitimate act may have opened.
        self.legitimate: set[tuple[int, int]] = set()
        self.readable: set[tuple[int, int]] = set()

    def teardown(self) -> None:
        transaction.set_rollback(True)
        self._atomic.__exit__(None, None, None)

    def _bookings(self, patient: int, practitioner: int) -> int:
        return Appointment.objects.filter(
            patient=self.patients[patient], practitioner=self.practitioners[practitioner]
        ).count()

    # --- acts that may grant -------------------------------------------------------------------

    @rule(patient=whom, practitioner=who, day=st.sampled_from(DAYS), hour=st.sampled_from(HOURS))
    def desk_books(self, patient: int, practitioner: int, day, hour: int) -> None:
        before = self._bookings(patient, practitioner)
        response = self.desk_client.post(
            reverse("bookings:staff_book"), self._booking(patient, practitioner, day, hour)
        )
        # 404: the practitioner's account was deactivated (nobody books with them).
        assert response.status_code in (302, 400, 404, 409), response.status_code
        if self._bookings(patient, practitioner) > before:
            self.legitimate.add((practitioner, patient))

    @rule(actor=who, patient=whom, practitioner=who, day=st.sampled_from(DAYS), hour=st.sampled_from(HOURS))
    def practitioner_books(self, actor: int, patient: int, practitioner: int, day, hour: int) -> None:
        could_read = (actor, patient) in self.readable
        before = self._bookings(patient, practitioner)
        response = self.staff_clients[actor].post(
            reverse("bookings:staff_book"), self._booking(patient, practitioner, day, hour)
        )
        # A 302 is either the booking made or, for a deactivated account, the way back to the login page.
        assert response.status_code in (302, 400, 403, 404, 409), response.status_code
        if self._bookings(patient, practitioner) > before:
            assert could_read, "a practitioner booked a patient they could not read"
            self.legitimate.add((practitioner, patient))

    @rule(patient=whom, practitioner=who)
    def desk_assigns(self, patient: int, practitioner: int) -> None:
        self.desk_client.post(
            reverse("bookings:care_team", args=[self.patients[patient].pk]),
            {"action": "assign", "practitioner": self.practitioners[practitioner].pk, "reason": "assigned"},
        )
        self.legitimate.add((practitioner, patient))

    @rule(actor=who, patient=whom, colleague=who)
    def practitioner_refers(self, actor: int, patient: int, colleague: int) -> None:
        response = self.staff_clients[actor].post(
            reverse("bookings:care_team", args=[self.patients[patient].pk]),
            {"action": "refer", "practitioner": self.practitioners[colleague].pk, "reason": "second opinion"},
        )
        if (actor, patient) in self.readable:
            self.legitimate.add((colleague, patient))
        else:
            assert response.status_code in (302, 403, 404)

    @rule(actor=who, patient=whom)
    def practitioner_breaks_the_glass(self, actor: int, patient: int) -> None:
        response = self.staff_clients[actor].post(
            reverse("bookings:break_glass"),
            {"patient_email": self.patients[patient].user.email, "reason": "Collapsed at reception, needs history"},
        )
        if response.status_code == 302:
            self.legitimate.add((actor, patient))

    # --- acts that must never grant ------------------------------------------------------------

    @rule(actor=who, patient=whom)
    def practitioner_plans(self, actor: int, patient: int) -> None:
        template = PlanTemplate.objects.active().first()
        self.staff_clients[actor].post(
            reverse("bookings:plan_create"),
            {"patient": self.patients[patient].pk, "template": template.pk, "start_date": MONDAY.isoformat()},
        )

    @rule(actor=who, patient=whom)
    def practitioner_logs(self, actor: int, patient: int) -> None:
        appointment = Appointment.objects.filter(patient=self.patients[patient]).first()
        if appointment is not None:
            self.staff_clients[actor].post(
                reverse("treatments:log_create", args=[appointment.pk]),
                {"pain_before": 6, "pain_after": 4, "duration_minutes": 30, "sign": "1"},
            )

    @rule(actor=who, patient=whom)
    def practitioner_amends(self, actor: int, patient: int) -> None:
        log = SessionLog.objects.filter(patient=self.patients[patient]).first()
        if log is not None:
            self.staff_clients[actor].post(
                reverse("treatments:log_amend", args=[log.pk]), {"subjective": "changed", "reason": "probe"}
            )

    @rule(actor=who, patient=whom)
    def practitioner_views_chart(self, actor: int, patient: int) -> None:
        self.staff_clients[actor].get(reverse("treatments:patient_chart", args=[self.patients[patient].pk]))

    @rule(actor=who)
    def practitioner_exports_report(self, actor: int) -> None:
        self.staff_clients[actor].get(
            reverse("treatments:report_csv"),
            {"date_from": "2027-01-01", "date_to": "2027-12-31", "group_by": "practitioner"},
        )

    @rule(patient=whom)
    def patient_exports(self, patient: int) -> None:
        self.patient_clients[patient].get(reverse("privacy:export"))

    @rule(practitioner=who)
    def admin_deactivates(self, practitioner: int) -> None:
        User.objects.filter(pk=self.practitioners[practitioner].user_id).update(is_active=False)

    @rule(patient=whom)
    def patient_erases(self, patient: int) -> None:
        self.patient_clients[patient].post(reverse("privacy:delete"), {"password": PASSWORD, "understood": "on"})

    # --- the property --------------------------------------------------------------------------

    @invariant()
    def reach_grows_only_through_audited_legitimate_grants(self) -> None:
        now_readable = set()
        for index, client in enumerate(self.staff_clients):
            for number, patient in enumerate(self.patients):
                status = client.get(reverse("treatments:patient_chart", args=[patient.pk])).status_code
                assert status in (200, 302, 404), status
                if status == 200:
                    now_readable.add((index, number))
        for index, number in now_readable:
            memberships = CareTeamMembership.objects.active().filter(
                member=self.practitioners[index].user_id, patient=self.patients[number]
            )
            assert memberships.exists(), "a chart opened without a care-team membership"
            assert AuditEvent.objects.filter(
                action=AuditEvent.Action.CREATE,
                target_type="clinic.careteammembership",
                target_id__in=[str(pk) for pk in memberships.values_list("pk", flat=True)],
            ).exists(), "a membership without its grant in the audit trail"
        grown = now_readable - self.readable
        assert grown <= self.legitimate, f"reach grew without a legitimate act: {sorted(grown - self.legitimate)}"
        CareTeamMachine.grants_seen += len(grown)
        self.readable = now_readable

    def _booking(self, patient: int, practitioner: int, day, hour: int) -> dict[str, object]:
        return {
            "patient": self.patients[patient].pk,
            "modality": self.modality.pk,
            "practitioner": self.practitioners[practitioner].pk,
            "starts_at": slot_value(at(day, hour)),
        }


@pytest.mark.django_db
def test_random_staff_actions_widen_access_only_through_audited_care_team_grants() -> None:
    with time_machine.travel(NOW, tick=False):
        modality = Modality.objects.get(slug="acupuncture-follow-up")
        team = [PractitionerFactory(modalities=[modality]) for _ in range(PRACTITIONERS)]
        for practitioner in team:
            working_hours(practitioner)
        CareTeamMachine.practitioners = team
        CareTeamMachine.patients = [cleared(PatientFactory()) for _ in range(PATIENTS)]
        CareTeamMachine.desk = FrontDeskFactory()
        CareTeamMachine.admin = AdminFactory()
        CareTeamMachine.modality = modality
        CareTeamMachine.grants_seen = 0
        run_state_machine_as_test(
            CareTeamMachine,
            settings=settings(
                max_examples=12,
                stateful_step_count=10,
                deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
            ),
        )
    assert CareTeamMachine.grants_seen > 0  # the sequences really granted access, not only got refused
