"""Every URL of the project, as every kind of visitor: each answers as the access rules say.

The patterns come from the URL resolver, so a new page is walked automatically; a
page missing from ``url_catalogue.RULES`` fails ``test_every_url_pattern_is_classified``.
"""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from bookings.models import Appointment, CarePlan
from tests.factories import verified_login
from tests.security.url_catalogue import NEEDS_PROFILE, RULES, STAFF_ALSO, Access, project_patterns, url_for
from tests.security.world import A_CLINICAL, A_EMAIL, A_NAME, World, build_world

pytestmark = pytest.mark.django_db

LOGIN_PATH = "/accounts/login/"


@pytest.fixture
def world(db) -> World:
    return build_world()


def _client_for(world: World, role: str) -> Client:
    client = Client()
    if role == "anonymous":
        return client
    user = {
        "patient_a": world.patient_a.user,
        "patient_b": world.patient_b.user,
        "related": world.related.user,
        "unrelated": world.unrelated.user,
        "admin": world.admin,
        "desk": world.desk,
    }[role]
    if user.is_clinic_staff:
        verified_login(client, user)
    else:
        client.force_login(user)
    return client


def _body(response) -> str:
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content).decode("utf-8", "replace")
    return response.content.decode("utf-8", "replace")


def _to_login(response) -> bool:
    return response.status_code == 302 and response["Location"].startswith(LOGIN_PATH)


def test_every_url_pattern_is_classified() -> None:
    names = [pattern.name for pattern in project_patterns()]
    unclassified = sorted(set(names) - set(RULES))
    assert not unclassified, (
        f"Add these URL names to tests/security/url_catalogue.RULES (who may open them): {unclassified}"
    )
    stale = sorted(set(RULES) - set(names))
    assert not stale, f"RULES names URLs that no longer exist: {stale}"
    assert len(names) == len(set(names)), "two URL patterns share a name"


def _expectation_failures(world: World, role: str) -> list[str]:
    client = _client_for(world, role)
    failures: list[str] = []
    for pattern in project_patterns():
        name = pattern.name
        rule = RULES[name]
        url = url_for(name, world)
        response = client.get(url)
        status = response.status_code
        body = _body(response) if status == 200 else ""
        where = f"{role} GET {url} ({name}) -> {status}"
        if status >= 500:
            failures.append(f"{where}: server error")
            continue
        access = rule.access
        owner_ok = 405 if not rule.get_ok else (400 if rule.needs_query else None)

        # Nobody but A and the staff allowed to see A's records ever sees A's details.
        may_see_a = role in ("patient_a", "related", "admin") or access == Access.TOKEN
        if (
            not may_see_a
            and role not in ("unrelated", "desk")
            and (A_NAME in body or A_EMAIL in body or A_CLINICAL in body)
        ):
            failures.append(f"{where}: shows patient A's details")
        if role in ("unrelated", "desk") and A_CLINICAL in body:
            failures.append(f"{where}: shows patient A's clinical data")

        if role == "desk" and access not in (Access.PUBLIC, Access.TOKEN, Access.ACCOUNT):
            desk_allowed = rule.desk or access == Access.DESK
            if desk_allowed and status >= 400 and status != owner_ok:
                failures.append(f"{where}: the front desk is refused a page it works on")
            if not desk_allowed and status not in (403, 404) and status != owner_ok:
                failures.append(f"{where}: the front desk reaches a page that is not theirs")
            continue

        if access in (Access.PUBLIC, Access.TOKEN):
            continue
        if role == "anonymous":
            # 401: the API's answer to a call without credentials (it has no login page to send to).
            if not (_to_login(response) or status in (401, 403, 404)):
                failures.append(f"{where}: anonymous not sent to the login page")
            continue
        if access == Access.ACCOUNT:
            if role in ("admin", "desk") and name in NEEDS_PROFILE and status == 403:
                continue
            if status >= 400 and status != owner_ok:
                failures.append(f"{where}: a logged-in person cannot open their own account page")
        elif access == Access.PATIENT:
            if role.startswith("patient"):
                if status >= 400:
                    failures.append(f"{where}: a patient cannot open their own page")
            elif status not in (403, 404):
                failures.append(f"{where}: staff reach a patient-only page")
        elif access == Access.PATIENT_OBJECT:
            allowed = role == "patient_a" or (name in STAFF_ALSO and role in ("related", "admin"))
            if allowed and status >= 400 and status != owner_ok:
                failures.append(f"{where}: the owner (or their practitioner) is refused")
            if not allowed and status not in (403, 404, owner_ok):
                failures.append(f"{where}: someone else reaches patient A's record")
            if role == "patient_b" and status not in (404, owner_ok):  # 405 (POST only) is the same for every id
                failures.append(f"{where}: another patient's id must answer 404")
        elif access == Access.DESK:
            if role == "admin":
                if status >= 400:
                    failures.append(f"{where}: an admin is refused a front-desk page")
            elif status not in (403, 404):
                failures.append(f"{where}: a front-desk page is open to {role}")
        elif access == Access.STAFF:
            if role.startswith("patient"):
                if status != 403:
                    failures.append(f"{where}: a patient reaches a staff page")
            elif status >= 500:
                failures.append(f"{where}: staff page fails")
        elif access == Access.STAFF_OBJECT:
            if role.startswith("patient"):
                if status != 403:
                    failures.append(f"{where}: a patient reaches a staff page about a patient")
            elif role in ("related", "admin"):
                if status >= 400 and status != owner_ok:
                    failures.append(f"{where}: patient A's practitioner is refused")
            elif status != 404 and status != owner_ok:
                # 405 (GET on a POST-only view) is the same for every id, so it is no hint either.
                failures.append(f"{where}: a practitioner without a relation must get 404")
    return failures


@pytest.mark.parametrize("role", ["anonymous", "patient_a", "patient_b", "related", "unrelated", "admin", "desk"])
def test_every_url_answers_as_the_access_rules_say(world: World, role: str) -> None:
    failures = _expectation_failures(world, role)
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("role", ["anonymous", "patient_b", "unrelated"])
def test_posting_to_patient_a_records_by_others_is_refused_and_changes_nothing(world: World, role: str) -> None:
    client = _client_for(world, role)
    failures = []
    for pattern in project_patterns():
        rule = RULES[pattern.name]
        if rule.access not in (Access.PATIENT_OBJECT, Access.STAFF_OBJECT):
            continue
        url = url_for(pattern.name, world)
        response = client.post(url, {"reason": "probe", "outcome": "attended", "password": "x"})
        # 405: the page takes no POST at all, whatever the id (no hint, nothing changed).
        refused = (
            _to_login(response) or response.status_code == 401
            if role == "anonymous"
            else response.status_code in (403, 404, 405)
        )
        if not refused:
            failures.append(f"{role} POST {url} ({pattern.name}) -> {response.status_code}")
    assert not failures, "\n".join(failures)
    world.appointment_a.refresh_from_db()
    world.plan_a.refresh_from_db()
    assert world.appointment_a.status == Appointment.Status.BOOKED
    assert world.plan_a.status == CarePlan.Status.ACTIVE


def test_unknown_ids_answer_404_for_their_owner_too(world: World) -> None:
    client = _client_for(world, "patient_a")
    for name in ("bookings:appointment_detail", "screening:submission", "bookings:my_plan_detail"):
        assert client.get(reverse(name, kwargs={"pk": 987654})).status_code == 404


def test_a_made_up_calendar_token_answers_404(world: World) -> None:
    assert Client().get("/bookings/calendar/not-a-real-token.ics").status_code == 404


@pytest.mark.parametrize("role", ["patient_a", "related", "unrelated", "desk"])
def test_the_django_admin_sends_patients_and_practitioners_to_its_login(world: World, role: str) -> None:
    client = _client_for(world, role)
    for url in ("/admin/", "/admin/clinic/auditevent/", f"/admin/clinic/patient/{world.patient_a.pk}/change/"):
        response = client.get(url)
        assert response.status_code == 302, (url, response.status_code)
        assert response["Location"].startswith("/admin/login/"), response["Location"]


def test_the_admin_opens_the_django_admin(world: World) -> None:
    assert _client_for(world, "admin").get("/admin/").status_code == 200
