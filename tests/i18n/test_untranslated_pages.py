"""Every page, as every kind of visitor, with Spanish chosen: no English left on it.

The pages come from the URL resolver (``tests.security.url_catalogue``), so a new page is
walked as soon as it exists; the Django admin is walked too (its index, and each of the
clinic's own tables' list and add pages).  A string somebody forgot to mark, or that the
Spanish catalogue lacks, shows up as an English-only word (``tests.i18n.english``) and the
test names the page and the words around it.

What is taken out first: scripts, styles, and the people's own data (names, email addresses,
notes typed by patients and staff, the audit trail's stored descriptions), which stay in the
language they were written in.  The clinic's catalogue (treatments, questionnaire, consent
texts, plan templates) is kept in: it is meant to read in Spanish too.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.apps import apps
from django.conf import settings
from django.contrib import admin
from django.db import models
from django.test import Client
from django.urls import NoReverseMatch, reverse

from clinic.models import User
from tests.factories import verified_login
from tests.i18n.english import english_words
from tests.security.url_catalogue import RULES, project_patterns, url_for
from tests.security.world import World, build_world

pytestmark = [pytest.mark.django_db, pytest.mark.slow]

ROLES = ("anonymous", "patient", "practitioner", "desk", "admin")
OWN_APPS = {"clinic", "notifications", "screening", "bookings", "treatments", "privacy"}
# What the clinic writes for everyone (kept in the check): the rest is what people typed.
CATALOGUE_MODELS = {
    "clinic.modality",
    "clinic.resource",
    "screening.contraindication",
    "screening.contraindicationrule",
    "screening.questionnaire",
    "screening.question",
    "screening.consenttext",
    "treatments.coldapplicationmethod",
    "bookings.plantemplate",
    "bookings.planphase",
}


@pytest.fixture
def world(db) -> World:
    return build_world()


def _people_data() -> set[str]:
    """Every text people typed or the app stored about them, to be taken out of the pages."""
    values: set[str] = {settings.CLINIC_NAME, settings.CLINIC_PHONE, settings.TIME_ZONE}
    for model in apps.get_models():
        if model._meta.app_label not in OWN_APPS | {"auth"} or model._meta.label_lower in CATALOGUE_MODELS:
            continue
        fields = [
            field.name
            for field in model._meta.concrete_fields
            if isinstance(field, models.CharField | models.TextField | models.EmailField) and not field.choices
        ]
        if fields:
            for row in model._default_manager.values_list(*fields):
                values.update(str(value) for value in row if value)
    for user in User.objects.all():
        values.update({user.get_full_name(), str(user)})
    return values


def _spanish_client(world: World, role: str) -> Client:
    """A visitor with Spanish chosen: the cookie for anonymous, the stored choice for the others."""
    client = Client(HTTP_ACCEPT_LANGUAGE="es")
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "es"
    if role == "anonymous":
        return client
    user = {
        "patient": world.patient_a.user,
        "practitioner": world.related.user,
        "desk": world.desk,
        "admin": world.admin,
    }[role]
    user.language = "es"
    user.save(update_fields=["language"])
    if user.is_clinic_staff:
        verified_login(client, user)
    else:
        client.force_login(user)
    return client


def _admin_urls() -> Iterator[str]:
    yield reverse("admin:index")
    for model, _model_admin in admin.site._registry.items():
        if model._meta.app_label not in OWN_APPS:
            continue  # Django's and the libraries' own tables come with their own translations
        for view in ("changelist", "add"):
            try:
                yield reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}")
            except NoReverseMatch:
                continue


def _page(response) -> str:
    """The HTML a person sees: pages, and the error pages (refused, not found, link expired) too."""
    if response.status_code not in (200, 403, 404, 410, 429) or "html" not in response.get("Content-Type", ""):
        return ""
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content).decode("utf-8", "replace")
    return response.content.decode("utf-8", "replace")


def _english_on_pages(world: World, role: str) -> list[str]:
    client = _spanish_client(world, role)
    data = _people_data()
    urls = [url_for(pattern.name, world) for pattern in project_patterns() if pattern.name in RULES]
    found: dict[str, list[str]] = {}
    admin_urls = list(_admin_urls()) if role == "admin" else []
    for url in urls + admin_urls:
        if url in admin_urls:
            # The walk itself writes audit events (their descriptions are stored text, like every
            # person's own): take those out too before an admin page shows the audit trail.
            data = _people_data()
        page = _page(client.get(url))
        words = english_words(page, data=data)
        if page and 'lang="es"' not in page[:300]:
            words.insert(0, "<html lang> is not Spanish")
        if words:
            found[url] = words
    return found


@pytest.mark.parametrize("role", ROLES)
def test_no_english_words_on_any_page_with_spanish_chosen(world, role) -> None:
    found = _english_on_pages(world, role)
    report = "\n".join(
        f"{role} {url}: {len(words)} English words, e.g. " + " | ".join(f"…{text}…" for text in words[:3])
        for url, words in sorted(found.items())
    )
    assert not found, f"{len(found)} pages shown in Spanish still have English:\n{report}"


def test_the_check_finds_an_unmarked_string(world, settings) -> None:
    # The same walk must notice English: with English chosen the home page is full of it.
    client = Client(HTTP_ACCEPT_LANGUAGE="en-gb")
    page = _page(client.get(reverse("home")))
    assert english_words(page, data=_people_data())
