"""The care team: whose clinical records a member of staff may read, and the only ways in.

Invariant 5 of DESIGN.md, defined once, in the lowest layer so every app reads it.

Who sees what (``patients_visible_to``):

- a clinic admin: every patient;
- a practitioner: the patients with an *active* ``CareTeamMembership`` naming them;
- the front desk: no clinical record at all (they book, and see screening as a word:
  ``patients_bookable_by`` and ``screening`` status words, never answers or notes);
- a patient: themselves;
- an inactive account, or anyone else: nobody.

A membership is created only by a legitimate act, each a service taking ``actor=``:

- ``care_team_grant_for_booking``: an appointment was booked with the practitioner (by
  the patient online, or by the desk, an admin or a member for them); called by the
  bookings service, never by a page;
- ``care_team_assign``: the front desk or an admin assigns a practitioner (e.g. to review
  a new patient's screening, which comes before any booking);
- ``care_team_refer``: a practitioner who is on the team refers a colleague, with a reason;
- ``care_team_break_glass``: an emergency, with a typed reason, for a few hours
  (``CLINIC_EMERGENCY_ACCESS_HOURS``), listed in the admin until an admin reviews it.

Nobody can add themselves any other way: creating a care plan, a phone booking or a
session log needs a membership first (``care_team_require_member``).  Memberships end:
a booking's lapses ``CLINIC_CARE_TEAM_MONTHS`` months after the last appointment booked,
assignments and referrals the same span after they were made, emergencies after their
hours; and a person can end one early (discharge, erasure: ``care_team_end_all``).
Each grant and end writes an audit row naming the membership.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F, QuerySet, Value
from django.db.models.functions import Greatest
from django.utils import timezone
from django.utils.translation import gettext as _

from clinic.audit import audit_record
from clinic.models import AuditEvent, CareTeamMembership, Patient, Practitioner, User

Kind = CareTeamMembership.Kind
MIN_EMERGENCY_REASON = 10


class CareTeamRefused(PermissionDenied):
    """The actor may not do this for this patient; views answer 404 so an id reveals nothing."""


def _months() -> timedelta:
    return timedelta(days=round(30.44 * getattr(settings, "CLINIC_CARE_TEAM_MONTHS", 12)))


def _emergency_span() -> timedelta:
    return timedelta(hours=getattr(settings, "CLINIC_EMERGENCY_ACCESS_HOURS", 24))


def _is_active_user(user: User | AnonymousUser | None) -> bool:
    return user is not None and user.is_authenticated and user.is_active


# --- reads ---------------------------------------------------------------------------------


def patients_visible_to(user: User | AnonymousUser) -> QuerySet[Patient]:
    """The patients whose clinical records ``user`` may open (the one query every app uses)."""
    patients = Patient.objects.all()
    if not _is_active_user(user):
        return patients.none()
    if user.is_clinic_admin:
        return patients
    if user.is_practitioner:
        members = CareTeamMembership.objects.active().filter(member=user).values("patient_id")
        return patients.filter(pk__in=members)
    if user.is_front_desk:
        return patients.none()
    return patients.filter(user=user)


def patient_is_visible_to(user: User | AnonymousUser, patient: Patient | int) -> bool:
    patient_id = patient.pk if isinstance(patient, Patient) else patient
    return patients_visible_to(user).filter(pk=patient_id).exists()


def patients_bookable_by(user: User | AnonymousUser) -> QuerySet[Patient]:
    """Patients ``user`` may book, move or cancel for: the desk and admins any active patient,
    a practitioner those on their care team; erased or deactivated patients never."""
    active = Patient.objects.filter(user__is_active=True)
    if not _is_active_user(user):
        return active.none()
    if user.is_clinic_admin or user.is_front_desk:
        return active
    if user.is_practitioner:
        return active.filter(pk__in=patients_visible_to(user).values("pk"))
    return active.filter(user=user)


def care_team_is_member(*, user: User, patient: Patient, include_emergency: bool = True) -> bool:
    memberships = CareTeamMembership.objects.active().filter(member=user, patient=patient)
    if not include_emergency:
        memberships = memberships.exclude(kind=Kind.EMERGENCY)
    return memberships.exists()


def care_team_require_member(*, actor: User, patient: Patient, doing: str) -> None:
    """Refuse unless ``actor`` is an admin or on ``patient``'s care team (creating plans, logs...).

    ``doing`` names the act for the code that calls (e.g. "log their sessions"); the message a person
    reads does not repeat it, as a sentence built from an English fragment cannot be translated.
    """
    if not _is_active_user(actor) or not actor.is_practitioner:
        raise CareTeamRefused(_("Only the patient's care team may do this."))
    if actor.is_clinic_admin:
        return
    if not care_team_is_member(user=actor, patient=patient):
        raise CareTeamRefused(_("Only the patient's care team may do this."))


def care_team_may_book(*, actor: User, patient: Patient, practitioner: Practitioner | None) -> bool:
    """May ``actor`` book ``patient`` (with ``practitioner``, or whoever is free)?

    The patient themselves, online; the desk and admins for any active patient with any active
    practitioner; a practitioner on the team (not through emergency access) with themselves or a
    colleague, which then is a referral by booking.  Never an erased or deactivated patient.
    """
    if not _is_active_user(actor) or (practitioner is not None and not practitioner.is_active):
        return False
    if actor.pk == patient.user_id:
        return True  # the patient, online (their account is active: they are logged in)
    if not patient.user.is_active or (practitioner is not None and not practitioner.user.is_active):
        return False
    if actor.is_clinic_admin or actor.is_front_desk:
        return True
    if actor.is_practitioner:
        return care_team_is_member(user=actor, patient=patient, include_emergency=False)
    return False


def care_team_emergencies_to_review() -> QuerySet[CareTeamMembership]:
    return CareTeamMembership.objects.emergency_unreviewed().select_related("patient__user", "member")


# --- writes --------------------------------------------------------------------------------


def _grant(
    *,
    patient: Patient,
    member: User,
    kind: str,
    granted_by: User,
    reason: str,
    ends_at: datetime,
    description: str,
    extend_current: bool = True,
) -> CareTeamMembership:
    """Extend the member's open row of this kind, or add one; audit either way."""
    now = timezone.now()
    current = (
        CareTeamMembership.objects.select_for_update()
        .active(at=now)
        .filter(patient=patient, member=member, kind=kind)
        .first()
        if extend_current
        else None
    )
    if current is not None and kind != Kind.EMERGENCY:
        if current.ends_at is not None and current.ends_at < ends_at:
            current.ends_at = ends_at
            current.save(update_fields=["ends_at"])
        membership = current
        description = f"{description} (extended)"
    else:
        membership = CareTeamMembership.objects.create(
            patient=patient, member=member, kind=kind, granted_by=granted_by, reason=reason, starts_at=now,
            ends_at=ends_at,
        )  # fmt: skip
    audit_record(
        request=None,
        actor=granted_by,
        patient=patient,
        action=AuditEvent.Action.CREATE,
        target=membership,
        description=f"{description}: {member}",
    )
    return membership


def _practitioner_user(practitioner: Practitioner | User) -> User:
    user = practitioner.user if isinstance(practitioner, Practitioner) else practitioner
    if not user.is_active or not user.is_practitioner:
        raise ValidationError(_("Choose an active practitioner."), code="not_practitioner")
    return user


@transaction.atomic
def care_team_grant_for_booking(
    *, patient: Patient, practitioner: Practitioner | int, appointment_starts_at: datetime, actor: User
) -> None:
    """The patient booked with ``practitioner`` (or the desk or a member did for them).

    Called by the bookings service inside the booking's transaction; the membership lasts
    ``CLINIC_CARE_TEAM_MONTHS`` after the appointment.  A later booking only pushes the end of
    the open membership further (one UPDATE, the common case); the first one adds the row
    and its audit entry.
    """
    practitioner_id = practitioner.pk if isinstance(practitioner, Practitioner) else practitioner
    ends_at = max(appointment_starts_at, timezone.now()) + _months()
    extended = (
        CareTeamMembership.objects.active()
        .filter(patient=patient, member__practitioner__id=practitioner_id, kind=Kind.BOOKING)
        .update(ends_at=Greatest(F("ends_at"), Value(ends_at)))
    )
    if extended:
        return
    if not isinstance(practitioner, Practitioner):
        practitioner = Practitioner.objects.select_related("user").get(pk=practitioner_id)
    _grant(
        patient=patient,
        member=_practitioner_user(practitioner),
        kind=Kind.BOOKING,
        granted_by=actor,
        reason="",
        ends_at=ends_at,
        description="Care team: booked with",
        extend_current=False,  # the UPDATE above found none
    )


@transaction.atomic
def care_team_assign(
    *, patient: Patient, practitioner: Practitioner, actor: User, reason: str = ""
) -> CareTeamMembership:
    """The front desk or an admin puts ``practitioner`` on the patient's care team."""
    if not _is_active_user(actor) or not (actor.is_front_desk or actor.is_clinic_admin):
        raise CareTeamRefused(_("Only the front desk or an admin assigns practitioners."))
    if not patient.user.is_active:
        raise CareTeamRefused(_("This patient's account is closed."))
    return _grant(
        patient=patient,
        member=_practitioner_user(practitioner),
        kind=Kind.ASSIGNED,
        granted_by=actor,
        reason=reason.strip()[:500],
        ends_at=timezone.now() + _months(),
        description="Care team: assigned",
    )


@transaction.atomic
def care_team_refer(*, patient: Patient, practitioner: Practitioner, actor: User, reason: str) -> CareTeamMembership:
    """A member of the care team (not through emergency access) refers a colleague."""
    if not _is_active_user(actor) or not actor.is_practitioner:
        raise CareTeamRefused(_("Only the patient's care team may refer."))
    if not actor.is_clinic_admin and not care_team_is_member(user=actor, patient=patient, include_emergency=False):
        raise CareTeamRefused(_("Only the patient's care team may refer."))
    if not reason.strip():
        raise ValidationError(_("Say why you refer the patient."), code="reason_required")
    member = _practitioner_user(practitioner)
    if member.pk == actor.pk:
        raise ValidationError(_("Refer to a colleague, not to yourself."), code="self_referral")
    return _grant(
        patient=patient,
        member=member,
        kind=Kind.REFERRAL,
        granted_by=actor,
        reason=reason.strip()[:500],
        ends_at=timezone.now() + _months(),
        description="Care team: referred",
    )


@transaction.atomic
def care_team_break_glass(*, patient: Patient, actor: User, reason: str) -> CareTeamMembership:
    """Emergency access for a practitioner outside the team: a typed reason, a few hours, reviewed later."""
    if not _is_active_user(actor) or not actor.is_practitioner or actor.is_clinic_admin:
        raise CareTeamRefused(_("Emergency access is for practitioners."))
    reason = reason.strip()
    if len(reason) < MIN_EMERGENCY_REASON:
        raise ValidationError(
            f"Describe the emergency (at least {MIN_EMERGENCY_REASON} characters).", code="reason_required"
        )
    return _grant(
        patient=patient,
        member=actor,
        kind=Kind.EMERGENCY,
        granted_by=actor,
        reason=reason[:500],
        ends_at=timezone.now() + _emergency_span(),
        description="Care team: EMERGENCY ACCESS (break the glass)",
    )


@transaction.atomic
def care_team_end(*, membership: CareTeamMembership, actor: User) -> CareTeamMembership:
    """End a membership now (discharge): an admin, the desk, or the member themselves."""
    if not _is_active_user(actor) or not (
        actor.is_clinic_admin or actor.is_front_desk or actor.pk == membership.member_id
    ):
        raise CareTeamRefused(_("You may not end this membership."))
    membership = CareTeamMembership.objects.select_for_update().get(pk=membership.pk)
    if membership.ended_at is None:
        membership.ended_at = timezone.now()
        membership.ended_by = actor
        membership.save(update_fields=["ended_at", "ended_by"])
        audit_record(
            request=None,
            actor=actor,
            patient=membership.patient,
            action=AuditEvent.Action.CHANGE,
            target=membership,
            description=f"Care team: ended for {membership.member}",
        )
    return membership


@transaction.atomic
def care_team_end_all(*, patient: Patient, actor: User) -> int:
    """End every open membership of ``patient`` (erasure, discharge from the clinic).

    By the patient themselves (deleting their account), the front desk or an admin.
    """
    if not (actor.pk == patient.user_id or (actor.is_active and (actor.is_clinic_admin or actor.is_front_desk))):
        raise CareTeamRefused(_("You may not end this patient's care team."))
    ended = 0
    for membership in CareTeamMembership.objects.select_for_update().filter(patient=patient, ended_at__isnull=True):
        membership.ended_at = timezone.now()
        membership.ended_by = actor
        membership.save(update_fields=["ended_at", "ended_by"])
        audit_record(
            request=None,
            actor=actor,
            patient=patient,
            action=AuditEvent.Action.CHANGE,
            target=membership,
            description=f"Care team: ended for {membership.member} (all ended)",
        )
        ended += 1
    return ended


@transaction.atomic
def care_team_review_emergency(*, membership: CareTeamMembership, actor: User) -> CareTeamMembership:
    """An admin records that they looked at an emergency access."""
    if not _is_active_user(actor) or not actor.is_clinic_admin:
        raise CareTeamRefused(_("Only an admin reviews emergency access."))
    membership = CareTeamMembership.objects.select_for_update().get(pk=membership.pk)
    if membership.kind == Kind.EMERGENCY and membership.reviewed_at is None:
        membership.reviewed_at = timezone.now()
        membership.reviewed_by = actor
        membership.save(update_fields=["reviewed_at", "reviewed_by"])
        audit_record(
            request=None,
            actor=actor,
            patient=membership.patient,
            action=AuditEvent.Action.CHANGE,
            target=membership,
            description="Care team: emergency access reviewed",
        )
    return membership


def patients_findable_by(user: User | AnonymousUser) -> QuerySet[Patient]:
    """The patients ``user`` may look up in the patient search (names and contact details only).

    The desk finds any active patient, as it books them (``patients_bookable_by``), but opens no
    record; a practitioner finds the patients of their care team (``patients_visible_to``); an
    admin (and a superuser, in the Django admin) every patient.  A patient searches nobody: the search is a staff tool.
    """
    if not _is_active_user(user) or not user.is_clinic_staff:
        return Patient.objects.none()
    if user.is_clinic_admin or user.is_superuser:
        return Patient.objects.all()
    if user.is_front_desk:
        return patients_bookable_by(user)
    return patients_visible_to(user)
