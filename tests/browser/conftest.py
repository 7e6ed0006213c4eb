"""Headless Chromium (Debian's package) driven by Playwright against a live test server.

The tests run when /usr/bin/chromium exists (or CHROMIUM_PATH points at a Chromium) and are
skipped with instructions otherwise; CLINIC_BROWSER_TESTS=required turns a missing browser into a
failure (the PostgreSQL pass of .ci/run), CLINIC_BROWSER_TESTS=off skips them.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path(os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"))
AXE_JS = Path(os.environ.get("AXE_CORE_JS", ROOT / "var" / "npm" / "node_modules" / "axe-core" / "axe.min.js"))
SCREENSHOTS = ROOT / "var" / "screenshots"
MODE = os.environ.get("CLINIC_BROWSER_TESTS", "auto").lower()

# Keep Chromium off the network: this machine has none, and background services would only
# produce refused connections.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--disable-extensions",
    "--metrics-recording-only",
    "--no-pings",
]

PHONE = {"width": 390, "height": 844}
TABLET = {"width": 768, "height": 1024}
DESKTOP = {"width": 1280, "height": 900}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    reason = None
    if MODE in {"off", "0", "false", "no"}:
        reason = "browser tests switched off (CLINIC_BROWSER_TESTS=off)"
    elif not CHROMIUM.exists() and MODE != "required":
        reason = (
            f"no Chromium at {CHROMIUM}: install Debian's package (apt-get install chromium) "
            "or set CHROMIUM_PATH to run the browser tests"
        )
    if reason:
        for item in items:
            if "tests/browser" in str(item.fspath):
                item.add_marker(pytest.mark.skip(reason=reason))


@pytest.fixture(scope="session")
def _seeded_catalogue(django_db_setup) -> str | None:
    """The migrations' seed data (modalities, questionnaire, consent texts, plan templates) as
    Django serialised it when it created the test database, read before Playwright starts.

    Once Playwright's event loop runs in this thread, Django may hand the test a fresh
    connection object that lacks ``_test_serialized_contents``; ``serialized_rollback``
    then silently restores nothing after the previous transactional test's flush.
    """
    from django.db import connection

    return getattr(connection, "_test_serialized_contents", None)


@pytest.fixture(autouse=True)
def _catalogue_restored(request, _seeded_catalogue) -> None:
    """Browser tests start with the seeded catalogue, whatever flushed the database before."""
    if request.node.get_closest_marker("browser") is None or not _seeded_catalogue:
        return
    request.getfixturevalue("transactional_db")
    from django.db import connection

    from clinic.models import Modality

    connection._test_serialized_contents = _seeded_catalogue
    if not Modality.objects.exists():
        connection.creation.deserialize_db_from_string(_seeded_catalogue)


@pytest.fixture(scope="session")
def browser(_seeded_catalogue) -> Iterator:
    # Playwright's sync API runs an event loop in this thread; the live server's ORM calls
    # happen in another thread, but fixtures here touch the ORM too.
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    if not CHROMIUM.exists():
        pytest.fail(f"CLINIC_BROWSER_TESTS=required but there is no Chromium at {CHROMIUM}")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


class Visitor:
    """One person's browser: a page plus helpers to screenshot and audit what they see."""

    def __init__(self, browser, base_url: str, name: str) -> None:
        self.base_url = base_url.rstrip("/")
        self.name = name
        self.context = browser.new_context(viewport=PHONE, base_url=self.base_url, locale="en-GB")
        # A missing element should fail a journey in seconds, not after Playwright's default 30 s.
        self.context.set_default_timeout(10_000)
        self.page = self.context.new_page()
        self.visited: list[str] = []
        self.audit_violations: list[str] = []

    def goto(self, path: str, label: str | None = None) -> None:
        self.page.goto(self.base_url + path)
        self.check(label)

    def check(self, label: str | None = None) -> None:
        """Screenshot the current page at phone, tablet and desktop size and run the axe audit on it."""
        self.page.wait_for_load_state("domcontentloaded")
        path = self.page.url.removeprefix(self.base_url)
        label = label or re.sub(r"[^a-z0-9]+", "-", path.lower()).strip("-") or "home"
        self.visited.append(path)
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        stem = f"{self.name}-{len(self.visited):02d}-{label}"[:120]
        self.page.screenshot(path=str(SCREENSHOTS / f"{stem}-phone.png"), full_page=True)
        self.page.set_viewport_size(TABLET)
        self.page.screenshot(path=str(SCREENSHOTS / f"{stem}-tablet.png"), full_page=True)
        self.page.set_viewport_size(DESKTOP)
        self.page.screenshot(path=str(SCREENSHOTS / f"{stem}-desktop.png"), full_page=True)
        self.page.set_viewport_size(PHONE)
        self.audit(path)

    def audit(self, path: str) -> None:
        if not AXE_JS.exists():
            return
        self.page.add_script_tag(path=str(AXE_JS))
        result = self.page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
        for violation in result["violations"]:
            if violation["impact"] in {"serious", "critical"}:
                targets = [node["target"] for node in violation["nodes"]][:3]
                self.audit_violations.append(f"{path}: {violation['id']} ({violation['impact']}) {json.dumps(targets)}")

    def close(self) -> None:
        self.context.close()


@pytest.fixture(scope="session")
def _live_server_settings() -> Iterator[None]:
    """Plain-HTTP settings for the live server, applied before its thread builds the middleware."""
    from django.conf import settings

    overrides = {
        "SECURE_SSL_REDIRECT": False,
        "SESSION_COOKIE_SECURE": False,
        "CSRF_COOKIE_SECURE": False,
        "SECURE_HSTS_SECONDS": 0,
        "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
        "STORAGES": {
            **settings.STORAGES,
            "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
        },
    }
    previous = {name: getattr(settings, name, None) for name in overrides}
    for name, value in overrides.items():
        setattr(settings, name, value)
    yield
    for name, value in previous.items():
        setattr(settings, name, value)


@pytest.fixture
def visitor_factory(_live_server_settings, browser, live_server, request) -> Iterator:
    visitors: list[Visitor] = []

    def make(name: str) -> Visitor:
        # Screenshot names start with the first words of the test's name, e.g.
        # "relative-contraindication-waits-for-practitioner-03-review-queue-phone.png".
        journey = "-".join(request.node.name.removeprefix("test_").split("_")[:4])
        for stale in SCREENSHOTS.glob(f"{journey}-{name}-*.png"):
            stale.unlink(missing_ok=True)  # left by an earlier run of this journey
        visitor = Visitor(browser, live_server.url, f"{journey}-{name}")
        visitors.append(visitor)
        return visitor

    yield make
    violations = [v for visitor in visitors for v in visitor.audit_violations]
    for visitor in visitors:
        visitor.close()
    if AXE_JS.exists():
        assert not violations, "axe-core found serious or critical accessibility problems:\n" + "\n".join(violations)


@pytest.fixture(autouse=True)
def _staff_sessions_as_in_production(settings) -> None:
    """Staff log in through the real second step in the browser journeys: two-factor
    authentication is required for practitioners and admins, as in production
    (tests/conftest.py switches it off for ordinary tests)."""
    settings.CLINIC_STAFF_2FA_REQUIRED = True


@pytest.fixture
def clinic_open_every_day(db):
    """One practitioner who delivers every treatment, working 08:00-18:00 every day of the week,
    so each journey finds free times whatever day the suite runs."""
    from datetime import time

    from bookings.models import WorkingHours
    from tests.factories import PractitionerFactory

    practitioner = PractitionerFactory(user__first_name="Alex", user__last_name="Morgan", title="Physiotherapist")
    WorkingHours.objects.bulk_create(
        WorkingHours(practitioner=practitioner, weekday=weekday, start_time=time(8), end_time=time(18))
        for weekday in range(7)
    )
    return practitioner
