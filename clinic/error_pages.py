"""Error pages in the clinic's layout: the handlers Django's defaults cannot cover.

404 and 403 use Django's own handlers with ``templates/404.html`` and ``403.html``.
The server-error page is rendered here without the request, so no context processor
and no database query runs: the error may be the database itself.  The CSRF failure
page explains an expired form in words a patient understands.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseServerError
from django.shortcuts import render
from django.template import loader
from django.utils.html import escape
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.csrf import requires_csrf_token

logger = logging.getLogger(__name__)


def _bare_server_error() -> str:
    """Shown only when even the layout cannot render (a missing static manifest, a broken template)."""
    language = escape(get_language() or settings.LANGUAGE_CODE)
    title = escape(_("Server error"))
    heading = escape(_("Something went wrong on our side"))
    advice = escape(_("Please try again in a few minutes."))
    back = escape(_("Back to the start page"))
    return (
        f"<!doctype html><html lang='{language}'><head><meta charset='utf-8'><title>{title}</title></head>"
        f"<body><h1>{heading}</h1><p>{advice}</p><p><a href='/'>{back}</a></p></body></html>"
    )


@requires_csrf_token
def server_error(request: HttpRequest) -> HttpResponse:
    """``handler500``: the clinic's page, from settings alone."""
    context = {
        "CLINIC_NAME": settings.CLINIC_NAME,
        "CLINIC_PHONE": settings.CLINIC_PHONE,
        "TIME_ZONE": settings.TIME_ZONE,
    }
    try:
        body = loader.get_template("500.html").render(context)
    except Exception:
        logger.exception("The server-error page itself failed to render; a bare page was sent.")
        body = _bare_server_error()
    return HttpResponseServerError(body)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """``CSRF_FAILURE_VIEW``: usually a form left open too long, or cookies switched off."""
    return render(request, "403_csrf.html", status=403)
