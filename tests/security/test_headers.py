from __future__ import annotations

import re

import pytest
from django.core import mail
from django.urls import reverse

from clinic.two_factor import two_factor_enrolment_send
from tests.factories import AdminFactory, PatientFactory, verified_login

pytestmark = pytest.mark.django_db

INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE)
EVENT_HANDLER_ATTRIBUTE = re.compile(r"<[^>]+\son[a-z]+\s*=", re.IGNORECASE)
STYLE_ATTRIBUTE = re.compile(r"<[^>]+\sstyle\s*=", re.IGNORECASE)


def _directives(response) -> dict[str, str]:
    policy = response["Content-Security-Policy"]
    return {part.split()[0]: part.strip() for part in policy.split(";") if part.strip()}


def _inline_code(html: str) -> list[str]:
    # <script type="application/json"> (json_script) is data, not code, and CSP allows it.
    scripts = [tag for tag in INLINE_SCRIPT.findall(html) if "application/json" not in tag]
    return scripts + EVENT_HANDLER_ATTRIBUTE.findall(html)


def test_every_page_carries_a_strict_content_security_policy(client):
    response = client.get(reverse("home"))
    directives = _directives(response)

    assert "unsafe-inline" not in response["Content-Security-Policy"]
    assert "unsafe-eval" not in response["Content-Security-Policy"]
    assert directives["default-src"] == "default-src 'self'"
    assert directives["script-src"] == "script-src 'self'"
    assert directives["style-src"] == "style-src 'self'"
    assert directives["img-src"] == "img-src 'self' data:"
    assert directives["frame-ancestors"] == "frame-ancestors 'none'"
    assert directives["form-action"] == "form-action 'self'"
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize("page", ["home", "login", "register", "password_reset"])
def test_public_pages_have_no_inline_script_or_style(client, page):
    html = client.get(reverse(page)).content.decode()

    assert _inline_code(html) == []
    assert STYLE_ATTRIBUTE.findall(html) == []


def test_security_pages_have_no_inline_script_or_style(client, practitioner_user):
    client.force_login(practitioner_user)
    pages = [client.get(reverse("two_factor_setup"))]  # 403: ask an admin for an enrolment link
    two_factor_enrolment_send(user=practitioner_user, actor=AdminFactory())
    client.get(re.search(r"/accounts/two-factor/enrol/\S+/", mail.outbox[-1].body).group(0))
    pages += [client.get(reverse("two_factor_setup"))]
    verified_login(client, PatientFactory().user)
    pages += [client.get(reverse("two_factor")), client.get(reverse("profile"))]

    assert [response.status_code for response in pages] == [403, 200, 200, 200]
    for response in pages:
        html = response.content.decode()
        assert _inline_code(html) == []
        assert STYLE_ATTRIBUTE.findall(html) == []


def test_django_admin_pages_work_without_inline_scripts(client, clinic_admin, wbc):
    verified_login(client, clinic_admin)
    pages = [
        reverse("admin:index"),
        reverse("admin:clinic_modality_changelist"),
        reverse("admin:clinic_modality_change", args=[wbc.pk]),
        reverse("admin:clinic_user_add"),
        reverse("admin:clinic_auditevent_changelist"),
        reverse("admin:django_celery_beat_periodictask_add"),
    ]

    for page in pages:
        response = client.get(page)
        assert response.status_code == 200, page
        assert "unsafe-inline" not in response["Content-Security-Policy"]
        assert _inline_code(response.content.decode()) == [], page


def test_session_and_csrf_cookies_are_http_only_or_secure_in_production(settings):
    # DEBUG-off settings (as production) are checked by `manage.py check --deploy` in
    # tests/clinic/test_settings.py; here the cookie flags that do not depend on DEBUG.
    assert settings.SESSION_COOKIE_HTTPONLY is True
    assert settings.SESSION_COOKIE_SECURE is True
    assert settings.CSRF_COOKIE_SECURE is True
    assert settings.SECURE_HSTS_SECONDS >= 31536000


def test_every_admin_list_and_add_page_runs_without_inline_scripts(client):
    from django.contrib import admin

    superuser = AdminFactory(is_superuser=True)
    verified_login(client, superuser)

    checked = 0
    for model, model_admin in admin.site._registry.items():
        info = (model._meta.app_label, model._meta.model_name)
        urls = [reverse("admin:{}_{}_changelist".format(*info))]
        if model_admin.has_add_permission(client.get(urls[0]).wsgi_request):
            urls.append(reverse("admin:{}_{}_add".format(*info)))
        for url in urls:
            response = client.get(url)
            assert response.status_code == 200, url
            assert _inline_code(response.content.decode()) == [], url
            checked += 1

    assert checked > 10
