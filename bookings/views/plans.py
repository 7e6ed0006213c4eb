"""Care-plan pages: practitioners assign and book plans; patients read their own."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.db.models import Prefetch, QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views import View
from django.views.generic import DetailView, FormView, ListView

from bookings.forms_plans import AlternativeTimeForm, CarePlanAssignForm, CarePlanImprovementForm, PlanSeriesForm
from bookings.models import CarePlan, ImprovementBasis, PlanSeries, SeriesOccurrence
from bookings.services.appointments import BookingRefused
from bookings.services.plans import (
    CarePlanRefused,
    care_plan_assign,
    care_plan_end,
    care_plan_improvement_record,
    plan_cancel_remaining,
    plan_occurrence_book_alternative,
    plan_occurrence_cancel,
    plan_remaining_appointments,
    plan_series_book,
)
from clinic.access import PatientRequiredMixin, PractitionerRequiredMixin
from clinic.audit import AuditedPatientDataMixin
from clinic.care_team import CareTeamRefused, patients_visible_to
from clinic.clinic_time import format_when
from clinic.models import Patient
from clinic.patient_picker import patient_picker_chosen, patient_picker_context
from clinic.redirects import next_url_on_site


def _plans_visible_to(request: HttpRequest) -> QuerySet[CarePlan]:
    """Plans of the patients this member of staff treats or plans for (admins: all); others are a 404."""
    return CarePlan.objects.filter(patient__in=patients_visible_to(request.user))


def _plan_series(plan: CarePlan) -> QuerySet[PlanSeries]:
    occurrences = SeriesOccurrence.objects.select_related("appointment__practitioner__user", "appointment__modality")
    return plan.series.select_related("phase", "created_by").prefetch_related(
        Prefetch("occurrences", queryset=occurrences)
    )


class CarePlanListView(AuditedPatientDataMixin, PractitionerRequiredMixin, ListView):
    """Active plans with where each patient stands."""

    audit_description = "Care plans list"

    def get_audit_target(self) -> None:
        return None

    template_name = "bookings/plans/careplan_list.html"
    context_object_name = "plans"

    def get_queryset(self) -> QuerySet[CarePlan]:
        self.today = timezone.localdate()
        return (
            _plans_visible_to(self.request).active().with_cadence(today=self.today).order_by("patient__user__last_name")
        )

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["rows"] = [(plan, plan.cadence(self.today)) for plan in context["plans"]]
        return context


class CarePlanCreateView(PractitionerRequiredMixin, FormView):
    """Put a patient of the user's care team on a plan: choose the template and the start date."""

    template_name = "bookings/plans/careplan_form.html"
    form_class = CarePlanAssignForm

    def _patients(self) -> QuerySet[Patient]:
        return patients_visible_to(self.request.user).filter(user__is_active=True)

    def get_form_kwargs(self) -> dict[str, Any]:
        return {**super().get_form_kwargs(), "patients": self._patients()}

    def get_initial(self) -> dict[str, Any]:
        initial = {"start_date": timezone.localdate(), "practitioner": self.practitioner}
        initial["patient"] = patient_picker_chosen(request=self.request, within=self._patients())
        return initial

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        chosen = patient_picker_chosen(request=self.request, within=self._patients())
        context["chosen_patient"] = chosen
        if chosen is None:  # first find the patient, among the user's care team only
            context.update(patient_picker_context(request=self.request, within=self._patients()))
        return context

    def form_valid(self, form: CarePlanAssignForm) -> HttpResponse:
        data = form.cleaned_data
        try:
            plan = care_plan_assign(
                patient=data["patient"],
                template=data["template"],
                start_date=data["start_date"],
                practitioner=data["practitioner"],
                notes=data["notes"],
                assigned_by=self.request.user,
            )
        except CarePlanRefused as refusal:
            form.add_error(None, str(refusal))
            return self.form_invalid(form)
        except CareTeamRefused as refusal:
            raise Http404("No such patient.") from refusal
        messages.success(
            self.request,
            _("%(patient)s is on “%(plan)s” from %(day)s.")
            % {"patient": plan.patient.full_name, "plan": plan.template, "day": format_when(plan.start_date, "date")},
        )
        return redirect("bookings:plan_detail", pk=plan.pk)


class CarePlanDetailView(AuditedPatientDataMixin, PractitionerRequiredMixin, DetailView):
    template_name = "bookings/plans/careplan_detail.html"
    context_object_name = "plan"
    audit_description = "Care plan"

    def get_queryset(self) -> QuerySet[CarePlan]:
        return _plans_visible_to(self.request).with_cadence(today=timezone.localdate())

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        plan = self.object
        context["cadence"] = plan.cadence(timezone.localdate())
        context["phases"] = plan.template.phases.all()
        context["series_list"] = _plan_series(plan)
        context["upcoming"] = plan.family_appointments().upcoming().select_related("modality", "practitioner__user")
        context["remaining_count"] = plan_remaining_appointments(plan=plan).count()
        context["improvement_form"] = CarePlanImprovementForm()
        return context


class CarePlanEndView(PractitionerRequiredMixin, View):
    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        plan = get_object_or_404(_plans_visible_to(request), pk=pk)
        care_plan_end(plan=plan, by=request.user)
        messages.success(request, _("The plan has ended; booked appointments stay booked."))
        return redirect("bookings:plan_detail", pk=plan.pk)


class CarePlanImprovementView(PractitionerRequiredMixin, View):
    """A clinician's decision to move the plan past a phase that ends when pain decreases."""

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        plan = get_object_or_404(_plans_visible_to(request), pk=pk)
        form = CarePlanImprovementForm(request.POST)
        if form.is_valid():
            try:
                care_plan_improvement_record(
                    plan=plan, basis=ImprovementBasis.CLINICIAN, evidence=form.cleaned_data["evidence"], by=request.user
                )
            except CarePlanRefused as refusal:
                messages.error(request, str(refusal))
            else:
                messages.success(request, _("The plan has moved on to its next phase."))
        else:
            messages.error(request, _("Say why the plan moves on."))
        return redirect("bookings:plan_detail", pk=plan.pk)


class MyCarePlanListView(PatientRequiredMixin, ListView):
    """The patient's own plans: where they stand and when the next session is due."""

    template_name = "bookings/plans/careplan_mine.html"
    context_object_name = "plans"

    def get_queryset(self) -> QuerySet[CarePlan]:
        self.today = timezone.localdate()
        return (
            CarePlan.objects.for_patient(self.patient).with_cadence(today=self.today).order_by("status", "-start_date")
        )

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["rows"] = [(plan, plan.cadence(self.today)) for plan in context["plans"]]
        return context


class MyCarePlanDetailView(PatientRequiredMixin, DetailView):
    template_name = "bookings/plans/careplan_mine_detail.html"
    context_object_name = "plan"

    def get_queryset(self) -> QuerySet[CarePlan]:
        # Another patient's plan is simply not found (404), never forbidden.
        return CarePlan.objects.for_patient(self.patient).with_cadence(today=timezone.localdate())

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        plan = self.object
        context["cadence"] = plan.cadence(timezone.localdate())
        context["phases"] = plan.template.phases.all()
        context["upcoming"] = plan.family_appointments().upcoming().select_related("modality", "practitioner__user")
        return context


class PlanSeriesCreateView(PractitionerRequiredMixin, FormView):
    """Book a phase as a series: weekday, time, first date, how many."""

    template_name = "bookings/plans/planseries_form.html"
    form_class = PlanSeriesForm

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.user.is_authenticated and request.user.is_practitioner:
            self.plan = get_object_or_404(
                _plans_visible_to(request).select_related("template", "patient__user"), pk=kwargs["pk"]
            )
        return super().dispatch(request, *args, **kwargs)

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not self.plan.is_active:
            messages.error(request, _("This plan has ended; start a new plan to book more sessions."))
            return redirect("bookings:plan_detail", pk=self.plan.pk)
        return super().get(request, *args, **kwargs)

    def get_form_kwargs(self) -> dict[str, Any]:
        return {**super().get_form_kwargs(), "plan": self.plan}

    def get_initial(self) -> dict[str, Any]:
        return PlanSeriesForm.initial_for(plan=self.plan)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return super().get_context_data(plan=self.plan, **kwargs)

    def form_valid(self, form: PlanSeriesForm) -> HttpResponse:
        data = form.cleaned_data
        try:
            series = plan_series_book(
                plan=self.plan,
                phase=data["phase"],
                first_date=data["first_date"],
                weekday=data["weekday"],
                local_time=data["local_time"],
                count=data["count"],
                interval_days=data["interval_days"],
                practitioner=data["practitioner"],
                booked_by=self.request.user,
            )
        except CarePlanRefused as refusal:
            form.add_error(None, str(refusal))
            return self.form_invalid(form)
        return redirect("bookings:plan_series_detail", pk=series.pk)


class PlanSeriesDetailView(AuditedPatientDataMixin, PractitionerRequiredMixin, DetailView):
    """The result of a series: booked dates, and unavailable ones with their nearest alternatives."""

    template_name = "bookings/plans/planseries_detail.html"
    context_object_name = "series"
    audit_description = "Care plan series"

    def get_audit_patient(self) -> Patient | None:
        series = getattr(self, "object", None)
        return series.plan.patient if isinstance(series, PlanSeries) else None

    def get_queryset(self) -> QuerySet[PlanSeries]:
        occurrences = SeriesOccurrence.objects.select_related(
            "appointment__practitioner__user", "appointment__modality"
        ).order_by("sequence")
        return (
            PlanSeries.objects.filter(plan__in=_plans_visible_to(self.request))
            .select_related("plan__patient__user", "plan__template", "phase__modality")
            .prefetch_related(Prefetch("occurrences", queryset=occurrences))
        )


class OccurrenceBookAlternativeView(PractitionerRequiredMixin, View):
    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        occurrence = get_object_or_404(
            SeriesOccurrence.objects.select_related("series"), pk=pk, series__plan__in=_plans_visible_to(request)
        )
        form = AlternativeTimeForm(request.POST)
        if not form.is_valid():
            messages.error(request, _("Choose one of the offered times."))
        else:
            try:
                appointment = plan_occurrence_book_alternative(
                    occurrence=occurrence, starts_at=form.cleaned_data["starts_at"], booked_by=request.user
                )
            except (BookingRefused, CarePlanRefused) as refusal:
                messages.error(request, str(refusal))
            else:
                when = appointment.starts_at
                messages.success(
                    request,
                    _("Booked %(day)s at %(time)s instead.")
                    % {"day": format_when(when, "day"), "time": format_when(when, "time")},
                )
        return redirect("bookings:plan_series_detail", pk=occurrence.series_id)


class OccurrenceCancelView(PractitionerRequiredMixin, View):
    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        occurrence = get_object_or_404(
            SeriesOccurrence.objects.select_related("series__plan", "appointment"),
            pk=pk,
            series__plan__in=_plans_visible_to(request),
        )
        try:
            appointment = plan_occurrence_cancel(
                occurrence=occurrence, by=request.user, reason=request.POST.get("reason", "")[:200]
            )
        except (BookingRefused, CarePlanRefused) as refusal:
            messages.error(request, str(refusal))
        else:
            when = appointment.starts_at
            messages.success(
                request,
                _("Cancelled the session on %(day)s at %(time)s.")
                % {"day": format_when(when, "day"), "time": format_when(when, "time")},
            )
        return redirect_back_to_plan(occurrence.series.plan, request)


class CarePlanCancelRemainingView(PractitionerRequiredMixin, View):
    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        plan = get_object_or_404(_plans_visible_to(request), pk=pk)
        try:
            cancelled = plan_cancel_remaining(plan=plan, by=request.user, reason=request.POST.get("reason", "")[:200])
        except BookingRefused as refusal:
            messages.error(request, _("Nothing was cancelled: %(reason)s") % {"reason": refusal})
        else:
            messages.success(
                request,
                ngettext(
                    "Cancelled %(count)d remaining session(s) of the plan.",
                    "Cancelled %(count)d remaining session(s) of the plan.",
                    len(cancelled),
                )
                % {"count": len(cancelled)},
            )
        return redirect("bookings:plan_detail", pk=plan.pk)


def redirect_back_to_plan(plan: CarePlan, request: HttpRequest) -> HttpResponseRedirect:
    """Back to the series page the button was on, else the plan; never to another site."""
    target = next_url_on_site(request)
    if target and target.startswith(reverse("bookings:plan_list")):
        return HttpResponseRedirect(target)
    return redirect("bookings:plan_detail", pk=plan.pk)
