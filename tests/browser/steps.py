"""Steps a person takes in the browser, shared by the journeys.

Elements are found the way a person finds them: by their visible label, heading or
role.  Every page a step lands on is screenshotted and audited (``visitor.check``).
"""

from __future__ import annotations

import re
from datetime import date, timedelta

from django.core import mail
from django.utils import timezone
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import expect

from clinic.models import User
from tests.factories import PASSWORD


def field(page, label: str):
    """The form field labelled ``label`` exactly (crispy appends "*" to required fields' labels)."""
    return page.get_by_label(re.compile(rf"^\s*{re.escape(label)}\s*\*?\s*$"))


def day_label(day: date) -> str:
    """How the booking pages name a day, e.g. "Friday 3 October"."""
    return f"{day:%A} {day.day} {day:%B}"


def totp_code(device: TOTPDevice) -> str:
    """The code the person's authenticator app shows right now for ``device``."""
    device.refresh_from_db()
    return f"{totp(device.bin_key, device.step, device.t0, device.digits, device.drift):0{device.digits}d}"


def log_in(visitor, *, email: str, password: str = PASSWORD, label: str = "login") -> None:
    page = visitor.page
    visitor.goto("/accounts/login/")
    field(page, "Email address").fill(email)
    field(page, "Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_load_state("domcontentloaded")


def staff_log_in(visitor, *, user: User) -> None:
    """Password, then the code from the authenticator app (the real two-factor verify page)."""
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=True)
    log_in(visitor, email=user.email)
    page = visitor.page
    expect(page.get_by_role("heading", name="Enter your code")).to_be_visible()
    visitor.check("two-factor-verify")
    field(page, "Code").fill(totp_code(device))
    page.get_by_role("button", name="Verify").click()
    expect(page.get_by_role("heading", name=re.compile(r"^Hello"))).to_be_visible()


def answer_health_questions(visitor, *, date_of_birth: date, yes: tuple[str, ...] = ()) -> None:
    """On the questionnaire: "Yes" to the questions whose text matches one of ``yes``, "No" to the rest."""
    page = visitor.page
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    # The form means to pre-fill the date of birth from the account, but renders it as
    # dd/mm/yyyy, which a date input cannot show, so the person types it again.
    field(page, "Your date of birth").fill(date_of_birth.isoformat())
    groups = page.get_by_role("group")
    answered = 0
    for index in range(groups.count()):
        group = groups.nth(index)
        if group.get_by_role("radio", name="Yes", exact=True).count() != 1:
            continue
        question = group.inner_text()
        choice = "Yes" if any(text.lower() in question.lower() for text in yes) else "No"
        group.get_by_role("radio", name=choice, exact=True).check()
        answered += 1
    assert answered >= 20, f"expected the seeded questionnaire's 20+ questions, found {answered}"
    visitor.check("health-questions-answered")
    page.get_by_role("button", name="Send my answers").click()
    page.wait_for_load_state("domcontentloaded")
    problems = page.locator(".invalid-feedback, .alert-danger, .alert-block")
    assert not problems.count(), problems.all_inner_texts()
    expect(page.get_by_role("heading", name="My health screening")).to_be_visible()


def sign_consent(visitor, *, treatment: str, full_name: str) -> None:
    """From "My health screening", open the treatment's consent form and sign it."""
    page = visitor.page
    row = page.locator(".list-group-item").filter(has=page.get_by_role("heading", name=treatment, exact=True))
    row.get_by_role("link", name="Read and sign the consent form").click()
    expect(page.get_by_role("heading", name=f"Consent for {treatment.lower()}")).to_be_visible()
    visitor.check(f"consent-{treatment.lower().replace(' ', '-')}")
    field(page, "Type your full name to sign").fill(full_name)
    page.get_by_label("I have read this consent form").check()
    page.get_by_role("button", name="Sign the consent form").click()
    expect(page.get_by_role("alert").filter(has_text="your consent")).to_be_visible()


def choose_first_time_on(visitor, *, day: date, label: str = "free-times") -> str:
    """On a week of free times, go to ``day``'s week and pick its first free time; returns that time."""
    page = visitor.page
    for _ in range(3):
        card = page.get_by_role("region", name=day_label(day))
        if card.count():
            break
        page.get_by_role("link", name=re.compile("Next week")).click()
        page.wait_for_load_state("domcontentloaded")
    else:
        raise AssertionError(f"{day_label(day)} is not offered within three weeks")
    visitor.check(label)
    first = card.get_by_role("link").first
    chosen = first.inner_text().strip()
    first.click()
    return chosen


def a_few_days_ahead(days: int = 3) -> date:
    """A day clearly past the minimum notice and the cancellation cut-off."""
    return timezone.localdate() + timedelta(days=days)


def open_menu_link(visitor, name: str) -> None:
    """Follow a link of the main menu, opening the collapsed menu first as on a phone."""
    page = visitor.page
    menu = page.get_by_role("navigation", name="Main navigation")
    toggler = menu.get_by_role("button", name="Open the menu")
    if toggler.is_visible():
        toggler.click()
    link = menu.get_by_role("link", name=name, exact=True)
    expect(link).to_be_visible()
    href = link.get_attribute("href")
    link.click()
    page.wait_for_url(f"**{href}")


def choose(page, label: str, option_text: str) -> None:
    """In the drop-down labelled ``label``, pick the option whose text contains ``option_text``."""
    select = field(page, label)
    option = select.locator("option").filter(has_text=option_text).first
    select.select_option(value=option.get_attribute("value"))


def confirm_email(visitor, *, email: str) -> None:
    """Open the link in the confirmation email a new registration was sent (locmem outbox)."""
    expect(visitor.page.get_by_role("heading", name="Check your email")).to_be_visible()
    (message,) = [m for m in mail.outbox if email in m.to]
    visitor.goto(re.search(r"https?://[^/\s]+(/\S+)", message.body).group(1), "email-confirmed")
