from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction

from bookings.models import BookingPolicy
from notifications.models import ReminderSettings
from treatments.models import SafetyThresholds

pytestmark = pytest.mark.django_db

SETTINGS_MODELS = [BookingPolicy, ReminderSettings, SafetyThresholds]


@pytest.mark.parametrize("model", SETTINGS_MODELS)
def test_reading_clinic_settings_writes_nothing_and_gives_the_defaults(model, django_assert_num_queries):
    model.objects.all().delete()

    with django_assert_num_queries(1):
        row = model.load()

    assert not model.objects.exists()
    assert row.pk == 1


@pytest.mark.parametrize("model", SETTINGS_MODELS)
def test_saving_clinic_settings_keeps_a_single_row(model):
    model.objects.all().delete()
    model.load().save()

    model().save()  # a second "new" row lands on the same one

    assert list(model.objects.values_list("pk", flat=True)) == [1]


@pytest.mark.parametrize("model", SETTINGS_MODELS)
def test_database_refuses_a_second_settings_row(model):
    model.objects.all().delete()
    model.load().save()

    with pytest.raises(IntegrityError), transaction.atomic():
        model.objects.bulk_create([model(pk=2)])


def test_an_admins_saved_booking_policy_is_what_the_rules_read():
    policy = BookingPolicy.load()
    policy.minimum_notice_minutes = 240
    policy.save()

    assert BookingPolicy.load().minimum_notice_minutes == 240


def test_changing_one_field_of_never_saved_settings_stores_the_row():
    ReminderSettings.objects.all().delete()
    rules = ReminderSettings.load()
    rules.max_attempts = 3

    rules.save(update_fields=["max_attempts"])

    assert ReminderSettings.objects.get().max_attempts == 3
