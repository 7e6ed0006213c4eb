"""The project's URLs plus tiny staff views that exercise the audit mixin."""

from django.http import HttpResponseForbidden
from django.urls import path
from django.views.generic import DetailView, TemplateView

from clinic.access import PractitionerRequiredMixin
from clinic.audit import AuditedPatientDataMixin
from clinic.models import Patient
from clinic.urls import urlpatterns as project_urlpatterns


class PatientChartView(AuditedPatientDataMixin, PractitionerRequiredMixin, DetailView):
    """Stands in for a staff page of a patient's clinical data."""

    model = Patient
    template_name = "clinic/profile.html"
    audit_description = "Patient chart"


class SealedRecordView(AuditedPatientDataMixin, PractitionerRequiredMixin, TemplateView):
    """A page that answers 403 itself instead of raising."""

    def get(self, request, *args, **kwargs):
        return HttpResponseForbidden("sealed")


urlpatterns = [
    *project_urlpatterns,
    path("test-audit/patients/<int:pk>/", PatientChartView.as_view(), name="test_patient_chart"),
    path("test-audit/sealed/", SealedRecordView.as_view(), name="test_sealed_record"),
]
