"""Every error under /api/ is an RFC 9457 problem (application/problem+json), whatever went wrong."""

from __future__ import annotations

import re

import pytest
from django.contrib.staticfiles import finders

PROBLEM = "application/problem+json"


@pytest.mark.django_db
def test_unknown_address_under_api_is_a_404_problem(client):
    response = client.get("/api/v1/no-such-thing/")
    assert response.status_code == 404
    assert response["Content-Type"] == PROBLEM
    body = response.json()
    assert body["status"] == 404
    assert body["type"].endswith("/api/problems/not-found")
    assert body["instance"] == "/api/v1/no-such-thing/"


@pytest.mark.django_db
def test_wrong_method_is_a_405_problem(client):
    response = client.delete("/api/v1/modalities/")
    assert response.status_code == 405
    assert response["Content-Type"] == PROBLEM
    assert response.json()["title"] == "Method not allowed"


@pytest.mark.django_db
def test_public_modalities_list_the_bookable_treatments(client, wbc):
    response = client.get("/api/v1/modalities/")
    assert response.status_code == 200
    assert wbc.slug in [row["slug"] for row in response.json()]


@pytest.mark.django_db
def test_docs_page_has_no_inline_code_and_loads_every_asset_from_this_site(client, settings):
    response = client.get("/api/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="swagger-ui"' in html
    assert "<style" not in html  # the CSP allows no inline style or script
    assert not re.search(r"<script(?![^>]*\bsrc=)", html)
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert any(asset.endswith("swagger-ui-bundle.js") for asset in assets)
    for asset in assets:
        if asset.startswith("/api/docs/"):
            assert client.get(asset).status_code == 200  # the page's own start-up script
        else:
            assert asset.startswith(settings.STATIC_URL if settings.STATIC_URL.startswith("/") else "/static/"), asset
            assert finders.find(asset.split("/static/", 1)[1]), f"{asset} is not among this site's static files"


@pytest.mark.django_db
def test_post_to_an_address_with_no_route_is_a_404_problem_not_the_csrf_page(client):
    response = client.post("/api/v1/appointments/1.5/cancel/", {}, content_type="application/json")
    assert response.status_code == 404
    assert response["Content-Type"] == PROBLEM


@pytest.mark.django_db
def test_address_with_an_encoded_line_break_is_a_404_problem(client):
    response = client.get("/api/v1/modalities/%0A/availability/")
    assert response.status_code == 404
    assert response["Content-Type"] == PROBLEM
