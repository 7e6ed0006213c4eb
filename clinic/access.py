"""Who may open which page.  Views use these instead of checking roles inline."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.mixins import AccessMixin, LoginRequiredMixin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _

from clinic.models import Patient, Practitioner


class PatientRequiredMixin(LoginRequiredMixin):
    """Only a logged-in patient; ``self.patient`` is their own record."""

    patient: Patient

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        patient = getattr(request.user, "patient", None)
        if patient is None:
            raise PermissionDenied(_("This page is for patients."))
        self.patient = patient
        return super().dispatch(request, *args, **kwargs)


class PractitionerRequiredMixin(AccessMixin):
    """Only practitioners and clinic admins; ``self.practitioner`` may be None for an admin."""

    practitioner: Practitioner | None
    raise_exception = False

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        if not request.user.is_practitioner:
            raise PermissionDenied(_("This page is for clinic staff."))
        self.practitioner = getattr(request.user, "practitioner", None)
        return super().dispatch(request, *args, **kwargs)


class ClinicStaffRequiredMixin(AccessMixin):
    """Practitioners, the front desk and clinic admins; ``self.practitioner`` is None for the desk and admins."""

    practitioner: Practitioner | None
    raise_exception = False

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        if not request.user.is_clinic_staff:
            raise PermissionDenied(_("This page is for clinic staff."))
        self.practitioner = getattr(request.user, "practitioner", None)
        return super().dispatch(request, *args, **kwargs)


class FrontDeskRequiredMixin(AccessMixin):
    """The front desk and clinic admins (assigning practitioners, registering patients)."""

    raise_exception = False

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        if not (request.user.is_front_desk or request.user.is_clinic_admin):
            raise PermissionDenied(_("This page is for the front desk."))
        return super().dispatch(request, *args, **kwargs)
