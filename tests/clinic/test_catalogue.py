from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction

from clinic.models import Modality, Resource

pytestmark = pytest.mark.django_db


def test_the_four_modalities_are_seeded_with_their_clinical_bounds():
    modalities = {m.slug: m for m in Modality.objects.active()}

    assert set(modalities) == {
        "whole-body-cryotherapy",
        "localized-cryotherapy",
        "acupuncture-initial",
        "acupuncture-follow-up",
    }
    wbc = modalities["whole-body-cryotherapy"]
    # Whole-body exposure is 1-3 minutes (shared/seeds 002, 003).
    assert (wbc.exposure_min_seconds, wbc.exposure_max_seconds) == (60, 180)
    # Needles are retained 20-30 minutes (shared/seeds 004).
    acupuncture = modalities["acupuncture-follow-up"]
    assert (acupuncture.exposure_min_seconds, acupuncture.exposure_max_seconds) == (1200, 1800)
    assert wbc.slot_length == timedelta(minutes=wbc.slot_minutes)


def test_whole_body_cryotherapy_needs_the_single_chamber():
    wbc = Modality.objects.get(slug="whole-body-cryotherapy")

    assert wbc.resource.capacity == 1
    assert wbc.resource.temperature_min_c <= -140 <= wbc.resource.temperature_max_c


def test_database_refuses_inverted_exposure_bounds():
    wbc = Modality.objects.get(slug="whole-body-cryotherapy")
    wbc.exposure_min_seconds = 300

    with pytest.raises(IntegrityError), transaction.atomic():
        wbc.save()


def test_database_refuses_a_resource_without_capacity():
    with pytest.raises(IntegrityError), transaction.atomic():
        Resource.objects.create(name="Broken", kind="room", capacity=0)


def test_database_refuses_a_modality_longer_than_an_appointment_may_hold_a_room():
    wbc = Modality.objects.get(slug="whole-body-cryotherapy")
    wbc.slot_minutes = 12 * 60
    wbc.buffer_minutes = 10

    with pytest.raises(IntegrityError), transaction.atomic():
        wbc.save()
