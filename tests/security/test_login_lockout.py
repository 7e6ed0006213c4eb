from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.test import RequestFactory
from django.urls import reverse

from clinic.client_address import client_ip_address
from tests.factories import PASSWORD, PatientFactory

pytestmark = pytest.mark.django_db

ATTACKER = "198.51.100.7"


def _login(client, email: str, password: str, **meta: str):
    return client.post(reverse("login"), {"username": email, "password": password}, **meta)


def _fail_until_locked(client, email: str, settings, **meta: str) -> None:
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _login(client, email, "not-the-password", **meta)


def _is_logged_in(client) -> bool:
    return client.get(reverse("profile")).status_code == 200


def test_account_is_locked_at_an_address_after_the_failure_limit(client, settings):
    PatientFactory(user__email="kim@example.com")
    _fail_until_locked(client, "kim@example.com", settings, REMOTE_ADDR=ATTACKER)

    response = _login(client, "kim@example.com", PASSWORD, REMOTE_ADDR=ATTACKER)

    assert response.status_code == 429
    assert "Too many login attempts" in response.content.decode()
    assert "wait 30 minutes" in response.content.decode()
    assert not _is_logged_in(client)


def test_attempts_below_the_limit_do_not_lock_and_a_success_resets_the_count(client, settings):
    PatientFactory(user__email="kim@example.com")
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        _login(client, "kim@example.com", "not-the-password", REMOTE_ADDR=ATTACKER)
    assert _login(client, "kim@example.com", PASSWORD, REMOTE_ADDR=ATTACKER).status_code == 302
    client.post(reverse("logout"))

    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        _login(client, "kim@example.com", "not-the-password", REMOTE_ADDR=ATTACKER)

    assert _login(client, "kim@example.com", PASSWORD, REMOTE_ADDR=ATTACKER).status_code == 302


def test_lockout_counts_the_account_in_any_letter_case(client, settings):
    PatientFactory(user__email="kim@example.com")
    for attempt in range(settings.AXES_FAILURE_LIMIT):
        _login(client, "KIM@example.com" if attempt % 2 else "kim@example.com", "wrong", REMOTE_ADDR=ATTACKER)

    assert _login(client, "Kim@Example.com", PASSWORD, REMOTE_ADDR=ATTACKER).status_code == 429


def test_lockout_is_per_account_and_address_pair(client, settings):
    PatientFactory(user__email="kim@example.com")
    PatientFactory(user__email="lee@example.com")
    _fail_until_locked(client, "kim@example.com", settings, REMOTE_ADDR=ATTACKER)

    # The real owner at home still gets in, and so does another account at the attacker's address.
    assert _login(client, "kim@example.com", PASSWORD, REMOTE_ADDR="192.0.2.10").status_code == 302
    client.post(reverse("logout"))
    assert _login(client, "lee@example.com", PASSWORD, REMOTE_ADDR=ATTACKER).status_code == 302


def test_guesses_from_many_addresses_are_bounded_per_account(client, settings):
    """Below the per-address limit at every address, the account as a whole still locks."""
    PatientFactory(user__email="kim@example.com")
    PatientFactory(user__email="lee@example.com")
    below_pair_limit = settings.AXES_FAILURE_LIMIT - 1
    addresses = [f"198.51.100.{n}" for n in range(settings.CLINIC_LOGIN_ACCOUNT_FAILURE_LIMIT // below_pair_limit + 1)]
    for address in addresses:
        for _ in range(below_pair_limit):
            _login(client, "kim@example.com", "not-the-password", REMOTE_ADDR=address)

    from_a_new_address = _login(client, "kim@example.com", PASSWORD, REMOTE_ADDR="203.0.113.200")
    other_account = _login(client, "lee@example.com", PASSWORD, REMOTE_ADDR=addresses[0])

    assert from_a_new_address.status_code == 429
    assert other_account.status_code == 302


def test_the_account_limit_is_higher_than_the_per_address_limit(client, settings):
    """The owner at home is not locked out by a few failures elsewhere."""
    PatientFactory(user__email="kim@example.com")
    for n in range(settings.AXES_FAILURE_LIMIT + 1):
        _login(client, "kim@example.com", "not-the-password", REMOTE_ADDR=f"198.51.100.{n}")

    assert settings.CLINIC_LOGIN_ACCOUNT_FAILURE_LIMIT > settings.AXES_FAILURE_LIMIT
    assert _login(client, "kim@example.com", PASSWORD, REMOTE_ADDR="192.0.2.10").status_code == 302


def test_spoofed_forwarded_for_header_does_not_escape_the_lockout(client, settings):
    PatientFactory(user__email="kim@example.com")
    # Each failure claims a different address; with no trusted proxy the header is ignored.
    for attempt in range(settings.AXES_FAILURE_LIMIT):
        _login(client, "kim@example.com", "wrong", REMOTE_ADDR=ATTACKER, HTTP_X_FORWARDED_FOR=f"203.0.113.{attempt}")

    response = _login(client, "kim@example.com", PASSWORD, REMOTE_ADDR=ATTACKER, HTTP_X_FORWARDED_FOR="192.0.2.99")

    assert response.status_code == 429


def test_behind_a_trusted_proxy_only_the_address_the_proxy_saw_counts(client, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    proxy = "10.0.0.2"
    PatientFactory(user__email="kim@example.com")
    # The client prepends made-up hops; the proxy appends the real peer address last.
    for attempt in range(settings.AXES_FAILURE_LIMIT):
        _login(
            client,
            "kim@example.com",
            "wrong",
            REMOTE_ADDR=proxy,
            HTTP_X_FORWARDED_FOR=f"203.0.113.{attempt}, {ATTACKER}",
        )

    locked = _login(
        client, "kim@example.com", PASSWORD, REMOTE_ADDR=proxy, HTTP_X_FORWARDED_FOR=f"192.0.2.99, {ATTACKER}"
    )
    someone_else = _login(client, "kim@example.com", PASSWORD, REMOTE_ADDR=proxy, HTTP_X_FORWARDED_FOR="192.0.2.10")

    assert locked.status_code == 429
    assert someone_else.status_code == 302


def test_lockout_ends_after_the_cool_off_time_and_hammering_restarts_it(client, settings, start):
    PatientFactory(user__email="kim@example.com")
    with time_machine.travel(start, tick=False) as clock:
        _fail_until_locked(client, "kim@example.com", settings, REMOTE_ADDR=ATTACKER)
        clock.shift(settings.AXES_COOLOFF_TIME - timedelta(minutes=1))
        # Trying again while locked (even with the right password) restarts the cool-off.
        still_locked = _login(client, "kim@example.com", PASSWORD, REMOTE_ADDR=ATTACKER)
        clock.shift(timedelta(minutes=2))
        restarted = _login(client, "kim@example.com", PASSWORD, REMOTE_ADDR=ATTACKER)

        clock.shift(settings.AXES_COOLOFF_TIME + timedelta(minutes=1))
        after_cool_off = _login(client, "kim@example.com", PASSWORD, REMOTE_ADDR=ATTACKER)
        logged_in = _is_logged_in(client)

    assert still_locked.status_code == 429
    assert restarted.status_code == 429
    assert after_cool_off.status_code == 302
    assert logged_in


@pytest.mark.parametrize(
    ("proxy_count", "remote", "forwarded", "expected"),
    [
        (0, "192.0.2.1", "203.0.113.5", "192.0.2.1"),
        (1, "10.0.0.2", "203.0.113.5", "203.0.113.5"),
        (1, "10.0.0.2", "6.6.6.6, 203.0.113.5", "203.0.113.5"),
        (2, "10.0.0.3", "6.6.6.6, 203.0.113.5, 10.0.0.2", "203.0.113.5"),
        (2, "10.0.0.3", "203.0.113.5", "10.0.0.3"),  # did not come through both proxies
        (1, "10.0.0.2", "not-an-address", "10.0.0.2"),
        (1, "10.0.0.2", "", "10.0.0.2"),
    ],
)
def test_client_address_trusts_exactly_the_configured_proxies(settings, proxy_count, remote, forwarded, expected):
    settings.TRUSTED_PROXY_COUNT = proxy_count
    request = RequestFactory().get("/", REMOTE_ADDR=remote, HTTP_X_FORWARDED_FOR=forwarded)

    assert client_ip_address(request) == expected
