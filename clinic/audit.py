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
from clinic.models import AuditEvent, Patient, User

DENIED_STATUS_CODES = (403, 404)


def audit_record(
    *,
    request: HttpRequest | None,
    patient: Patient | None,
    action: AuditEvent.Action | str,
    target: models.Model | None = None,
    description: str = "",
    actor: User | None = None,
) -> AuditEvent:
    """Append one row to the audit trail; the actor and address come from ``request``.

    A service that takes its acting user passes it as ``actor`` (it wins over the
    request's user), so a call without a login (a command, a task acting for a person,
    a calendar feed fetched with its owner's secret token) still names who did it.
    ``request`` may be None for work without a person behind it (a Celery task); then
    the actor and address stay empty and ``description`` should say what ran.
    """
    user = actor if actor is not None else getattr(request, "user", None)
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
        elif (
            request.method in ("GET", "HEAD")
            and response.status_code < 400
            and request.user.is_authenticated
            and request.user.is_clinic_staff
        ):
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

    def _audit_denied(self, request: HttpRequest, *, reason: str) -> None:
        if not request.user.is_authenticated:
            return  # anonymous visitors are sent to the login page; nobody to attribute
        try:
            patient = self.get_audit_patient()
        except Exception:
            patient = None
        description = f"{self.get_audit_description()}: refused ({reason or 'no reason given'})"
        audit_record(request=request, patient=patient, action=AuditEvent.Action.DENIED, description=description)


class AuditedClinicalAdminMixin:
    """Audit the Django admin's pages of a clinical model, as the clinic's own pages are.

    Put it first in a ``ModelAdmin``'s bases.  A list view is one ``view`` row (which
    rows were listed, in the description); a change, history or delete page is one
    row against the record's patient (``view`` on reading, ``change``/``delete`` on a
    successful POST).  ``audit_patient_path`` says how to reach the patient from a
    record, e.g. ``"submission__patient"``.
    """

    audit_patient_path: str = "patient"

    def audit_patient(self, obj: models.Model | None) -> Patient | None:
        if isinstance(obj, Patient):
            return obj
        value: Any = obj
        for step in self.audit_patient_path.split("__"):
            value = getattr(value, step, None)
        return value if isinstance(value, Patient) else None

    def _audit_label(self) -> str:
        return str(self.model._meta.verbose_name_plural)  # type: ignore[attr-defined]

    def _audit_object(self, object_id: str) -> models.Model | None:
        return self.model._default_manager.filter(pk=object_id).first()  # type: ignore[attr-defined]

    def _audit_object_view(
        self, request: HttpRequest, obj: models.Model | None, response: HttpResponse, *, page: str, post_action: str
    ) -> None:
        if response.status_code >= 400 or obj is None:
            return
        if request.method == "POST":
            if response.status_code != 302:
                return  # the form came back with errors: nothing changed
            action = post_action
        else:
            action = AuditEvent.Action.VIEW
        audit_record(
            request=request,
            patient=self.audit_patient(obj),
            action=action,
            target=obj,
            description=f"Admin {page}: {self._audit_label()}",
        )

    def changelist_view(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
        response = super().changelist_view(request, extra_context)  # type: ignore[misc]
        changelist = getattr(response, "context_data", {}).get("cl")
        if response.status_code == 200 and changelist is not None:
            ids = ", ".join(str(pk) for pk in changelist.result_list.values_list("pk", flat=True))
            audit_record(
                request=request,
                patient=None,
                action=AuditEvent.Action.VIEW,
                description=f"Admin list: {self._audit_label()} (ids {ids or 'none'})",
            )
        return response

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        obj = self._audit_object(object_id)
        response = super().change_view(request, object_id, form_url, extra_context)  # type: ignore[misc]
        self._audit_object_view(request, obj, response, page="record", post_action=AuditEvent.Action.CHANGE)
        return response

    def history_view(
        self, request: HttpRequest, object_id: str, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        obj = self._audit_object(object_id)
        response = super().history_view(request, object_id, extra_context)  # type: ignore[misc]
        self._audit_object_view(request, obj, response, page="history", post_action=AuditEvent.Action.VIEW)
        return response

    def history_form_view(self, request: HttpRequest, object_id: str, version_id: str, *args: Any, **kwargs: Any):
        """One past version (django-simple-history's history pages), when the admin has them."""
        obj = self._audit_object(object_id)
        response = super().history_form_view(request, object_id, version_id, *args, **kwargs)  # type: ignore[misc]
        self._audit_object_view(request, obj, response, page="past version", post_action=AuditEvent.Action.CHANGE)
        return response

    def delete_view(
        self, request: HttpRequest, object_id: str, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        obj = self._audit_object(object_id)
        response = super().delete_view(request, object_id, extra_context)  # type: ignore[misc]
        self._audit_object_view(request, obj, response, page="delete", post_action=AuditEvent.Action.DELETE)
        return response
