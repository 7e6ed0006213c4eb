"""Demo people for ``make run``: an admin, the front desk, two practitioners and a few patients.

Idempotent: running it again finds the same accounts and changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from clinic.models import Modality, Patient, Practitioner, Role, User
from clinic.services import patient_register, practitioner_create, user_set_role

DEMO_PASSWORD = "demo-clinic-2026"  # noqa: S105 - published demo login, demo data only


@dataclass(frozen=True)
class DemoPeople:
    admin: User
    desk: User
    practitioners: list[Practitioner]
    patients: list[Patient]


def demo_people_create() -> DemoPeople:
    admin = User.objects.filter(email="admin@clinic.example").first()
    if admin is None:
        admin = User.objects.create_superuser(
            email="admin@clinic.example", password=DEMO_PASSWORD, first_name="Ada", last_name="Admin"
        )
        user_set_role(user=admin, role=Role.ADMIN)

    desk = User.objects.filter(email="desk@clinic.example").first()
    if desk is None:
        desk = User.objects.create_user(
            email="desk@clinic.example", password=DEMO_PASSWORD, first_name="Dev", last_name="Desk"
        )
        user_set_role(user=desk, role=Role.FRONT_DESK)

    cryo = list(Modality.objects.filter(kind__in=["wbc", "local_cryo"]))
    acupuncture = list(Modality.objects.filter(kind="acupuncture"))
    practitioners = [
        _practitioner("frost@clinic.example", "Freya", "Frost", "Cryotherapy technician", cryo),
        _practitioner("needham@clinic.example", "Nikhil", "Needham", "Acupuncturist", acupuncture + cryo[1:]),
    ]
    patients = [
        _patient("pat@example.com", "Pat", "Jones", date(1978, 4, 12), "+44 7911 123001"),
        _patient("sam@example.com", "Sam", "Okafor", date(1990, 9, 3), "+44 7911 123002"),
        _patient("robin@example.com", "Robin", "Li", date(1965, 1, 27), "+44 7911 123003"),
        _patient("alex@example.com", "Alex", "Morgan", date(1983, 11, 19), "+44 7911 123004"),
    ]
    return DemoPeople(admin=admin, desk=desk, practitioners=practitioners, patients=patients)


def _practitioner(email: str, first: str, last: str, title: str, modalities: list[Modality]) -> Practitioner:
    existing = Practitioner.objects.filter(user__email=email).first()
    if existing:
        return existing
    return practitioner_create(
        email=email, password=DEMO_PASSWORD, first_name=first, last_name=last, title=title, modalities=modalities
    )


def _patient(email: str, first: str, last: str, born: date, phone: str) -> Patient:
    existing = Patient.objects.filter(user__email=email).first()
    if existing:
        return existing
    return patient_register(
        email=email, password=DEMO_PASSWORD, first_name=first, last_name=last, date_of_birth=born, phone=phone
    )


def demo_logins_text() -> str:
    return "\n".join(
        [
            "",
            f"Demo logins (password for all: {DEMO_PASSWORD})",
            "  admin         admin@clinic.example   (Django admin at /admin/)",
            "  front desk    desk@clinic.example    (books and registers patients)",
            "  practitioner  frost@clinic.example   (cryotherapy: a session waiting to be logged)",
            "  practitioner  needham@clinic.example (acupuncture: a session to log, a screening to review)",
            "  patient       pat@example.com    (whole-body cryotherapy every 3 weeks)",
            "  patient       sam@example.com    (acupuncture, initial phase)",
            "  patient       alex@example.com   (localized cryotherapy)",
            "  patient       robin@example.com  (screening waiting for a practitioner's review)",
            "",
        ]
    )
