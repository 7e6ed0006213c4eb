"""The desk registers a phone-only patient; the patient claims the account with a one-time link."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
import time_machine
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from clinic.models import AccountClaim, AuditEvent, CareTeamMembership, Patient, User
from clinic.services import (
    ACCOUNT_CLAIM_MAX_FAILURES,
    AccountClaimRefused,
    account_claim,
    account_claim_link_create,
    patient_register_at_desk,
)
from tests.factories import FrontDeskFactory, PatientFactory, PractitionerFactory

pytestmark = pytest.mark.django_db

BORN = date(1962, 5, 4)
PASSWORD = "a-long-new-password-2026"


@pytest.fixture
def desk():
    return FrontDeskFactory()


def _register(desk, **overrides):
    fields = {"first_name": "Nell", "last_name": "Phoneonly", "date_of_birth": BORN, "phone": "07911 123555"}
    return patient_register_at_desk(actor=desk, **{**fields, **overrides})


def _token(link: str) -> str:
    return re.search(r"/claim/([^/]+)/", link).group(1)


def test_desk_registers_a_patient_with_no_email_and_it_is_audited(desk, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        patient, link = _register(desk)
    assert patient.user.email is None
    assert not patient.user.has_usable_password()
    assert "/accounts/claim/" in link
    assert AuditEvent.objects.filter(actor=desk, patient=patient, action=AuditEvent.Action.CREATE).exists()
    assert mail.outbox == []  # nowhere to send the link: the desk gives it


def test_two_patients_without_email_can_coexist(desk):
    _register(desk)
    _register(desk, first_name="Other")
    assert User.objects.filter(email__isnull=True).count() == 2


def test_an_email_given_at_the_desk_gets_the_link(desk, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        _patient, link = _register(desk, email="Nell@Example.com")
    assert mail.outbox[0].to == ["nell@example.com"]
    assert link in mail.outbox[0].body


def test_a_taken_email_is_refused_and_nothing_is_written(desk):
    PatientFactory(user__email="taken@example.com")
    before = Patient.objects.count()
    with pytest.raises(ValidationError):
        _register(desk, email="TAKEN@example.com")
    assert Patient.objects.count() == before
    assert not AccountClaim.objects.exists()


def test_only_the_desk_or_an_admin_registers(patient):
    with pytest.raises(PermissionDenied):
        _register(patient.user)
    with pytest.raises(PermissionDenied):
        _register(PractitionerFactory().user)


def test_choosing_a_practitioner_assigns_them_and_gives_the_desk_nothing(desk):
    practitioner = PractitionerFactory()
    patient, _link = _register(desk, practitioner=practitioner)
    membership = CareTeamMembership.objects.get(patient=patient)
    assert membership.member == practitioner.user
    assert membership.kind == CareTeamMembership.Kind.ASSIGNED
    assert not CareTeamMembership.objects.filter(member=desk).exists()


def test_the_patient_claims_the_account_once(desk, django_capture_on_commit_callbacks):
    patient, link = _register(desk)
    with django_capture_on_commit_callbacks(execute=True):
        user = account_claim(token=_token(link), email="nell@example.com", password=PASSWORD, date_of_birth=BORN)
    assert user.email == "nell@example.com"
    assert user.check_password(PASSWORD)
    assert not user.email_verified  # confirmed by the emailed link before the first login
    assert mail.outbox[0].to == ["nell@example.com"]
    assert AuditEvent.objects.filter(actor=user, patient=patient, description__contains="claimed").exists()
    with pytest.raises(AccountClaimRefused):
        account_claim(token=_token(link), email="else@example.com", password=PASSWORD, date_of_birth=BORN)
    assert User.objects.get(pk=user.pk).email == "nell@example.com"


def test_the_claim_link_expires(desk, settings):
    _patient, link = _register(desk)
    later = timezone.now() + timedelta(days=settings.CLINIC_ACCOUNT_CLAIM_DAYS, minutes=1)
    with time_machine.travel(later), pytest.raises(AccountClaimRefused):
        account_claim(token=_token(link), email="nell@example.com", password=PASSWORD, date_of_birth=BORN)


def test_a_new_link_ends_the_old_one(desk):
    patient, first = _register(desk)
    second = account_claim_link_create(patient=patient, actor=desk)
    with pytest.raises(AccountClaimRefused):
        account_claim(token=_token(first), email="nell@example.com", password=PASSWORD, date_of_birth=BORN)
    account_claim(token=_token(second), email="nell@example.com", password=PASSWORD, date_of_birth=BORN)


def test_wrong_dates_of_birth_wear_the_link_out(desk):
    _patient, link = _register(desk)
    for _attempt in range(ACCOUNT_CLAIM_MAX_FAILURES):
        with pytest.raises(ValidationError):
            account_claim(token=_token(link), email="x@example.com", password=PASSWORD, date_of_birth=date(1990, 1, 1))
    with pytest.raises(AccountClaimRefused):
        account_claim(token=_token(link), email="x@example.com", password=PASSWORD, date_of_birth=BORN)
    assert User.objects.filter(email="x@example.com").count() == 0


def test_claiming_with_someone_elses_email_is_refused(desk):
    PatientFactory(user__email="taken@example.com")
    _patient, link = _register(desk)
    with pytest.raises(ValidationError):
        account_claim(token=_token(link), email="taken@example.com", password=PASSWORD, date_of_birth=BORN)
    account_claim(token=_token(link), email="nell@example.com", password=PASSWORD, date_of_birth=BORN)


def test_no_new_link_once_claimed(desk):
    patient, link = _register(desk)
    account_claim(token=_token(link), email="nell@example.com", password=PASSWORD, date_of_birth=BORN)
    with pytest.raises(ValidationError):
        account_claim_link_create(patient=patient, actor=desk)


# --- the pages --------------------------------------------------------------------------------


def test_desk_page_registers_and_shows_the_link_once(client, desk):
    client.force_login(desk)
    response = client.post(
        reverse("bookings:desk_patient_register"),
        {"first_name": "Nell", "last_name": "Phoneonly", "date_of_birth": "1962-05-04", "phone": "07911 123555"},
        follow=True,
    )
    page = response.content.decode()
    assert "/accounts/claim/" in page
    assert "Book for Nell Phoneonly" in page
    patient = Patient.objects.get(user__last_name="Phoneonly")
    again = client.get(reverse("bookings:desk_account_link", args=[patient.pk])).content.decode()
    assert "/accounts/claim/" not in again


@pytest.mark.parametrize(
    "bad",
    [
        {"first_name": ""},
        {"date_of_birth": "2999-01-01"},
        {"date_of_birth": "not a date"},
        {"phone": "12"},
        {"email": "not-an-email"},
        {"practitioner": "999999"},
    ],
)
def test_desk_registration_with_bad_input_changes_nothing(client, desk, bad):
    client.force_login(desk)
    data = {"first_name": "Nell", "last_name": "Phoneonly", "date_of_birth": "1962-05-04", "phone": "07911 123555"}
    before = (User.objects.count(), AccountClaim.objects.count(), AuditEvent.objects.count())
    response = client.post(reverse("bookings:desk_patient_register"), {**data, **bad})
    assert response.status_code == 200
    assert "is-invalid" in response.content.decode() or "invalid" in response.content.decode().lower()
    assert (User.objects.count(), AccountClaim.objects.count(), AuditEvent.objects.count()) == before


def test_claim_page_sets_up_the_account_and_then_refuses_the_link(client, desk):
    _patient, link = _register(desk)
    url = reverse("account_claim", args=[_token(link)])
    assert "Set up your online account" in client.get(url).content.decode()
    wrong = client.post(
        url, {"date_of_birth": "1990-01-01", "email": "nell@example.com", "password1": PASSWORD, "password2": PASSWORD}
    )
    assert "does not match" in wrong.content.decode()
    response = client.post(
        url, {"date_of_birth": "1962-05-04", "email": "nell@example.com", "password1": PASSWORD, "password2": PASSWORD}
    )
    assert response.status_code == 302
    assert client.get(url).status_code == 404


def test_patient_without_email_gets_no_email_reminder(desk):
    from notifications.models import Reminder
    from notifications.services import reminder_deliver, reminder_plan

    patient, _link = _register(desk)
    reminder, _created = reminder_plan(
        key="test-no-email", kind=_any_kind(), patient=patient, due_at=timezone.now() - timedelta(minutes=1)
    )
    delivery = reminder_deliver(reminder_id=reminder.pk)
    assert delivery.outcome == "cancelled"
    assert Reminder.objects.get(pk=reminder.pk).state == Reminder.State.CANCELLED
    assert mail.outbox == []


def _any_kind() -> str:
    from notifications.kinds import _KINDS

    return next(iter(_KINDS))
