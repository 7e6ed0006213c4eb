"""Error tracking with Sentry, on only when ``SENTRY_DSN`` is set, and never carrying health data.

A crash report must locate the bug (exception type, stack, URL path, ids), not copy
the record it crashed on.  So besides Sentry's own default of sending no personal data: no
request bodies, cookies, headers or query strings; no local variables in frames; the
user reduced to an id; log-message parameters and breadcrumb messages dropped; and
emails, phone numbers and database key values masked in exception messages.  Names
cannot be recognised in free text, which is why bodies and variables never leave.
"""

from __future__ import annotations

import re
from typing import Any

import sentry_sdk
from sentry_sdk.integrations.celery import CeleryIntegration
from sentry_sdk.integrations.django import DjangoIntegration

MASK = "[removed]"
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# A phone number, a date of birth or another run of digits long enough to identify someone.
_DIGIT_RUN = re.compile(r"\+?\d[\d\s().-]{6,}\d")
# PostgreSQL's "DETAIL: Key (email)=(someone@example.org) already exists."
_KEY_VALUE = re.compile(r"(Key \([^)]*\)=\()[^)]*(\))")
_REQUEST_KEPT = ("method", "url")


def redact(text: str) -> str:
    text = _KEY_VALUE.sub(rf"\g<1>{MASK}\g<2>", text)
    text = _EMAIL.sub(MASK, text)
    return _DIGIT_RUN.sub(MASK, text)


def scrub_event(event: dict[str, Any], hint: dict[str, Any]) -> dict[str, Any]:
    """Sentry's ``before_send``: keep what locates the bug, drop what could name a patient."""
    request = event.get("request")
    if request:
        kept = {key: request[key] for key in _REQUEST_KEPT if key in request}
        if "url" in kept:
            kept["url"] = kept["url"].split("?", 1)[0]
        event["request"] = kept
    user = event.get("user")
    if user is not None:
        event["user"] = {"id": user["id"]} if "id" in user else {}
    logentry = event.get("logentry")
    if logentry:
        event["logentry"] = {"message": redact(str(logentry.get("message", "")))}
    if isinstance(event.get("message"), str):
        event["message"] = redact(event["message"])
    for exception in (event.get("exception") or {}).get("values", []):
        if isinstance(exception.get("value"), str):
            exception["value"] = redact(exception["value"])
        for frame in (exception.get("stacktrace") or {}).get("frames", []):
            frame.pop("vars", None)
    breadcrumbs = event.get("breadcrumbs")
    if breadcrumbs and breadcrumbs.get("values"):
        breadcrumbs["values"] = [scrub_breadcrumb(crumb, {}) for crumb in breadcrumbs["values"]]
    return event


def scrub_breadcrumb(crumb: dict[str, Any], hint: dict[str, Any]) -> dict[str, Any]:
    """Sentry's ``before_breadcrumb``: SQL stays (parametrised, no values); other messages and data go.

    Log lines can hold an email (django-axes logs the username of a failed login) and an
    outgoing request's URL a phone number.
    """
    crumb = dict(crumb)
    crumb.pop("data", None)
    if crumb.get("category") != "query":
        crumb.pop("message", None)
    return crumb


def sentry_init(
    *,
    dsn: str,
    environment: str | None = None,
    release: str | None = None,
    traces_sample_rate: float = 0.0,
    transport: Any = None,
) -> Any:
    """Start Sentry for the web process and Celery workers (both load the settings)."""
    return sentry_sdk.init(
        dsn=dsn,
        environment=environment,
        release=release,
        integrations=[DjangoIntegration(), CeleryIntegration()],
        # Personal data stays off by Sentry's own default (``send_default_pii`` unset, which
        # also keeps its default scrubber of passwords, tokens and cookies).
        max_request_body_size="never",
        include_local_variables=False,
        before_send=scrub_event,
        before_breadcrumb=scrub_breadcrumb,
        traces_sample_rate=traces_sample_rate,
        transport=transport,
    )
