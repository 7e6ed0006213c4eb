"""Every API call that reads or changes clinical data leaves one audit row (clinic.audit).

Put ``AuditedAPIMixin`` first in an API view's bases and give it ``audit_description``.
After the view has answered, one row is written: ``view`` for a read, ``create`` /
``change`` / ``delete`` for a successful write, ``denied`` for a 403 or 404 to a
logged-in caller.  The row names the actor (the token's owner or the session's user)
and, in its description, the token's public prefix, so a leaked token's use can be
traced.  A view names the patient and record through ``self.audit_patient`` and
``self.audit_target`` (set while handling the request), or overrides
``get_audit_patient``/``get_audit_target``.

A service that audits its own act for staff (e.g. ``appointment_book`` by staff) also
writes its row: that one says what was done, this one that it came through the API.
"""

from __future__ import annotations

from typing import Any

from django.db import models
from rest_framework.request import Request
from rest_framework.response import Response

from api.models import PersonalAccessToken
from clinic.audit import DENIED_STATUS_CODES, audit_record
from clinic.models import AuditEvent, Patient

_WRITE_ACTIONS = {
    "POST": AuditEvent.Action.CREATE,
    "PUT": AuditEvent.Action.CHANGE,
    "PATCH": AuditEvent.Action.CHANGE,
    "DELETE": AuditEvent.Action.DELETE,
}


def api_caller_label(request: Request) -> str:
    """'token abcd1234' or 'session': how the call was authenticated, for the audit description."""
    token = getattr(request, "auth", None)
    return f"token {token.prefix}" if isinstance(token, PersonalAccessToken) else "session"


class AuditedAPIMixin:
    audit_description: str = ""
    # A POST that changes an existing record (cancel, reschedule) rather than creating one.
    audit_action: str | None = None
    audit_patient: Patient | None = None
    audit_target: models.Model | None = None

    def finalize_response(self, request: Request, response: Response, *args: Any, **kwargs: Any) -> Response:
        response = super().finalize_response(request, response, *args, **kwargs)  # type: ignore[misc]
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return response
        description = f"API {self.get_audit_description()} ({api_caller_label(request)})"
        if response.status_code in DENIED_STATUS_CODES:
            audit_record(
                request=request._request,
                actor=user,
                patient=self.get_audit_patient(),
                action=AuditEvent.Action.DENIED,
                description=f"{description}: refused (HTTP {response.status_code})",
            )
        elif response.status_code < 400:
            action = (
                AuditEvent.Action.VIEW
                if request.method in ("GET", "HEAD", "OPTIONS")
                else (self.audit_action or _WRITE_ACTIONS.get(request.method or "", AuditEvent.Action.CHANGE))
            )
            audit_record(
                request=request._request,
                actor=user,
                patient=self.get_audit_patient(),
                action=action,
                target=self.get_audit_target(),
                description=description,
            )
        return response

    def get_audit_description(self) -> str:
        return self.audit_description or self.__class__.__name__

    def get_audit_patient(self) -> Patient | None:
        if self.audit_patient is not None:
            return self.audit_patient
        patient = getattr(self.get_audit_target(), "patient", None)
        return patient if isinstance(patient, Patient) else None

    def get_audit_target(self) -> models.Model | None:
        return self.audit_target
