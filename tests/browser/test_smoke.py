from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.steps import confirm_email, field

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def test_front_page_and_registration_work_on_a_phone(visitor_factory):
    visitor = visitor_factory("newcomer")
    page = visitor.page

    visitor.goto("/")
    expect(page.get_by_role("heading", name="Relief for back pain, booked online")).to_be_visible()
    page.get_by_role("link", name="Create an account").click()
    visitor.check("register")
    page.get_by_label("First name").fill("Morgan")
    page.get_by_label("Last name").fill("Reyes")
    page.get_by_label("Email").fill("morgan@example.com")
    page.get_by_label("Date of birth").fill("1984-05-06")
    page.get_by_role("textbox", name=re.compile(r"^Phone")).fill("+44 7911 123555")
    field(page, "Password").fill("a-long-unusual-passphrase")
    page.get_by_label("Password again").fill("a-long-unusual-passphrase")
    page.get_by_role("button", name="Create my account").click()
    confirm_email(visitor, email="morgan@example.com")

    expect(page.get_by_role("heading", name="Hello, Morgan")).to_be_visible()
    visitor.check("after-registration")
