"""Required fields are named by their label alone for assistive technology, and still show a star."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def test_required_fields_accessible_name_is_the_label_without_the_star(visitor_factory):
    visitor = visitor_factory("labels")
    page = visitor.page
    visitor.goto("/accounts/register/", "register-labels")

    first_name = page.get_by_role("textbox", name="First name", exact=True)
    expect(first_name).to_be_visible()
    expect(first_name).to_have_attribute("required", "")
    star = page.locator("label[for='id_first_name'] .asteriskField")
    drawn = star.evaluate("el => getComputedStyle(el, '::after').content")
    assert "*" in drawn
