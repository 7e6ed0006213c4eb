"""Writes that create or change people: registration and role changes."""

from __future__ import annotations

from datetime import date

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.contrib.auth.tokens import PasswordResetTokenGenerator
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

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
    email_verified: bool = True,
) -> Patient:
    user = User.objects.create_user(
        email=email,
        password=password,
        first_name=first_name,
        last_name=last_name,
        role=Role.PATIENT,
        email_verified=email_verified,
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


class EmailConfirmationTokenGenerator(PasswordResetTokenGenerator):
    """One-time email confirmation links: the hash covers ``email_verified``, so a used link stops working."""

    key_salt = "clinic.services.EmailConfirmationTokenGenerator"

    def _make_hash_value(self, user: User, timestamp: int) -> str:
        return f"{user.pk}{user.email}{user.email_verified}{timestamp}"


email_confirmation_tokens = EmailConfirmationTokenGenerator()


def _email_send(*, to: str, subject: str, template: str, context: dict[str, object]) -> None:
    body = render_to_string(template, {"clinic_name": settings.CLINIC_NAME, **context})
    send_mail(subject=f"{settings.CLINIC_NAME}: {subject}", message=body, from_email=None, recipient_list=[to])


def patient_registration_request(
    *,
    email: str,
    password: str,
    first_name: str,
    last_name: str,
    date_of_birth: date,
    phone: str,
    emergency_contact_name: str = "",
    emergency_contact_phone: str = "",
) -> None:
    """Someone signs up online; what they see next is the same whether or not the address is taken.

    A new address gets an unconfirmed patient account and a one-time confirmation link;
    an address already in use (a patient's or a staff member's) gets a warning to its
    owner instead, and nothing changes.  The password is hashed on both paths, so the
    answer takes as long either way.
    """
    email = User.objects.normalize_email(email).lower()
    existing = User.objects.filter(email__iexact=email).first()
    if existing is not None:
        make_password(password)
        _email_send(
            to=existing.email,
            subject="someone tried to create an account with your address",
            template="registration/register_existing_email.txt",
            context={"user": existing, "login_url": settings.SITE_URL + reverse("login"),
                     "reset_url": settings.SITE_URL + reverse("password_reset")},
        )  # fmt: skip
        return
    patient = patient_register(
        email=email,
        password=password,
        first_name=first_name,
        last_name=last_name,
        date_of_birth=date_of_birth,
        phone=phone,
        emergency_contact_name=emergency_contact_name,
        emergency_contact_phone=emergency_contact_phone,
        email_verified=False,
    )
    user = patient.user
    path = reverse(
        "email_confirm",
        kwargs={
            "uidb64": urlsafe_base64_encode(force_bytes(user.pk)),
            "token": email_confirmation_tokens.make_token(user),
        },
    )
    _email_send(
        to=user.email,
        subject="confirm your email address",
        template="registration/register_confirm_email.txt",
        context={"user": user, "link": settings.SITE_URL + path},
    )


def user_email_confirm(*, user: User, token: str) -> bool:
    """Mark the address confirmed if ``token`` is this user's unused, unexpired confirmation token."""
    if user.email_verified or not email_confirmation_tokens.check_token(user, token):
        return False
    user.email_verified = True
    user.save(update_fields=["email_verified"])
    return True
