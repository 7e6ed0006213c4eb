"""Writes that create or change people: registration and role changes."""

from __future__ import annotations

from datetime import date

from django.contrib.auth.models import Group
from django.db import transaction

from clinic.models import Modality, Patient, Practitioner, Role, User
from clinic.roles import ADMIN_GROUP, FRONT_DESK_GROUP, PRACTITIONER_GROUP


def user_set_role(*, user: User, role: Role) -> User:
    """Give ``user`` exactly the access of ``role``: groups and admin-site flag."""
    user.role = role
    user.is_staff = role == Role.ADMIN or user.is_superuser
    user.save(update_fields=["role", "is_staff"])
    groups = {
        Role.ADMIN: [ADMIN_GROUP, PRACTITIONER_GROUP],
        Role.PRACTITIONER: [PRACTITIONER_GROUP],
        Role.FRONT_DESK: [FRONT_DESK_GROUP],
    }
    user.groups.set(Group.objects.filter(name__in=groups.get(role, [])))
    return user


@transaction.atomic
def patient_register(
    *,
    email: str,
    password: str | None,
    first_name: str,
    last_name: str,
    date_of_birth: date,
    phone: str,
    emergency_contact_name: str = "",
    emergency_contact_phone: str = "",
) -> Patient:
    user = User.objects.create_user(
        email=email, password=password, first_name=first_name, last_name=last_name, role=Role.PATIENT
    )
    return Patient.objects.create(
        user=user,
        date_of_birth=date_of_birth,
        phone=phone,
        emergency_contact_name=emergency_contact_name,
        emergency_contact_phone=emergency_contact_phone,
    )


@transaction.atomic
def practitioner_create(
    *,
    email: str,
    password: str | None,
    first_name: str,
    last_name: str,
    modalities: list[Modality],
    title: str = "",
    role: Role = Role.PRACTITIONER,
) -> Practitioner:
    user = User.objects.create_user(email=email, password=password, first_name=first_name, last_name=last_name)
    user_set_role(user=user, role=role)
    practitioner = Practitioner.objects.create(user=user, title=title)
    practitioner.modalities.set(modalities)
    return practitioner
