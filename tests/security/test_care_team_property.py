"""Random sequences of staff actions through HTTP: nobody's reach grows except by a legitimate act,
and nobody reaches through the REST API what the pages would not show them (``CareTeamApiMachine``).

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
from django.utils import timezone
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test

from api.models import PersonalAccessToken, token_new_prefix, token_new_secret, token_secret_hash
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
from tests.treatments.factories import session_logged
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


# --- the same property through the REST API ----------------------------------------------------

API_PROBES = ("session-logs", "care-plans", "outcomes", "search")
HOURS_PASSING = [1, 25, 49]
ACUPUNCTURE_LOG = {
    "pain_before": 6,
    "pain_after": 4,
    "duration_minutes": 30,
    "pain_location": "lower_back",
    "points_used": "BL23, BL25",
    "needle_count": 6,
    "exposure_seconds": 20 * 60,
    "electro_stimulation": False,
    "sign": True,
}


def _token(user: User, scope: str) -> Client:
    """A staff token made as the token page makes it (in a verified session: the user has a device)."""
    prefix, secret = token_new_prefix(), token_new_secret()
    PersonalAccessToken.objects.create(
        user=user, name="practice software", prefix=prefix, secret_hash=token_secret_hash(secret), scope=scope,
        issued_to_staff=user.is_clinic_staff, expires_at=timezone.now() + timedelta(days=60),
    )  # fmt: skip
    return Client(headers={"Authorization": f"Bearer cpat_{prefix}_{secret}"})


class CareTeamApiMachine(CareTeamMachine):
    """The machine above, with API acts added, time passing and memberships ended, checking after every step
    that what each practitioner reaches through the API is exactly what the pages let them open:

    - a patient's session logs, care plans and outcome figures answer 200 exactly when the chart
      does (else 404, or 401 once the account is deactivated), and the patient search finds the
      patient exactly then;
    - each session log answers 200 through the API exactly when its page does;
    - the day list names a patient only when the chart opens for that practitioner;
    - the front desk reads no clinical record through the API (403), whatever happened;
    - a session logged through the API is logged only by someone who could already read the patient,
      and grants nothing.
    """

    clock: time_machine.Coordinates
    # What the sequences exercised (so the property is not only ever checked on refusals).
    seen = {"api_read": 0, "api_refused": 0, "api_logged": 0}

    def __init__(self) -> None:
        self.clock.move_to(NOW)
        super().__init__()
        self.api_read = [_token(p.user, PersonalAccessToken.Scope.READ) for p in self.practitioners]
        self.api_write = [_token(p.user, PersonalAccessToken.Scope.WRITE) for p in self.practitioners]
        self.desk_api = _token(self.desk, PersonalAccessToken.Scope.WRITE)
        self.probes = 0
        # The history the test set up (one past session per patient) gave those practitioners a legitimate reach.
        for membership in CareTeamMembership.objects.active():
            self.legitimate.add(
                (
                    [p.user_id for p in self.practitioners].index(membership.member_id),
                    [p.pk for p in self.patients].index(membership.patient_id),
                )
            )

    # --- more acts ------------------------------------------------------------------------------

    @rule(actor=who, patient=whom)
    def practitioner_logs_through_the_api(self, actor: int, patient: int) -> None:
        could_read = (actor, patient) in self.readable
        appointment = Appointment.objects.filter(patient=self.patients[patient]).order_by("starts_at").last()
        if appointment is None:
            return
        before = SessionLog.objects.count()
        body = {"appointment": appointment.pk, **ACUPUNCTURE_LOG}
        response = self.api_write[actor].post("/api/v1/session-logs/", body, content_type="application/json")
        assert response.status_code in (201, 400, 401, 404, 409), response.content
        if response.status_code == 201:
            assert could_read, "a practitioner logged a session of a patient they could not read"
            CareTeamApiMachine.seen["api_logged"] += 1
            assert SessionLog.objects.count() == before + 1
        else:
            assert SessionLog.objects.count() == before
        if not could_read:
            assert response.status_code in (401, 404), response.status_code

    @rule(patient=whom, practitioner=who)
    def desk_ends_membership(self, patient: int, practitioner: int) -> None:
        for membership in CareTeamMembership.objects.active().filter(
            patient=self.patients[patient], member=self.practitioners[practitioner].user_id
        ):
            self.desk_client.post(
                reverse("bookings:care_team", args=[self.patients[patient].pk]),
                {"action": "end", "membership": membership.pk},
            )

    @rule(hours=st.sampled_from(HOURS_PASSING))
    def time_passes(self, hours: int) -> None:
        """Emergency access lapses, bookings become sessions that can be logged; everyone logs in again."""
        self.clock.shift(timedelta(hours=hours))
        for client, practitioner in zip(self.staff_clients, self.practitioners, strict=True):
            client.logout()  # a fresh session: force_login alone keeps the idle session's old timestamps
            verified_login(client, User.objects.get(pk=practitioner.user_id))
        self.desk_client.logout()
        verified_login(self.desk_client, self.desk)

    # --- the property, through the API too -------------------------------------------------------

    @invariant()
    def reach_grows_only_through_audited_legitimate_grants(self) -> None:
        super().reach_grows_only_through_audited_legitimate_grants()
        self.probes += 1
        probe = API_PROBES[self.probes % len(API_PROBES)]
        for index, client in enumerate(self.api_read):
            for number, patient in enumerate(self.patients):
                page_reads = (index, number) in self.readable
                if probe == "search":
                    email = User.objects.get(pk=patient.user_id).email
                    if "@" not in email:
                        continue  # erased: nothing left to search by
                    response = client.get("/api/v1/patients/", {"q": email})
                    assert response.status_code in (200, 401), response.status_code
                    found = response.status_code == 200 and patient.pk in {r["id"] for r in response.json()["results"]}
                    assert found == page_reads, (probe, index, number, page_reads)
                    continue
                status = client.get(f"/api/v1/patients/{patient.pk}/{probe}/").status_code
                assert status in (200, 401, 404), status
                CareTeamApiMachine.seen["api_read" if status == 200 else "api_refused"] += 1
                assert (status == 200) == page_reads, (probe, index, number, status)
            self._day_list_names_only_readable_patients(index, client)
        for log in SessionLog.objects.all():
            for index, client in enumerate(self.api_read):
                page = self.staff_clients[index].get(reverse("treatments:log_detail", args=[log.pk])).status_code
                api = client.get(f"/api/v1/session-logs/{log.pk}/").status_code
                assert (api == 200) == (page == 200), (log.pk, index, page, api)
        patient = self.patients[self.probes % len(self.patients)]
        desk_probe = API_PROBES[self.probes % 3]
        assert self.desk_api.get(f"/api/v1/patients/{patient.pk}/{desk_probe}/").status_code == 403

    def _day_list_names_only_readable_patients(self, index: int, client: Client) -> None:
        day = DAYS[self.probes % len(DAYS)]
        response = client.get("/api/v1/staff/appointments/", {"date": day.isoformat()})
        assert response.status_code in (200, 401), response.status_code
        if response.status_code != 200:
            return
        numbers = {patient.pk: number for number, patient in enumerate(self.patients)}
        for row in response.json()["appointments"]:
            assert row["practitioner"]["id"] == self.practitioners[index].pk
            readable = (index, numbers[Appointment.objects.get(pk=row["id"]).patient_id]) in self.readable
            assert (row["patient"] is not None) == readable, (row, index)


@pytest.mark.slow
@pytest.mark.django_db
def test_through_the_api_nobody_reaches_more_than_the_pages_allow() -> None:
    with time_machine.travel(NOW, tick=False) as clock:
        modality = Modality.objects.get(slug="acupuncture-follow-up")
        team = [PractitionerFactory(modalities=[modality]) for _ in range(PRACTITIONERS)]
        for practitioner in team:
            working_hours(practitioner)
        patients = [cleared(PatientFactory()) for _ in range(PATIENTS)]
        # Patient i was seen by practitioner i last week: a signed log and a booking membership to start from.
        for number, patient in enumerate(patients):
            last_week = at(MONDAY - timedelta(days=7), 10)
            session_logged(patient=patient, practitioner=team[number], modality=modality, starts_at=last_week)
        CareTeamApiMachine.practitioners = team
        CareTeamApiMachine.patients = patients
        CareTeamApiMachine.desk = FrontDeskFactory()
        CareTeamApiMachine.admin = AdminFactory()
        CareTeamApiMachine.modality = modality
        CareTeamApiMachine.clock = clock
        CareTeamApiMachine.seen = dict.fromkeys(CareTeamApiMachine.seen, 0)
        run_state_machine_as_test(
            CareTeamApiMachine,
            settings=settings(
                max_examples=8,
                stateful_step_count=10,
                deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
            ),
        )
    assert CareTeamApiMachine.seen["api_read"] > 0, CareTeamApiMachine.seen
    assert CareTeamApiMachine.seen["api_refused"] > 0, CareTeamApiMachine.seen
