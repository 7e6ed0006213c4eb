"""Conventions a person notices on every page: what "*" means, and tables a phone can scroll."""

from __future__ import annotations

import re

from django.urls import reverse

from tests.treatments.factories import session_logged


def test_a_form_page_with_required_fields_says_what_the_star_means(client, db):
    page = client.get(reverse("register")).content.decode()
    assert "asteriskField" in page
    assert "Fields marked * are required." in page


def test_a_page_without_a_form_says_nothing_about_stars(client, db):
    assert "Fields marked * are required." not in client.get(reverse("home")).content.decode()


def test_wide_tables_on_the_chart_are_named_regions_a_keyboard_can_scroll(client, practitioner, patient, wbc):
    session_logged(patient=patient, practitioner=practitioner, modality=wbc)
    client.force_login(practitioner.user)
    page = client.get(reverse("treatments:patient_chart", args=[patient.pk])).content.decode()
    wrappers = re.findall(r'<div class="table-responsive"[^>]*>', page)
    assert wrappers
    for wrapper in wrappers:
        assert 'tabindex="0"' in wrapper
        assert 'role="region"' in wrapper
        assert "aria-label=" in wrapper
