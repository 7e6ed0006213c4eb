"""Every error under /api/ is an RFC 9457 problem (application/problem+json), whatever went wrong."""

from __future__ import annotations

import pytest

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
def test_docs_page_loads_its_assets_from_this_site(client):
    response = client.get("/api/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "swagger-ui" in html
    assert "cdn" not in html.lower()
