"""factory_boy factories for people; each app keeps its own in tests/<app>/factories.py."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import factory
from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice
from factory.django import DjangoModelFactory

from bookings.models import Appointment
from clinic.care_team import care_team_assign, care_team_grant_for_booking
from clinic.models import Modality, Patient, Practitioner, Role, User
from clinic.services import user_set_role

PASSWORD = "correct-horse-battery-staple"


class UserFactory(DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"person{n}@example.com")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    role = Role.PATIENT
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def save_password(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class PatientFactory(DjangoModelFactory):
    class Meta:
        model = Patient

    user = factory.SubFactory(UserFactory, role=Role.PATIENT)
    date_of_birth = date(1980, 6, 15)
    phone = factory.Sequence(lambda n: f"+447911{n:06d}")


class PractitionerFactory(DjangoModelFactory):
    """A practitioner who delivers every active modality unless told otherwise."""

    class Meta:
        model = Practitioner
        skip_postgeneration_save = True

    user = factory.SubFactory(UserFactory, role=Role.PRACTITIONER)
    title = "Practitioner"

    @factory.post_generation
    def modalities(obj, create, extracted, **kwargs):
        if not create:
            return
        user_set_role(user=obj.user, role=Role.PRACTITIONER)
        obj.modalities.set(extracted if extracted is not None else Modality.objects.active())


class FrontDeskFactory(UserFactory):
    role = Role.FRONT_DESK

    @factory.post_generation
    def desk_groups(obj, create, extracted, **kwargs):
        if create:
            user_set_role(user=obj, role=Role.FRONT_DESK)


class AdminFactory(UserFactory):
    role = Role.ADMIN
    is_staff = True

    @factory.post_generation
    def admin_groups(obj, create, extracted, **kwargs):
        if create:
            user_set_role(user=obj, role=Role.ADMIN)


def verified_login(client: Client, user: User) -> TOTPDevice:
    """Log ``user`` in on ``client`` as if they had also entered a valid authenticator code.

    Use it for staff pages in tests that switch ``CLINIC_STAFF_2FA_REQUIRED`` on; it
    gives the user a confirmed TOTP device (reusing one they have) and marks the
    session verified, exactly what the two-factor verify page does.
    """
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=True)
    client.force_login(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return device


def appointment_build(
    *,
    patient: Patient,
    practitioner: Practitioner,
    modality: Modality,
    starts_at: datetime,
    status: str = Appointment.Status.BOOKED,
    created_by: User | None = None,
    **extra: Any,
) -> Appointment:
    """An unsaved appointment written directly, bypassing the booking rules (for history, or ``bulk_create``).

    The slot is placed exactly as booking places it (``Appointment.place``). ``created_by``
    defaults to the patient (an online booking); ``extra`` sets any other field.
    The one place to change when the appointment model changes.
    """
    appointment = Appointment(
        patient=patient, practitioner=practitioner, status=status, created_by=created_by or patient.user
    )
    appointment.place(modality=modality, starts_at=starts_at)
    for name, value in extra.items():
        setattr(appointment, name, value)
    return appointment


def appointment_create(
    *,
    patient: Patient,
    practitioner: Practitioner,
    modality: Modality,
    starts_at: datetime,
    status: str = Appointment.Status.BOOKED,
    created_by: User | None = None,
    **extra: Any,
) -> Appointment:
    """Save an appointment built by :func:`appointment_build` (same arguments and defaults)."""
    appointment = appointment_build(
        patient=patient,
        practitioner=practitioner,
        modality=modality,
        starts_at=starts_at,
        status=status,
        created_by=created_by,
        **extra,
    )
    appointment.save(force_insert=True)
    if status != Appointment.Status.CANCELLED:
        # What the booking service does after saving: the practitioner joins the care team.
        care_team_grant_for_booking(
            patient=patient,
            practitioner=practitioner,
            appointment_starts_at=starts_at,
            actor=created_by or patient.user,
        )
    return appointment


def care_team_join(*, patient: Patient, practitioner: Practitioner) -> None:
    """Put ``practitioner`` on ``patient``'s care team the way the clinic does: the front desk assigns them."""
    care_team_assign(patient=patient, practitioner=practitioner, actor=FrontDeskFactory(), reason="test setup")
