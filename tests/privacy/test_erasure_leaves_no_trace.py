"""After erasure, no table of the database still names the patient or holds their contact details.

A sweep over every text column of every table (history, login log and audit trail
included), so a table added later that copies the email, name or phone is caught too.
The one kept on purpose: the typed signature of a consent (a consent without it proves
nothing; it is kept with the clinical records for the retention period).
"""

from __future__ import annotations

import json

import pytest
from django.apps import apps
from django.db import models
from django.test import Client
from django.urls import reverse

from tests.factories import PASSWORD
from tests.security.world import A_EMAIL, A_FIRST, A_LAST, World

pytestmark = pytest.mark.django_db

TEXT_FIELDS = (models.CharField, models.TextField, models.JSONField)
KEPT_ON_PURPOSE = {("screening.consent", "typed_name"), ("screening.historicalconsent", "typed_name")}


def _holds(model: type[models.Model], field: models.Field, text: str) -> bool:
    rows = model._default_manager.all()
    if isinstance(field, models.JSONField):  # no lookup for "text anywhere in the JSON" on every database
        return any(text.lower() in json.dumps(value).lower() for value in rows.values_list(field.name, flat=True))
    return rows.filter(**{f"{field.name}__icontains": text}).exists()


def _columns_holding(text: str) -> list[str]:
    return [
        f"{model._meta.label_lower}.{field.name}"
        for model in apps.get_models()
        for field in model._meta.concrete_fields
        if isinstance(field, TEXT_FIELDS)
        and (model._meta.label_lower, field.name) not in KEPT_ON_PURPOSE
        and _holds(model, field, text)
    ]


def test_no_column_keeps_the_erased_patients_email_name_or_phone(world: World, settings) -> None:
    settings.AXES_ENABLE_ACCESS_FAILURE_LOG = True
    client = Client(REMOTE_ADDR="203.0.113.77")
    client.post(reverse("login"), {"username": A_EMAIL, "password": "wrong"})
    client.post(reverse("login"), {"username": A_EMAIL, "password": PASSWORD})
    client.get(reverse("privacy:export"))
    phone = world.patient_a.phone.as_e164  # as stored
    assert _columns_holding(A_EMAIL), "the sweep finds the email before erasure"
    assert _columns_holding(phone)

    response = client.post(reverse("privacy:delete"), {"password": PASSWORD, "understood": "on"})
    assert response.status_code == 302

    assert _columns_holding(A_EMAIL) == []
    assert _columns_holding(A_FIRST) == []
    assert _columns_holding(A_LAST) == []
    assert _columns_holding(phone) == []
