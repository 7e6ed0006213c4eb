"""The patient's privacy pages: download all their data, delete their account."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import FormView, TemplateView

from clinic.access import PatientRequiredMixin
from privacy.forms import AccountDeleteForm
from privacy.services import (
    ErasureRefused,
    erasure_blocking_appointments,
    patient_data_export,
    patient_erase,
)


class PrivacyView(PatientRequiredMixin, TemplateView):
    """What the clinic keeps, with the download and delete buttons."""

    template_name = "privacy/overview.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return super().get_context_data(retention_years=settings.CLINIC_RECORD_RETENTION_YEARS, **kwargs)


class DataExportView(PatientRequiredMixin, View):
    """GET: the zip archive of all the patient's data (JSON and CSV)."""

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        archive = patient_data_export(actor=request.user, patient=self.patient, request=request)
        response = HttpResponse(archive, content_type="application/zip")
        filename = f"my-clinic-data-{timezone.localdate().isoformat()}.zip"
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        response["Cache-Control"] = "no-store"
        return response


class AccountDeleteView(PatientRequiredMixin, FormView):
    """Confirm with the password; then the account is anonymised and the person logged out."""

    template_name = "privacy/account_delete.html"
    form_class = AccountDeleteForm

    def get_form_kwargs(self) -> dict[str, Any]:
        return {**super().get_form_kwargs(), "user": self.request.user}

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return super().get_context_data(
            retention_years=settings.CLINIC_RECORD_RETENTION_YEARS,
            blocking=erasure_blocking_appointments(patient=self.patient),
            **kwargs,
        )

    def form_invalid(self, form: AccountDeleteForm) -> HttpResponse:
        return self.render_to_response(self.get_context_data(form=form), status=400)

    def form_valid(self, form: AccountDeleteForm) -> HttpResponse:
        try:
            patient_erase(actor=self.request.user, patient=self.patient, request=self.request)
        except ErasureRefused as refusal:
            form.add_error(None, str(refusal))
            return self.render_to_response(self.get_context_data(form=form), status=409)
        logout(self.request)
        messages.success(self.request, _("Your account is deleted. Thank you for having been with us."))
        return redirect("home")
