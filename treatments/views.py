"""Session log pages, the patient chart, "My progress" and the staff reports.

Views stay thin: forms validate, services write, selectors read.  Staff reads and
changes of clinical data are written to the audit trail (clinic.audit).
"""

from __future__ import annotations

import csv
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import DetailView, TemplateView

from bookings.models import Appointment
from clinic.access import PatientRequiredMixin, PractitionerRequiredMixin
from clinic.audit import AuditedPatientDataMixin, audit_record
from clinic.care_team import patients_visible_to
from clinic.csv_cells import csv_cell
from clinic.models import AuditEvent, Modality, Patient
from screening.selectors import screening_statuses
from screening.services import clearances_in_force, screening_gate
from treatments.followup_views import relief_cadence_form
from treatments.forms import AdverseEventFormSet, AdverseEventFormSetHelper, ReportFilterForm, SessionLogForm
from treatments.models import OutcomeSettings, SessionLog
from treatments.selectors import (
    patient_outcomes,
    patient_questionnaire_trends,
    patient_session_history,
    session_report,
)
from treatments.services import (
    SessionLogRefused,
    session_log_create,
    session_log_prepare,
    session_log_sign,
    session_log_update,
)


def _form_errors_from(form: SessionLogForm, error: ValidationError) -> None:
    """A rule the service caught after the form passed (e.g. a race) is shown on the form."""
    if hasattr(error, "error_dict"):
        for field, errors in error.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error)


class SessionLogCreateView(AuditedPatientDataMixin, PractitionerRequiredMixin, View):
    """Log the session of one appointment: patient, practitioner, modality and length pre-filled."""

    template_name = "treatments/sessionlog_form.html"
    audit_description = "Session log form"

    def _appointment(self) -> Appointment:
        appointment = get_object_or_404(
            Appointment.objects.select_related("patient__user", "practitioner__user", "modality", "resource"),
            pk=self.kwargs["pk"],
            patient__in=patients_visible_to(self.request.user),
        )
        self.patient = appointment.patient
        return appointment

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        appointment = self._appointment()
        existing = SessionLog.objects.filter(appointment=appointment).first()
        if existing:
            messages.info(request, _("This session is already logged."))
            return redirect("treatments:log_detail", pk=existing.pk)
        log = session_log_prepare(appointment=appointment)
        return self._render(appointment, SessionLogForm(instance=log), AdverseEventFormSet(prefix="events"))

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        appointment = self._appointment()
        log = session_log_prepare(appointment=appointment)
        form = SessionLogForm(request.POST, instance=log)
        events = AdverseEventFormSet(request.POST, prefix="events")
        if events.adding_row:
            return self._render(appointment, form.shown_unchecked(), events.shown_unchecked())
        if form.is_valid() and events.is_valid():
            try:
                log = session_log_create(
                    appointment=appointment,
                    by=request.user,
                    values=form.clinical_values(),
                    adverse_events=events.events(),
                    sign="sign" in request.POST,
                )
            except SessionLogRefused as refusal:
                form.add_error(None, str(refusal))
            except ValidationError as error:
                _form_errors_from(form, error)
            else:
                audit_record(
                    request=request,
                    patient=log.patient,
                    action=AuditEvent.Action.CREATE,
                    target=log,
                    description="Session logged" + (" and signed" if log.is_signed else ""),
                )
                messages.success(
                    request, _("Session logged and signed.") if log.is_signed else _("Session logged as a draft.")
                )
                return redirect("treatments:log_detail", pk=log.pk)
        return self._render(appointment, form, events, status=400)

    def _render(self, appointment: Appointment, form: SessionLogForm, events: Any, status: int = 200) -> HttpResponse:
        context = {
            "appointment": appointment,
            "form": form,
            "events": events,
            "events_helper": AdverseEventFormSetHelper(),
            "amending": False,
            "screening": screening_gate(
                patient=appointment.patient,
                modality=appointment.modality,
                on_date=timezone.localdate(appointment.starts_at),
            ),
        }
        return render(self.request, self.template_name, context, status=status)


def _logs_visible_to(request: HttpRequest) -> QuerySet[SessionLog]:
    logs = SessionLog.objects.select_related(
        "patient__user", "practitioner__user", "modality", "resource", "recorded_by", "signed_by", "appointment"
    )
    if request.user.is_practitioner:
        # Staff: only patients of their care team (admins: all), see clinic.care_team.
        return logs.filter(patient__in=patients_visible_to(request.user))
    patient = getattr(request.user, "patient", None)
    if patient is None:
        return logs.none()
    return logs.filter(patient=patient)


class SessionLogDetailView(AuditedPatientDataMixin, DetailView):
    """One log; staff of patients they treat (admins any), a patient only their own (404 otherwise)."""

    template_name = "treatments/sessionlog_detail.html"
    context_object_name = "log"
    audit_description = "Session log"

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        return super().dispatch(request, *args, **kwargs)

    def get_queryset(self) -> QuerySet[SessionLog]:
        return _logs_visible_to(self.request).prefetch_related("adverse_events", "amendments__changed_by")


class SessionLogAmendView(AuditedPatientDataMixin, PractitionerRequiredMixin, View):
    """Correct a draft, or amend a signed log keeping the earlier version and the reason."""

    template_name = "treatments/sessionlog_form.html"
    audit_description = "Session log amendment form"

    def _log(self) -> SessionLog:
        log = get_object_or_404(
            SessionLog.objects.select_related("patient__user", "practitioner__user", "modality", "resource"),
            pk=self.kwargs["pk"],
            patient__in=patients_visible_to(self.request.user),
        )
        self.patient = log.patient
        self.object = log
        if log.recorded_by_id != self.request.user.pk and not self.request.user.is_clinic_admin:
            raise PermissionDenied(_("Only the practitioner who recorded this session may amend the log."))
        return log

    @staticmethod
    def _initial_events(log: SessionLog) -> list[dict[str, str]]:
        return [event.as_record() for event in log.adverse_events.order_by("pk")]

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        log = self._log()
        form = SessionLogForm(instance=log, amending=True)
        events = AdverseEventFormSet(prefix="events", initial=self._initial_events(log))
        return self._render(log, form, events)

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        log = self._log()
        form = SessionLogForm(request.POST, instance=log, amending=True)
        events = AdverseEventFormSet(request.POST, prefix="events", initial=self._initial_events(log))
        if events.adding_row:
            return self._render(log, form.shown_unchecked(), events.shown_unchecked())
        if form.is_valid() and events.is_valid():
            try:
                updated = session_log_update(
                    log=log,
                    by=request.user,
                    values=form.clinical_values(),
                    adverse_events=events.events(),
                    reason=form.cleaned_data.get("reason", ""),
                )
                if "sign" in request.POST:
                    updated = session_log_sign(log=updated, by=request.user)
            except SessionLogRefused as refusal:
                form.add_error(None, str(refusal))
            except ValidationError as error:
                _form_errors_from(form, error)
            else:
                audit_record(
                    request=request,
                    patient=updated.patient,
                    action=AuditEvent.Action.CHANGE,
                    target=updated,
                    description="Session log amended" if log.is_signed else "Session log draft corrected",
                )
                messages.success(request, _("Changes saved."))
                return redirect("treatments:log_detail", pk=updated.pk)
        return self._render(log, form, events, status=400)

    def _render(self, log: SessionLog, form: SessionLogForm, events: Any, status: int = 200) -> HttpResponse:
        context = {
            "appointment": log.appointment,
            "log": log,
            "form": form,
            "events": events,
            "events_helper": AdverseEventFormSetHelper(),
            "amending": True,
        }
        return render(self.request, self.template_name, context, status=status)


class SessionLogSignView(AuditedPatientDataMixin, PractitionerRequiredMixin, View):
    """Sign a draft (POST only); after this, changes are amendments."""

    audit_description = "Session log signature"

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        log = get_object_or_404(SessionLog, pk=kwargs["pk"], patient__in=patients_visible_to(request.user))
        self.patient = log.patient
        if not log.is_signed:
            try:
                log = session_log_sign(log=log, by=request.user)
            except SessionLogRefused as refusal:
                raise PermissionDenied(str(refusal)) from refusal
            audit_record(
                request=request, patient=log.patient, action=AuditEvent.Action.CHANGE, target=log,
                description="Session log signed",
            )  # fmt: skip
            messages.success(request, _("Signed. Later changes will be kept as amendments."))
        return redirect("treatments:log_detail", pk=log.pk)


class PatientChartView(AuditedPatientDataMixin, PractitionerRequiredMixin, TemplateView):
    """Everything a practitioner needs before a session, on one page (their own patients; admins any)."""

    template_name = "treatments/patient_chart.html"
    audit_description = "Patient chart"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        patient = get_object_or_404(patients_visible_to(self.request.user).select_related("user"), pk=self.kwargs["pk"])
        self.patient = patient
        today = timezone.localdate()
        modalities = list(Modality.objects.active())
        decisions = screening_statuses(patients=[patient], modalities=modalities, on_date=today).get(patient.pk, {})
        history = list(patient_session_history(actor=self.request.user, patient=patient))
        care_plans = _care_plans(patient)
        clearances = clearances_in_force(patient=patient)
        context.update(
            patient=patient,
            screening=[(modality, decisions.get(modality.pk), clearances.get(modality.pk)) for modality in modalities],
            care_plans=[(plan, relief_cadence_form(plan)) for plan in care_plans],
            outcomes=patient_outcomes(actor=self.request.user, patient=patient),
            questionnaires=patient_questionnaire_trends(actor=self.request.user, patient=patient),
            history=history,
            adverse_events=[(log, event) for log in history for event in log.adverse_events.all()],
            upcoming=Appointment.objects.filter(patient=patient)
            .upcoming()
            .select_related("modality", "practitioner__user")[:5],
            unlogged=Appointment.objects.filter(
                patient=patient,
                status__in=[Appointment.Status.BOOKED, Appointment.Status.ATTENDED],
                starts_at__lt=timezone.now() + timedelta(hours=12),
                session_log__isnull=True,
            )
            .select_related("modality")
            .order_by("-starts_at")[:5],
        )
        return context


def _care_plans(patient: Patient) -> list[Any]:
    """The patient's active care plans with their cadence (bookings' plans)."""
    from bookings.models import CarePlan

    return list(CarePlan.objects.for_patient(patient).active().with_cadence().select_related("template"))


class MyProgressView(PatientRequiredMixin, TemplateView):
    """The patient's own pain over time and session history."""

    template_name = "treatments/progress.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["outcomes"] = patient_outcomes(actor=self.request.user, patient=self.patient)
        context["questionnaires"] = patient_questionnaire_trends(actor=self.request.user, patient=self.patient)
        context["history"] = patient_session_history(actor=self.request.user, patient=self.patient)
        return context


class SessionReportView(AuditedPatientDataMixin, PractitionerRequiredMixin, TemplateView):
    """Sessions, immediate change, responder and adverse-event rates per modality or practitioner."""

    template_name = "treatments/report.html"
    audit_description = "Session report"

    def _filter_form(self) -> ReportFilterForm:
        if "date_from" in self.request.GET:
            return ReportFilterForm(self.request.GET)
        today = timezone.localdate()
        return ReportFilterForm({"date_from": today - timedelta(days=90), "date_to": today, "group_by": "modality"})

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        form = self._filter_form()
        context["form"] = form
        if form.is_valid():
            context["rows"] = session_report(**form.cleaned_data)
            context["baseline_floor"] = OutcomeSettings.load().baseline_floor
            context["csv_query"] = urlencode({name: str(value) for name, value in form.cleaned_data.items()})
        return context

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        context = self.get_context_data(**kwargs)
        return self.render_to_response(context, status=200 if context["form"].is_valid() else 400)


CSV_HEADER = [
    "group",
    "sessions",
    "mean_immediate_change_points",
    "patients_assessed",
    "responders",
    "responder_rate_percent",
    "sessions_with_adverse_events",
    "adverse_event_rate_percent",
    "courses_below_baseline_floor",
    "questionnaire_courses_assessed",
    "questionnaire_courses_improved",
    "questionnaire_improved_rate_percent",
]


class SessionReportCsvView(AuditedPatientDataMixin, PractitionerRequiredMixin, View):
    audit_description = "Session report CSV"

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        form = ReportFilterForm(request.GET)
        if not form.is_valid():
            return HttpResponse(
                _("Choose a valid date range: %(problems)s")
                % {"problems": "; ".join(form.errors.get("__all__", [_("a start and an end date")]))},
                status=400,
                content_type="text/plain; charset=utf-8",
            )
        data = form.cleaned_data
        rows = session_report(**data)
        filename = f"sessions-by-{data['group_by']}-{data['date_from']}-to-{data['date_to']}.csv"
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        writer = csv.writer(response)
        writer.writerow(CSV_HEADER)
        for row in rows:
            writer.writerow(
                [
                    csv_cell(row.label),
                    row.sessions,
                    _blank_if_none(row.mean_immediate_change),
                    row.patients_assessed,
                    row.responders,
                    _blank_if_none(row.responder_rate),
                    row.sessions_with_adverse_events,
                    _blank_if_none(row.adverse_event_rate),
                    row.low_baseline,
                    row.questionnaires_assessed,
                    row.questionnaires_improved,
                    _blank_if_none(row.questionnaire_improved_rate),
                ]
            )
        audit_record(
            request=request, patient=None, action=AuditEvent.Action.EXPORT, description=f"Session report {filename}"
        )
        return response


def _blank_if_none(value: Any) -> Any:
    return "" if value is None else value
