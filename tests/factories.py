"""factory_boy factories for people; each app keeps its own in tests/<app>/factories.py."""

from __future__ import annotations

from datetime import date

import factory
from factory.django import DjangoModelFactory

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
    phone = factory.Sequence(lambda n: f"+44 7700 9{n:05d}")


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


class AdminFactory(UserFactory):
    role = Role.ADMIN
    is_staff = True

    @factory.post_generation
    def admin_groups(obj, create, extracted, **kwargs):
        if create:
            user_set_role(user=obj, role=Role.ADMIN)
