"""A small clinic for the staff API tests: one patient seen by practitioners in every relation.

Patient A has a practitioner on their care team (``related``, by booking), one whose membership
the desk ended (``ended``), one who broke the glass (``glass``) and one who never met them
(``unrelated``); patient B sees only ``unrelated``.  A has a signed whole-body log from last week,
today's 10:00 session (started: it can be logged) and a care plan.  Tokens are made as the
token page makes them (hashed, scoped, expiring) and sent as ``Authorization: Bearer``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

from django.test import Client
from django.utils import timezone

from api.models import PersonalAccessToken, token_new_prefix, token_new_secret, token_secret_hash
from bookings.models import Appointment, CarePlan, PlanTemplate
from bookings.services.plans import care_plan_assign
from clinic.care_team import care_team_break_glass, care_team_end
from clinic.models import CareTeamMembership, Modality, Patient, Practitioner, User
from tests.bookings.conftest import cleared
from tests.factories import AdminFactory, FrontDeskFactory, PatientFactory, PractitionerFactory, appointment_create
from tests.treatments.factories import session_logged
from treatments.models import SessionLog

# Monday 22 March 2027, 12:00 in London (GMT): today's 10:00 session has started.
NOON = datetime(2027, 3, 22, 12, 0, tzinfo=UTC)
TODAY = NOON.date()
ROLES = ("patient_a", "patient_b", "related", "unrelated", "ended", "glass", "desk", "admin")


def token_for(user: User, *, scope: str = PersonalAccessToken.Scope.READ, days: int = 30) -> str:
    """A working token for ``user`` (its secret, as shown once to its owner)."""
    prefix, secret = token_new_prefix(), token_new_secret()
    PersonalAccessToken.objects.create(
        user=user,
        name="practice software",
        prefix=prefix,
        secret_hash=token_secret_hash(secret),
        scope=scope,
        issued_to_staff=user.is_clinic_staff,
        expires_at=timezone.now() + timedelta(days=days),
    )
    return f"cpat_{prefix}_{secret}"


def bearer(token: str) -> Client:
    return Client(headers={"Authorization": f"Bearer {token}"})


def local(day, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=timezone.get_current_timezone())


@dataclass
class StaffWorld:
    wbc: Modality
    patient_a: Patient
    patient_b: Patient
    related: Practitioner
    unrelated: Practitioner
    ended: Practitioner
    glass: Practitioner
    desk: User
    admin: User
    log_a: SessionLog
    today_a: Appointment  # A's 10:00 session with ``related``: started, not logged
    today_b: Appointment  # B's 11:00 session with ``related`` (B is not on related's team)
    plan_a: CarePlan

    def user(self, role: str) -> User:
        found = getattr(self, role)
        return found if isinstance(found, User) else found.user

    def client(self, role: str, *, scope: str = PersonalAccessToken.Scope.READ) -> Client:
        return bearer(token_for(self.user(role), scope=scope))


def staff_world_build() -> StaffWorld:
    """Call with the clock at ``NOON`` (time-machine)."""
    wbc = Modality.objects.get(slug="whole-body-cryotherapy")
    patient_a = cleared(PatientFactory(user__first_name="Ada", user__last_name="Quill"))
    patient_b = cleared(PatientFactory(user__first_name="Bram", user__last_name="Stoke"))
    related, unrelated, ended, glass = (PractitionerFactory() for _ in range(4))
    desk, admin = FrontDeskFactory(), AdminFactory()
    log_a = session_logged(
        patient=patient_a, practitioner=related, modality=wbc, starts_at=local(TODAY - timedelta(days=7), 9)
    )
    today_a = appointment_create(
        patient=patient_a, practitioner=related, modality=wbc, starts_at=local(TODAY, 10), created_by=desk
    )
    # B booked with ``related`` once; the membership that gave was then ended (discharge).
    today_b = appointment_create(
        patient=patient_b, practitioner=related, modality=wbc, starts_at=local(TODAY, 11), created_by=desk
    )
    for membership in CareTeamMembership.objects.filter(patient=patient_b, member=related.user):
        care_team_end(membership=membership, actor=desk)
    appointment_create(
        patient=patient_b, practitioner=unrelated, modality=wbc, starts_at=local(TODAY, 9), created_by=desk
    )
    appointment_create(
        patient=patient_a, practitioner=ended, modality=wbc, starts_at=local(TODAY - timedelta(days=14), 9),
        status=Appointment.Status.ATTENDED, created_by=desk,
    )  # fmt: skip
    for membership in CareTeamMembership.objects.filter(patient=patient_a, member=ended.user):
        care_team_end(membership=membership, actor=desk)
    care_team_break_glass(patient=patient_a, actor=glass.user, reason="Collapsed at reception, needs history")
    plan_a = care_plan_assign(
        patient=patient_a,
        template=PlanTemplate.objects.get(family="wbc"),
        start_date=TODAY - timedelta(days=7),
        practitioner=related,
        assigned_by=related.user,
    )
    return StaffWorld(
        wbc=wbc,
        patient_a=patient_a,
        patient_b=patient_b,
        related=related,
        unrelated=unrelated,
        ended=ended,
        glass=glass,
        desk=desk,
        admin=admin,
        log_a=log_a,
        today_a=today_a,
        today_b=today_b,
        plan_a=plan_a,
    )
