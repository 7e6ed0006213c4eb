"""Phone booking and care plans find the patient through the search, never a list of everyone."""

from __future__ import annotations

import pytest
from django.urls import reverse

from clinic.models import AuditEvent
from tests.factories import AdminFactory, FrontDeskFactory, PatientFactory, UserFactory, care_team_join

pytestmark = pytest.mark.django_db


@pytest.fixture
def smiths():
    john = PatientFactory(user=UserFactory(first_name="John", last_name="Smith"))
    jane = PatientFactory(user=UserFactory(first_name="Jane", last_name="Doe"))
    return john, jane


def test_phone_booking_opens_on_the_search_and_lists_nobody(client, smiths):
    john, jane = smiths
    client.force_login(FrontDeskFactory())
    page = client.get(reverse("bookings:staff_book")).content.decode()
    assert "Find the patient" in page
    assert john.full_name not in page
    assert jane.full_name not in page


def test_desk_finds_the_patient_and_chooses_them(client, smiths, wbc):
    john, jane = smiths
    desk = FrontDeskFactory()
    client.force_login(desk)
    page = client.get(reverse("bookings:staff_book"), {"q": "smith"}).content.decode()
    assert john.full_name in page
    assert jane.full_name not in page
    assert f"patient={john.pk}" in page
    assert AuditEvent.objects.filter(actor=desk, action=AuditEvent.Action.SEARCH, path__contains="q=smith").exists()
    chosen = client.get(reverse("bookings:staff_book"), {"patient": john.pk}).content.decode()
    assert john.full_name in chosen
    assert "Show free times" in chosen
    assert f'name="patient" value="{john.pk}"' in chosen


def test_nothing_found_is_said_kindly(client, smiths):
    client.force_login(FrontDeskFactory())
    page = client.get(reverse("bookings:staff_book"), {"q": "zzzz"}).content.decode()
    assert "No patient found" in page


def test_practitioner_finds_only_their_care_team_when_booking(client, smiths, practitioner):
    john, jane = smiths
    care_team_join(patient=jane, practitioner=practitioner)
    client.force_login(practitioner.user)
    assert john.full_name not in client.get(reverse("bookings:staff_book"), {"q": "smith"}).content.decode()
    assert jane.full_name in client.get(reverse("bookings:staff_book"), {"q": "doe"}).content.decode()
    # a patient outside the team cannot be chosen by id either
    assert "Show free times" not in client.get(reverse("bookings:staff_book"), {"patient": john.pk}).content.decode()


def test_care_plan_finds_the_patient_through_the_search(client, smiths, practitioner):
    john, jane = smiths
    care_team_join(patient=john, practitioner=practitioner)
    client.force_login(practitioner.user)
    first = client.get(reverse("bookings:plan_create")).content.decode()
    assert "Find the patient" in first
    assert john.full_name not in first
    found = client.get(reverse("bookings:plan_create"), {"q": "jonh smith"}).content.decode()
    assert jane.full_name not in found
    chosen = client.get(reverse("bookings:plan_create"), {"patient": john.pk}).content.decode()
    assert "Start the plan" in chosen
    assert john.full_name in chosen


def test_search_results_page_on(client):
    for number in range(23):
        PatientFactory(user=UserFactory(first_name=f"Ann{number:02d}", last_name="Pager"))
    client.force_login(AdminFactory())
    page = client.get(reverse("bookings:staff_book"), {"q": "pager"}).content.decode()
    assert "page=2" in page
    second = client.get(reverse("bookings:staff_book"), {"q": "pager", "page": "2"}).content.decode()
    assert second.count("Choose<span") == 3
    assert client.get(reverse("bookings:staff_book"), {"q": "pager", "page": "x"}).status_code == 200
