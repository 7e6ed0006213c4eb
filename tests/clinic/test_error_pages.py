"""Error pages wear the clinic's layout with debug off, as production shows them.

A person who hits a dead link, a server error, a refused page, an expired form or the
login lockout sees the clinic's name, its navigation and a way back, never Django's
bare page or a traceback.
"""

from __future__ import annotations

import pytest
from django.conf import settings as django_settings
from django.test import Client, RequestFactory
from django.urls import reverse

from clinic.error_pages import server_error
from tests.clinic.error_urls import SECRET_IN_THE_TRACEBACK
from tests.factories import PatientFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _production_errors(settings) -> None:
    settings.DEBUG = False
    settings.ROOT_URLCONF = "tests.clinic.error_urls"


def _in_the_clinic_layout(html: str) -> None:
    assert django_settings.CLINIC_NAME in html
    assert "clinic/clinic.css" in html
    assert 'href="/"' in html  # a way back to the start page
    assert "Traceback" not in html


def test_an_unknown_address_shows_the_clinics_not_found_page() -> None:
    response = Client().get("/no-such-page/")

    assert response.status_code == 404
    html = response.content.decode()
    _in_the_clinic_layout(html)
    assert "We cannot find that page" in html


def test_a_server_error_shows_the_clinics_page_without_any_detail() -> None:
    response = Client(raise_request_exception=False).get("/test-errors/boom/")

    assert response.status_code == 500
    html = response.content.decode()
    _in_the_clinic_layout(html)
    assert "Something went wrong on our side" in html
    assert django_settings.CLINIC_PHONE in html
    assert SECRET_IN_THE_TRACEBACK not in html


def test_the_server_error_page_needs_no_database_and_no_context_processors(settings, django_assert_num_queries) -> None:
    # The error may be the database or a context processor itself; the page must still render.
    settings.TEMPLATES = [
        {
            **settings.TEMPLATES[0],
            "OPTIONS": {"context_processors": ["tests.clinic.test_error_pages.broken_context_processor"]},
        }
    ]
    request = RequestFactory().get("/anything/")

    with django_assert_num_queries(0):
        response = server_error(request)

    assert response.status_code == 500
    _in_the_clinic_layout(response.content.decode())


def broken_context_processor(request):
    raise RuntimeError("the context processor is what failed")


def test_a_refused_page_says_why_in_the_clinics_layout() -> None:
    client = Client()
    client.force_login(PatientFactory().user)

    response = client.get("/test-errors/denied/")

    assert response.status_code == 403
    html = response.content.decode()
    _in_the_clinic_layout(html)
    assert "This page is for clinic staff." in html


def test_an_expired_form_explains_what_to_do_instead_of_a_csrf_error() -> None:
    client = Client(enforce_csrf_checks=True)

    response = client.post(reverse("login"), {"username": "someone@example.org", "password": "x"})

    assert response.status_code == 403
    html = response.content.decode()
    _in_the_clinic_layout(html)
    assert "This form has expired" in html
    assert "CSRF" not in html


def test_the_login_lockout_page_is_branded_and_answers_429(settings) -> None:
    settings.AXES_ENABLED = True
    patient = PatientFactory()
    client = Client()

    for _attempt in range(settings.AXES_FAILURE_LIMIT + 1):
        response = client.post(reverse("login"), {"username": patient.user.email, "password": "wrong"})

    assert response.status_code == 429
    html = response.content.decode()
    _in_the_clinic_layout(html)
    assert "Too many login attempts" in html


@pytest.mark.parametrize("path", ["/no-such-page/", "/test-errors/denied/"])
def test_error_pages_carry_no_inline_script_or_style(path) -> None:
    client = Client()
    client.force_login(PatientFactory().user)
    html = client.get(path).content.decode()

    assert " style=" not in html
    assert "<script>" not in html
