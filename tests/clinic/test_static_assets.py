"""The pages' Bootstrap is the project's own copy of the current 5.3 release, with its licence."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.staticfiles import finders
from django.urls import reverse

pytestmark = pytest.mark.django_db


def _stylesheets_and_scripts(html: str) -> list[str]:
    return re.findall(r'(?:href|src)="([^"]+\.(?:css|js))"', html)


def test_every_page_asset_is_found_by_the_static_finders_and_bootstrap_is_5_3_vendored(client):
    html = client.get(reverse("home")).content.decode()
    assets = _stylesheets_and_scripts(html)
    bootstrap = [a for a in assets if "bootstrap" in a]
    assert len(bootstrap) == 2, assets
    for url in assets:
        path = url.removeprefix(settings.STATIC_URL).removeprefix("/" + settings.STATIC_URL)
        found = finders.find(path)
        assert found, f"{url} is not served"
        if "bootstrap" in url:
            head = Path(found).read_text(encoding="utf-8")[:400]
            assert re.search(r"Bootstrap\s+v5\.3\.\d+", head), head
            assert (Path(found).parent.parent / "LICENSE").read_text().startswith("The MIT License")


def test_the_stale_wrapper_package_is_gone():
    assert "bootstrap" not in settings.INSTALLED_APPS
    requirements = (Path(settings.BASE_DIR) / "requirements.txt").read_text()
    assert "django-bootstrap-static" not in requirements


def test_favicon_ico_leads_to_the_clinic_icon(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 301
    assert response["Location"].endswith(".svg")
    assert "clinic/favicon" in response["Location"]
