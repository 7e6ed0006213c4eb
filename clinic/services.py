"""Writes that create or change people: registration, claiming an account, role changes."""

from __future__ import annotations

import hashlib
import secrets
from datetime import date, timedelta

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.contrib.auth.tokens import PasswordResetTokenGenerator
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from clinic.audit import audit_record
from clinic.care_team import care_team_assign
from clinic.models import AccountClaim, AuditEvent, Modality, Patient, Practitioner, Role, User
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
    language: str = "",
) -> Patient:
    user = User.objects.create_user(
        email=email,
        password=password,
        first_name=first_name,
        last_name=last_name,
        role=Role.PATIENT,
        email_verified=email_verified,
        language=language,
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


def _email_send(*, user: User, to: str, subject: str, template: str, context: dict[str, object]) -> None:
    """An account email in ``user``'s language (``subject`` is lazy, translated here), whoever sends it."""
    with translation.override(user.message_language):
        body = render_to_string(template, {"clinic_name": settings.CLINIC_NAME, **context})
        subject_line = pgettext_lazy("email subject", "%(clinic)s: %(subject)s") % {
            "clinic": settings.CLINIC_NAME,
            "subject": subject,
        }
        send_mail(subject=str(subject_line), message=body, from_email=None, recipient_list=[to])


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
    language: str = "",
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
            user=existing,
            to=existing.email,
            subject=_("someone tried to create an account with your address"),
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
        language=language,
    )
    _email_confirmation_send(user=patient.user)


def _email_confirmation_send(*, user: User) -> None:
    """Email ``user`` the one-time link that confirms their address (they log in once it is confirmed)."""
    path = reverse(
        "email_confirm",
        kwargs={
            "uidb64": urlsafe_base64_encode(force_bytes(user.pk)),
            "token": email_confirmation_tokens.make_token(user),
        },
    )
    _email_send(
        user=user,
        to=user.email,
        subject=_("confirm your email address"),
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


# --- The front desk registers a patient; the patient claims the account later ---------------

EMAIL_UNAVAILABLE = _("This email address cannot be used. Use another, or ask the clinic.")
ACCOUNT_CLAIM_MAX_FAILURES = 5


class AccountClaimRefused(Exception):
    """The claim link is unknown, used or expired; the patient asks the clinic for a new one."""


def _claim_token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _require_desk(actor: User) -> None:
    if not (actor.is_authenticated and actor.is_active and (actor.is_front_desk or actor.is_clinic_admin)):
        raise PermissionDenied(_("Only the front desk or an admin registers patients."))


@transaction.atomic
def patient_register_at_desk(
    *,
    actor: User,
    first_name: str,
    last_name: str,
    date_of_birth: date,
    phone: str,
    email: str | None = None,
    practitioner: Practitioner | None = None,
    request: HttpRequest | None = None,
) -> tuple[Patient, str]:
    """The desk registers a patient who called or came in; returns the patient and their claim link.

    An email address is optional (many patients book by phone).  The account has no password:
    the patient takes it up with the one-time link (``account_claim``), which the desk prints or
    reads out, and which is emailed when there is an address.  Choosing a practitioner puts them
    on the care team (an assignment, e.g. to review the screening); the desk itself gains no
    access to clinical records.  Audited.
    """
    _require_desk(actor)
    email = User.objects.normalize_email(email or "").strip().lower() or None
    if email is not None and User.objects.filter(email__iexact=email).exists():
        raise ValidationError({"email": EMAIL_UNAVAILABLE}, code="unavailable")
    patient = patient_register(
        email=email,
        password=None,
        first_name=first_name.strip(),
        last_name=last_name.strip(),
        date_of_birth=date_of_birth,
        phone=str(phone).strip(),
        email_verified=False,
    )
    audit_record(
        request=request,
        actor=actor,
        patient=patient,
        action=AuditEvent.Action.CREATE,
        target=patient,
        description="Patient registered by the front desk" + ("" if email else " (no email address)"),
    )
    if practitioner is not None:
        care_team_assign(patient=patient, practitioner=practitioner, actor=actor, reason="Registered by the desk")
    link = account_claim_link_create(patient=patient, actor=actor, request=request)
    return patient, link


@transaction.atomic
def account_claim_link_create(*, patient: Patient, actor: User, request: HttpRequest | None = None) -> str:
    """A new one-time link for ``patient`` to take up their account; earlier unused links stop working.

    Emailed to the patient's address if they have one (after commit); returned for the desk to
    print or read out.  Refused once the patient has an online account (a password).
    """
    _require_desk(actor)
    user = User.objects.select_for_update().get(pk=patient.user_id)
    if not user.is_active:
        raise ValidationError(_("This patient's account is closed."), code="closed")
    if user.has_usable_password():
        raise ValidationError(_("This patient already has an online account."), code="claimed")
    token = secrets.token_urlsafe(32)
    now = timezone.now()
    days = settings.CLINIC_ACCOUNT_CLAIM_DAYS
    AccountClaim.objects.filter(user=user).usable().update(expires_at=now)
    claim = AccountClaim.objects.create(
        user=user, token_hash=_claim_token_hash(token), issued_by=actor, expires_at=now + timedelta(days=days)
    )
    link = settings.SITE_URL + reverse("account_claim", args=[token])
    audit_record(
        request=request,
        actor=actor,
        patient=patient,
        action=AuditEvent.Action.CREATE,
        target=claim,
        description="Online account link issued",
    )
    if user.email:
        context = {"user": user, "link": link, "days": days}
        transaction.on_commit(
            lambda: _email_send(
                user=user, to=user.email, subject=_("your online account"),
                template="registration/account_claim_email.txt",
                context=context,
            )
        )  # fmt: skip
    return link


def account_claim_find(*, token: str) -> AccountClaim | None:
    """The usable claim behind a link's secret, or None (unknown, used, expired)."""
    return AccountClaim.objects.usable().filter(token_hash=_claim_token_hash(token)).select_related("user").first()


def account_claim(*, token: str, email: str, password: str, date_of_birth: date) -> User:
    """The patient takes up their account: the link, their date of birth, a new email and password.

    The link works once (the row is locked, so two presses make one claim), and stops working
    after ``ACCOUNT_CLAIM_MAX_FAILURES`` wrong dates of birth (a found link is not enough).  The
    address is confirmed as for an online registration: a confirmation email, no login before.
    """
    with transaction.atomic():
        claim = (
            AccountClaim.objects.select_for_update(of=("self",))
            .usable()
            .filter(token_hash=_claim_token_hash(token))
            .select_related("user__patient")
            .first()
        )
        if claim is None or not claim.user.is_active:
            raise AccountClaimRefused(_("This link has expired or was already used. Ask the clinic for a new one."))
        user = claim.user
        patient = getattr(user, "patient", None)
        if patient is not None and patient.date_of_birth == date_of_birth:
            email = User.objects.normalize_email(email).strip().lower()
            if User.objects.filter(email__iexact=email).exclude(pk=user.pk).exists():
                raise ValidationError({"email": EMAIL_UNAVAILABLE}, code="unavailable")
            return _account_claim_complete(claim=claim, patient=patient, email=email, password=password)
        claim.failed_attempts += 1
        if claim.failed_attempts >= ACCOUNT_CLAIM_MAX_FAILURES:
            claim.expires_at = timezone.now()
        claim.save(update_fields=["failed_attempts", "expires_at"])
    raise ValidationError({"date_of_birth": _("This date of birth does not match our records.")}, code="mismatch")


def _account_claim_complete(*, claim: AccountClaim, patient: Patient, email: str, password: str) -> User:
    user = claim.user
    user.email = email
    user.email_verified = False
    user.set_password(password)
    user.save(update_fields=["email", "email_verified", "password"])
    now = timezone.now()
    claim.used_at = now
    claim.save(update_fields=["used_at"])
    AccountClaim.objects.filter(user=user).usable().update(expires_at=now)
    audit_record(
        request=None,
        actor=user,
        patient=patient,
        action=AuditEvent.Action.CHANGE,
        target=claim,
        description="Online account claimed by the patient",
    )
    transaction.on_commit(lambda: _email_confirmation_send(user=user))
    return user
