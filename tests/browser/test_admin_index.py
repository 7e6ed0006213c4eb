"""A clinic admin opens the Django admin and finds its tables grouped by what they do."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from clinic.admin_site import SECTIONS
from tests.browser.steps import staff_log_in
from tests.factories import AdminFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def test_clinic_admin_sees_the_clinics_name_and_the_index_grouped_by_task(visitor_factory, settings):
    admin = AdminFactory(first_name="Ada")
    visitor = visitor_factory("admin-index")
    staff_log_in(visitor, user=admin)
    visitor.goto("/admin/", "admin-index")
    page = visitor.page

    expect(page.get_by_role("link", name=f"{settings.CLINIC_NAME}: administration")).to_be_visible()
    main = page.locator("#content-main")
    for section in SECTIONS:
        expect(main.get_by_role("link", name=section, exact=True)).to_be_visible()
    expect(main.get_by_role("link", name="Working hours", exact=True)).to_be_visible()
    expect(main.get_by_text("Clocked")).to_have_count(0)
