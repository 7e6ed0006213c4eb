"""A session note printed from the browser is a clean clinical record: content, no page chrome."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse
from playwright.sync_api import expect

from tests.browser.steps import staff_log_in
from tests.factories import PatientFactory, PractitionerFactory
from tests.treatments.factories import session_logged

SCREENSHOT = Path(__file__).resolve().parents[2] / "var" / "screenshots" / "session-note-print.png"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def test_a_session_note_prints_without_navigation_footer_or_buttons(visitor_factory, wbc):
    practitioner = PractitionerFactory(user__first_name="Alex", user__last_name="Morgan")
    patient = PatientFactory(user__first_name="Robin", user__last_name="Hale")
    log = session_logged(
        patient=patient, practitioner=practitioner, modality=wbc, sign=False, subjective="Stiff after gardening."
    )
    visitor = visitor_factory("practitioner")
    staff_log_in(visitor, user=practitioner.user)
    page = visitor.page
    visitor.goto(reverse("treatments:log_detail", args=[log.pk]), "session-note")
    navigation = page.get_by_role("navigation", name="Main navigation")
    sign = page.get_by_role("button", name="Sign")
    expect(navigation).to_be_visible()
    expect(sign).to_be_visible()

    page.emulate_media(media="print")
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOT), full_page=True)

    expect(navigation).to_be_hidden()
    expect(page.locator("footer")).to_be_hidden()
    expect(sign).to_be_hidden()
    expect(page.get_by_role("link", name="Edit draft")).to_be_hidden()
    expect(page.get_by_role("heading", name="Notes")).to_be_visible()
    expect(page.get_by_text("Stiff after gardening.")).to_be_visible()
    expect(page.get_by_text("Robin Hale")).to_be_visible()
    expect(page.get_by_text(f"{settings.CLINIC_NAME} · {settings.CLINIC_PHONE} · printed")).to_be_visible()
