"""Each treatment card's button names its treatment, so a screen reader's list of links tells them apart."""

from __future__ import annotations

import re
from html import unescape

import pytest
from django.urls import reverse

from tests.factories import PatientFactory

pytestmark = pytest.mark.django_db


def _link_texts(html: str) -> list[str]:
    texts = []
    for body in re.findall(r'<a class="btn[^"]*"[^>]*href="/bookings/book/[^"]+"[^>]*>(.*?)</a>', html, re.S):
        texts.append(" ".join(unescape(re.sub(r"<[^>]+>", "", body)).split()))
    return texts


def test_every_treatment_cards_button_has_its_own_accessible_name(client):
    client.force_login(PatientFactory().user)
    html = client.get(reverse("bookings:book")).content.decode()
    texts = _link_texts(html)
    assert len(texts) >= 2
    assert len(set(texts)) == len(texts), texts
    assert all(" for " in text for text in texts)
