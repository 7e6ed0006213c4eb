"""Errors as RFC 9457 problem details (``application/problem+json``), one shape for every API error.

Every error under ``/api/`` is a JSON object with at least::

    {"type": "https://clinic.example/api/problems/slot-taken", "title": "Time no longer free",
     "status": 409, "detail": "Sorry, this time has just been taken.", "instance": "/api/v1/appointments/"}

and, where it helps the client, extra members: ``errors`` (field name -> list of
messages) on a 400, ``nearest_times`` (ISO 8601 times) on a 409 for a taken slot.
``type`` names the kind of problem (documented in README.md and in the schema);
``title`` is the same for every problem of a type; ``detail`` is the human message the
pages would show.

Views raise ``Problem`` (or a DRF exception); ``problem_exception_handler`` (the
``EXCEPTION_HANDLER`` of ``REST_FRAMEWORK``) turns each into a response.  Nothing
unexpected becomes an HTML 500 page: it is logged and answered as a problem too.
"""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, JsonResponse
from django.utils.functional import Promise
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions, status
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.serializers import as_serializer_error

from clinic.care_team import CareTeamRefused

logger = logging.getLogger(__name__)

StrOrPromise = str | Promise

PROBLEM_CONTENT_TYPE = "application/problem+json"

# slug -> (status, title): every kind of problem the API answers with.  The README's
# API section documents them; api/schema.py puts them in the OpenAPI description.
PROBLEM_TYPES: dict[str, tuple[int, StrOrPromise]] = {
    "validation-error": (400, _("Your request has errors")),
    "malformed-request": (400, _("The request could not be read")),
    "not-authenticated": (401, _("Authentication needed")),
    "token-invalid": (401, _("Token not accepted")),
    "forbidden": (403, _("Not allowed")),
    "token-scope": (403, _("Token may only read")),
    "not-found": (404, _("Not found")),
    "method-not-allowed": (405, _("Method not allowed")),
    "not-acceptable": (406, _("Cannot answer in that format")),
    "conflict": (409, _("Conflict")),
    "slot-taken": (409, _("Time no longer free")),
    "unsupported-media-type": (415, _("Unsupported content type")),
    "booking-refused": (422, _("Booking refused")),
    "screening-refused": (422, _("Screening does not allow this booking")),
    "rate-limited": (429, _("Too many requests")),
    "server-error": (500, _("Something went wrong on our side")),
}


def problem_type_uri(slug: str) -> str:
    return f"{settings.SITE_URL}/api/problems/{slug}"


class ProblemJSONRenderer(JSONRenderer):
    """Lets a client ask for ``Accept: application/problem+json`` (errors are always rendered as JSON)."""

    media_type = PROBLEM_CONTENT_TYPE


class Problem(exceptions.APIException):
    """An error the API answers as problem details; raise it from a view.

    ``Problem("slot-taken", detail="Sorry, this time has just been taken.", nearest_times=[...])``
    """

    def __init__(self, slug: str, *, detail: str = "", status_code: int | None = None, **extra: Any) -> None:
        if slug not in PROBLEM_TYPES:
            raise ValueError(f"Unknown problem type {slug!r}: add it to PROBLEM_TYPES.")
        default_status, title = PROBLEM_TYPES[slug]
        self.slug = slug
        self.status_code = status_code or default_status
        self.title = str(title)
        self.extra = extra
        super().__init__(detail=detail or str(title))


def problem_body(
    *, slug: str, detail: str, request: HttpRequest | None, status_code: int | None = None, **extra: Any
) -> dict[str, Any]:
    default_status, title = PROBLEM_TYPES[slug]
    body: dict[str, Any] = {
        "type": problem_type_uri(slug),
        "title": str(title),
        "status": status_code or default_status,
        "detail": detail or str(title),
    }
    if request is not None:
        body["instance"] = request.path
    body.update(extra)
    return body


def _field_errors(detail: Any) -> dict[str, list[str]]:
    """DRF's nested error detail flattened to ``{"field": ["message", ...]}`` (nested fields as ``a.b``)."""
    flat: dict[str, list[str]] = {}

    def walk(prefix: str, value: Any) -> None:
        if isinstance(value, dict):
            for key, inner in value.items():
                walk(f"{prefix}.{key}" if prefix else str(key), inner)
        elif isinstance(value, list) and value and all(not isinstance(item, dict | list) for item in value):
            flat.setdefault(prefix or "non_field_errors", []).extend(str(item) for item in value)
        elif isinstance(value, list):
            for index, inner in enumerate(value):
                walk(f"{prefix}.{index}" if prefix else str(index), inner)
        else:
            flat.setdefault(prefix or "non_field_errors", []).append(str(value))

    walk("", detail)
    return flat


# DRF exception class -> problem type, most specific first.
_DRF_TYPES: list[tuple[type[exceptions.APIException], str]] = [
    (exceptions.ValidationError, "validation-error"),
    (exceptions.ParseError, "malformed-request"),
    (exceptions.AuthenticationFailed, "token-invalid"),
    (exceptions.NotAuthenticated, "not-authenticated"),
    (exceptions.PermissionDenied, "forbidden"),
    (exceptions.NotFound, "not-found"),
    (exceptions.MethodNotAllowed, "method-not-allowed"),
    (exceptions.NotAcceptable, "not-acceptable"),
    (exceptions.UnsupportedMediaType, "unsupported-media-type"),
    (exceptions.Throttled, "rate-limited"),
]


def _problem_response(body: dict[str, Any], headers: dict[str, str] | None = None) -> Response:
    response = Response(body, status=body["status"], headers=headers, content_type=PROBLEM_CONTENT_TYPE)
    return response


def problem_exception_handler(exc: Exception, context: dict[str, Any]) -> Response:
    """DRF's ``EXCEPTION_HANDLER``: every exception a view raises becomes a problem details response."""
    from rest_framework.views import set_rollback  # here: rest_framework.views imports the settings naming us

    view_request = context.get("request")
    request = getattr(view_request, "_request", view_request)
    set_rollback()

    if isinstance(exc, Http404 | CareTeamRefused):
        # Outside the care team a record answers 404, as the pages do, so an id reveals nothing.
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) or None)
    elif isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(as_serializer_error(exc))

    if isinstance(exc, Problem):
        body = problem_body(
            slug=exc.slug, detail=str(exc.detail), request=request, status_code=exc.status_code, **exc.extra
        )
        return _problem_response(body, _auth_headers(exc, context))

    if isinstance(exc, exceptions.APIException):
        slug = next((slug for cls, slug in _DRF_TYPES if isinstance(exc, cls)), "server-error")
        extra: dict[str, Any] = {}
        if slug == "validation-error":
            extra["errors"] = _field_errors(exc.detail)
            detail = gettext("Please correct the fields listed in errors.")
        elif isinstance(exc.detail, dict | list):
            detail = "; ".join(" ".join(messages) for messages in _field_errors(exc.detail).values())
        else:
            detail = str(exc.detail)
        headers = _auth_headers(exc, context)
        if isinstance(exc, exceptions.Throttled) and exc.wait is not None:
            headers["Retry-After"] = str(int(exc.wait) + 1)
            extra["retry_after_seconds"] = int(exc.wait) + 1
        body = problem_body(slug=slug, detail=detail, request=request, status_code=exc.status_code, **extra)
        return _problem_response(body, headers)

    logger.exception("Unexpected error in an API view", exc_info=exc)
    body = problem_body(
        slug="server-error",
        detail=gettext("The clinic has been told about it; please try again later."),
        request=request,
    )
    return _problem_response(body)


def _auth_headers(exc: exceptions.APIException, context: dict[str, Any]) -> dict[str, str]:
    """A 401 says how to authenticate (DRF sets WWW-Authenticate from the first authentication class)."""
    headers: dict[str, str] = {}
    for header in ("WWW-Authenticate",):
        value = getattr(exc, "auth_header", None)
        if value:
            headers[header] = value
    if exc.status_code == status.HTTP_401_UNAUTHORIZED and "WWW-Authenticate" not in headers:
        headers["WWW-Authenticate"] = 'Bearer realm="api"'
    return headers


@csrf_exempt  # a POST to no route is a 404 too, not the CSRF failure page (nothing here reads a cookie)
def problem_not_found_view(request: HttpRequest, *args: Any, **kwargs: Any) -> JsonResponse:
    """Any address under /api/ that no route matches: a 404 problem, not the clinic's HTML page."""
    body = problem_body(slug="not-found", detail=gettext("There is nothing at this address."), request=request)
    return JsonResponse(body, status=404, content_type=PROBLEM_CONTENT_TYPE)
