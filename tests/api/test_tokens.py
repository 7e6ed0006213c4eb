"""Personal access tokens: made and revoked on the tokens page, shown once, stored hashed, and refused
with a 401 problem once revoked, expired, idle (staff) or no longer backed by the owner's rights."""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.test import APIClient

from api.models import PersonalAccessToken
from api.services import TokenRefused, token_create, token_revoke
from clinic.models import Role
from clinic.services import user_set_role
from tests.api.conftest import bearer, token_for
from tests.factories import verified_login

pytestmark = pytest.mark.django_db

TOKEN_ON_PAGE = re.compile(r'id="new-token">(cpat_[^<]+)<')
APPOINTMENTS = "/api/v1/appointments/"


def _make_on_page(client, **fields) -> str:
    data = {"name": "practice software", "scope": "read", "valid_days": 30, **fields}
    response = client.post(reverse("api_tokens:list"), data)
    assert response.status_code == 200
    match = TOKEN_ON_PAGE.search(response.content.decode())
    assert match, "the new token is shown on the page"
    return match.group(1)


def test_profile_page_links_to_the_tokens_page(client, patient):
    client.force_login(patient.user)
    page = client.get(reverse("profile")).content.decode()
    assert f'href="{reverse("api_tokens:list")}"' in page


def test_token_is_shown_once_and_only_its_hash_is_stored(client, patient):
    client.force_login(patient.user)
    plaintext = _make_on_page(client)
    stored = PersonalAccessToken.objects.get(user=patient.user)
    secret = plaintext.split("_", 2)[2]
    assert stored.secret_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in stored.secret_hash
    listing = client.get(reverse("api_tokens:list")).content.decode()
    assert stored.prefix in listing
    assert secret not in listing
    assert bearer(plaintext).get(APPOINTMENTS).status_code == 200


def test_revoked_token_gets_401_problem(client, patient):
    client.force_login(patient.user)
    plaintext = _make_on_page(client)
    token = PersonalAccessToken.objects.get(user=patient.user)
    response = client.post(reverse("api_tokens:revoke", args=[token.prefix]))
    assert response.status_code == 302
    answer = bearer(plaintext).get(APPOINTMENTS)
    assert answer.status_code == 401
    assert answer["Content-Type"] == "application/problem+json"
    assert answer.json()["detail"] == "This token has been revoked."
    assert answer["WWW-Authenticate"].startswith("Bearer")


def test_nobody_revokes_another_persons_token_through_the_page(client, patient, other_patient):
    plaintext = token_for(other_patient.user)
    token = PersonalAccessToken.objects.get(user=other_patient.user)
    client.force_login(patient.user)
    assert client.post(reverse("api_tokens:revoke", args=[token.prefix])).status_code == 404
    assert bearer(plaintext).get(APPOINTMENTS).status_code == 200


def test_expired_token_gets_401_problem(patient):
    plaintext = token_for(patient.user, valid_days=7)
    assert bearer(plaintext).get(APPOINTMENTS).status_code == 200
    with time_machine.travel(timezone.now() + timedelta(days=7, seconds=1)):
        answer = bearer(plaintext).get(APPOINTMENTS)
    assert answer.status_code == 401
    assert answer.json()["detail"] == "This token has expired."


@pytest.mark.parametrize(
    "raw",
    ["", "cpat_", "cpat_abc", "cpat_abc_", "nonsense", "cpat_" + "a" * 40 + "_x", "cpat_deadbeef_wrong", "Ä"],
)
def test_unknown_or_malformed_token_gets_401_problem(patient, raw):
    token_for(patient.user)  # a real token exists; a guess at its prefix without the secret still fails
    answer = bearer(raw).get(APPOINTMENTS)
    assert answer.status_code == 401
    assert answer["Content-Type"] == "application/problem+json"


def test_token_with_the_right_prefix_and_a_wrong_secret_gets_401(patient):
    plaintext = token_for(patient.user)
    kind, prefix, secret = plaintext.split("_", 2)
    wrong = secret[:-1] + ("x" if secret[-1] != "x" else "y")
    answer = bearer(f"{kind}_{prefix}_{wrong}").get(APPOINTMENTS)
    assert answer.status_code == 401


def test_no_credentials_gets_401_problem_saying_bearer():
    answer = APIClient().get(APPOINTMENTS)
    assert answer.status_code == 401
    assert answer["WWW-Authenticate"] == 'Bearer realm="api"'
    assert answer.json()["type"].endswith("/api/problems/not-authenticated")


def test_inactive_account_token_gets_401(patient):
    plaintext = token_for(patient.user)
    patient.user.is_active = False
    patient.user.save(update_fields=["is_active"])
    assert bearer(plaintext).get(APPOINTMENTS).status_code == 401


def test_read_token_may_not_book(patient, wbc):
    plaintext = token_for(patient.user, scope="read")
    answer = bearer(plaintext).post(APPOINTMENTS, {"modality": wbc.slug, "starts_at": "2030-01-01T10:00Z"}, "json")
    assert answer.status_code == 403
    assert answer.json()["type"].endswith("/api/problems/token-scope")


def test_expiry_beyond_the_maximum_is_refused(patient, settings):
    settings.CLINIC_API_PATIENT_TOKEN_MAX_DAYS = 30
    with pytest.raises(TokenRefused, match="1 to 30 days"):
        token_create(actor=patient.user, name="x", scope="read", valid_days=31, session_verified=False)
    assert not PersonalAccessToken.objects.exists()


def test_page_offers_no_expiry_beyond_the_maximum(client, practitioner, settings):
    settings.CLINIC_API_STAFF_TOKEN_MAX_DAYS = 90
    client.force_login(practitioner.user)
    response = client.post(reverse("api_tokens:list"), {"name": "x", "scope": "read", "valid_days": 365})
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert not PersonalAccessToken.objects.exists()


# --- staff follow the staff login rules ------------------------------------------------------------


@pytest.fixture
def two_factor_required(settings):
    settings.CLINIC_STAFF_2FA_REQUIRED = True


def test_staff_make_tokens_only_in_a_two_factor_session(two_factor_required, practitioner):
    with pytest.raises(TokenRefused, match="two-factor"):
        token_create(actor=practitioner.user, name="x", scope="read", valid_days=7, session_verified=False)
    TOTPDevice.objects.create(user=practitioner.user, name="Authenticator app", confirmed=True)
    with pytest.raises(TokenRefused, match="two-factor"):
        token_create(actor=practitioner.user, name="x", scope="read", valid_days=7, session_verified=False)
    assert not PersonalAccessToken.objects.exists()


def test_staff_make_a_token_on_the_page_after_two_factor(two_factor_required, client, practitioner):
    verified_login(client, practitioner.user)
    plaintext = _make_on_page(client)
    assert PersonalAccessToken.objects.get(user=practitioner.user).issued_to_staff
    # Valid staff credentials, but the patient endpoint is not theirs: 403, not 401.
    assert bearer(plaintext).get(APPOINTMENTS).status_code == 403


def test_staff_token_stops_when_two_factor_is_removed(two_factor_required, practitioner):
    device = TOTPDevice.objects.create(user=practitioner.user, name="Authenticator app", confirmed=True)
    plaintext = token_for(practitioner.user)
    assert bearer(plaintext).get(APPOINTMENTS).status_code == 403
    device.delete()
    answer = bearer(plaintext).get(APPOINTMENTS)
    assert answer.status_code == 401
    assert "two-factor" in answer.json()["detail"]


def test_staff_token_stops_when_the_person_loses_staff_access(practitioner):
    plaintext = token_for(practitioner.user)
    user_set_role(user=practitioner.user, role=Role.PATIENT)
    answer = bearer(plaintext).get(APPOINTMENTS)
    assert answer.status_code == 401
    assert "role has changed" in answer.json()["detail"]


def test_staff_token_stops_after_the_idle_days_but_use_keeps_it_alive(practitioner, settings):
    settings.CLINIC_API_STAFF_TOKEN_IDLE_DAYS = 14
    start = timezone.now()
    plaintext = token_for(practitioner.user, valid_days=90)
    with time_machine.travel(start + timedelta(days=13)):
        assert bearer(plaintext).get(APPOINTMENTS).status_code == 403  # authenticated (not a patient)
    with time_machine.travel(start + timedelta(days=26)):
        assert bearer(plaintext).get(APPOINTMENTS).status_code == 403  # 13 days after its last use
    with time_machine.travel(start + timedelta(days=40, seconds=1)):
        answer = bearer(plaintext).get(APPOINTMENTS)
    assert answer.status_code == 401
    assert "not used for more than 14 days" in answer.json()["detail"]


def test_patient_token_has_no_idle_rule(patient, settings):
    settings.CLINIC_API_STAFF_TOKEN_IDLE_DAYS = 14
    start = timezone.now()
    plaintext = token_for(patient.user, valid_days=365)
    with time_machine.travel(start + timedelta(days=100)):
        assert bearer(plaintext).get(APPOINTMENTS).status_code == 200


def test_clinic_admin_revokes_a_token_in_the_admin_and_it_stops_working(client, patient):
    from tests.factories import AdminFactory

    plaintext = token_for(patient.user)
    token = PersonalAccessToken.objects.get(user=patient.user)
    admin_user = AdminFactory(is_superuser=True)
    client.force_login(admin_user)
    listing = client.get(reverse("admin:api_personalaccesstoken_changelist"))
    assert token.prefix in listing.content.decode()
    assert token.secret_hash not in listing.content.decode()
    response = client.post(
        reverse("admin:api_personalaccesstoken_changelist"),
        {"action": "revoke", "_selected_action": [token.pk]},
    )
    assert response.status_code == 302
    assert bearer(plaintext).get(APPOINTMENTS).status_code == 401


def test_only_the_owner_or_a_clinic_admin_revokes(patient, other_patient):
    token_for(other_patient.user)
    token = PersonalAccessToken.objects.get(user=other_patient.user)
    with pytest.raises(TokenRefused, match="only revoke your own"):
        token_revoke(actor=patient.user, token=token)
    token.refresh_from_db()
    assert token.revoked_at is None
