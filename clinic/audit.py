"""The audit trail of access to patients' clinical data (invariant 5 in DESIGN.md).

Write rows with ``audit_record``; put ``AuditedPatientDataMixin`` first on every
staff view of screening answers, session logs, outcome reports and exports::

    class SessionLogDetailView(AuditedPatientDataMixin, PractitionerRequiredMixin, DetailView):
        audit_description = "Session log"

It records a ``view`` row when staff open the page and a ``denied`` row when anyone
logged in is refused (403 or 404), so a practitioner probing ids leaves a trace.
Creates, changes and exports are recorded by the service or view that does them:
``audit_record(request=request, patient=patient, action=AuditEvent.Action.CHANGE,
target=log, description="Session log corrected")``.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import models
from django.http import Http404, HttpRequest, HttpResponse

from clinic.client_address import client_ip_address
from clinic.models import AuditEvent, Patient
from clinic.two_factor import is_staff_user

DENIED_STATUS_CODES = (403, 404)


def audit_record(
    *,
    request: HttpRequest | None,
    patient: Patient | None,
    action: AuditEvent.Action | str,
    target: models.Model | None = None,
    description: str = "",
) -> AuditEvent:
    """Append one row to the audit trail; the actor and address come from ``request``.

    ``request`` may be None for work without a person behind it (a Celery task);
    then the actor and address stay empty and ``description`` should say what ran.
    """
    user = getattr(request, "user", None)
    event = AuditEvent(
        actor=user if user is not None and user.is_authenticated else None,
        patient=patient,
        action=action,
        target_type=target._meta.label_lower if target is not None else "",
        target_id=str(target.pk) if target is not None and target.pk is not None else "",
        description=description[:255],
    )
    if request is not None:
        event.ip_address = client_ip_address(request)
        event.method = request.method or ""
        event.path = request.get_full_path()[:500]
    event.save()
    return event


class AuditedPatientDataMixin:
    """Audit a class-based view of patient data: staff reads and anyone's refusals.

    Put it first in the bases, so it sees the refusals of the access mixins after
    it.  The patient and record come from ``get_audit_patient`` and
    ``get_audit_target``; the defaults read ``self.object`` (a detail view) and
    ``self.patient`` (set by the view, or ``PatientRequiredMixin``).
    """

    audit_description: str = ""
    request: HttpRequest

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            response = super().dispatch(request, *args, **kwargs)  # type: ignore[misc]
        except (PermissionDenied, Http404) as refusal:
            self._audit_denied(request, reason=str(refusal))
            raise
        if response.status_code in DENIED_STATUS_CODES:
            self._audit_denied(request, reason=f"HTTP {response.status_code}")
        elif request.method in ("GET", "HEAD") and response.status_code < 400 and self._is_staff(request):
            audit_record(
                request=request,
                patient=self.get_audit_patient(),
                action=AuditEvent.Action.VIEW,
                target=self.get_audit_target(),
                description=self.get_audit_description(),
            )
        return response

    def get_audit_target(self) -> models.Model | None:
        target = getattr(self, "object", None)
        return target if isinstance(target, models.Model) else None

    def get_audit_patient(self) -> Patient | None:
        patient = getattr(self, "patient", None)
        if isinstance(patient, Patient):
            return patient
        target = self.get_audit_target()
        if isinstance(target, Patient):
            return target
        patient = getattr(target, "patient", None)
        return patient if isinstance(patient, Patient) else None

    def get_audit_description(self) -> str:
        return self.audit_description or self.__class__.__name__

    @staticmethod
    def _is_staff(request: HttpRequest) -> bool:
        return request.user.is_authenticated and is_staff_user(request.user)

    def _audit_denied(self, request: HttpRequest, *, reason: str) -> None:
        if not request.user.is_authenticated:
            return  # anonymous visitors are sent to the login page; nobody to attribute
        try:
            patient = self.get_audit_patient()
        except Exception:
            patient = None
        description = f"{self.get_audit_description()}: refused ({reason or 'no reason given'})"
        audit_record(request=request, patient=patient, action=AuditEvent.Action.DENIED, description=description)


def audit_record_by(
    *,
    actor: Any,
    patient: Patient | None,
    action: AuditEvent.Action | str,
    target: models.Model | None = None,
    description: str = "",
) -> AuditEvent:
    """Append one row for an action a service performed for ``actor`` (no request at hand).

    Services that take ``actor=`` write their own row here, so every caller (page, admin,
    API, task) is audited the same way.
    """
    event = AuditEvent(
        actor=actor if actor is not None and getattr(actor, "is_authenticated", False) else None,
        patient=patient,
        action=action,
        target_type=target._meta.label_lower if target is not None else "",
        target_id=str(target.pk) if target is not None and target.pk is not None else "",
        description=description[:255],
    )
    event.save()
    return event
