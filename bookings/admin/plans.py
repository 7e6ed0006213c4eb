"""Admin for plan templates and care plans."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.forms.models import BaseInlineFormSet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext
from simple_history.admin import SimpleHistoryAdmin

from bookings.models import CarePlan, PlanPhase, PlanSeries, PlanTemplate, SeriesOccurrence
from bookings.services.plans import CarePlanRefused, care_plan_assign, care_plan_assignable_check, care_plan_end
from clinic.audit import AuditedClinicalAdminMixin


class PlanPhaseFormSet(BaseInlineFormSet):
    """Phases run in order; an open-ended phase never ends, so only the last may be one."""

    def clean(self) -> None:
        super().clean()
        phases = [
            form.cleaned_data
            for form in self.forms
            if form.cleaned_data and not form.cleaned_data.get("DELETE") and form.cleaned_data.get("position")
        ]
        phases.sort(key=lambda data: data["position"])
        if not phases:
            raise ValidationError(_("A plan needs at least one phase."))
        if any(data.get("sessions") is None for data in phases[:-1]):
            raise ValidationError(_("Only the last phase may be open-ended (no number of sessions)."))
        positions = [data["position"] for data in phases]
        if len(set(positions)) != len(positions):
            raise ValidationError(_("Each phase needs its own position."))


class PlanPhaseInline(admin.TabularInline):
    model = PlanPhase
    formset = PlanPhaseFormSet
    extra = 0
    min_num = 1
    fields = ["position", "label", "modality", "sessions", "interval_min_days", "interval_max_days"]
    ordering = ["position"]


@admin.register(PlanTemplate)
class PlanTemplateAdmin(admin.ModelAdmin):
    admin_section = "Catalogue"
    list_display = ["name", "family", "phase_summary", "is_active"]
    list_filter = ["family", "is_active"]
    search_fields = ["name"]
    inlines = [PlanPhaseInline]

    def get_queryset(self, request: HttpRequest) -> QuerySet[PlanTemplate]:
        return super().get_queryset(request).prefetch_related("phases__modality")

    @admin.display(description=_("phases"))
    def phase_summary(self, obj: PlanTemplate) -> str:
        return "; then ".join(f"{phase.label}: {phase.describe()}" for phase in obj.phases.all())


class SeriesOccurrenceInline(admin.TabularInline):
    model = SeriesOccurrence
    extra = 0
    can_delete = False
    fields = ["sequence", "requested_starts_at", "appointment", "refusal_reason", "alternatives"]
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class CarePlanAdminForm(forms.ModelForm):
    class Meta:
        model = CarePlan
        fields = "__all__"  # noqa: DJ007 - the admin's fieldsets choose

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        patient, template = cleaned.get("patient"), cleaned.get("template")
        if self.instance._state.adding and patient is not None and template is not None:
            try:
                care_plan_assignable_check(patient=patient, template=template)
            except CarePlanRefused as refused:
                raise ValidationError(str(refused), code="plan_refused") from refused
        return cleaned


@admin.register(CarePlan)
class CarePlanAdmin(AuditedClinicalAdminMixin, SimpleHistoryAdmin):
    """New plans go through ``care_plan_assign``; who the plan is for and what it is stay fixed afterwards,
    and a plan ends through ``care_plan_end`` (the action), so the one-active-plan rule cannot be skipped."""

    admin_section = "Clinical records"

    form = CarePlanAdminForm
    actions = ["end_plans"]
    list_display = ["patient", "template", "status", "start_date", "current_phase", "next_due", "practitioner"]
    list_filter = ["status", "template"]
    search_fields = ["patient__user__first_name", "patient__user__last_name", "patient__user__email"]
    date_hierarchy = "start_date"
    autocomplete_fields = ["patient", "practitioner"]
    # The relief-led cadence is set on the patient's chart (audited) and learned from check-ins.
    readonly_fields = [
        "assigned_by",
        "ended_at",
        "ended_by",
        "created_at",
        "updated_at",
        "relief_min_days",
        "relief_max_days",
        "cadence_locked",
        "learned_interval_days",
        "learned_interval_evidence",
        "learned_interval_at",
    ]

    def get_queryset(self, request: HttpRequest) -> QuerySet[CarePlan]:
        return super().get_queryset(request).with_cadence(today=timezone.localdate())

    def get_readonly_fields(self, request: HttpRequest, obj: CarePlan | None = None) -> list[str]:
        fixed = ["patient", "template", "status"] if obj is not None else ["status"]
        return [*self.readonly_fields, *fixed]

    def save_model(self, request: HttpRequest, obj: CarePlan, form: Any, change: bool) -> None:
        if change:
            super().save_model(request, obj, form, change)
            return
        try:
            plan = care_plan_assign(
                patient=obj.patient,
                template=obj.template,
                start_date=obj.start_date,
                practitioner=obj.practitioner,
                notes=obj.notes,
                assigned_by=request.user,
            )
        except CarePlanRefused as refused:  # someone else assigned one since the form was checked
            raise ValidationError(str(refused)) from refused
        obj.__dict__.update(plan.__dict__)

    @admin.action(description=_("End the selected plans"))
    def end_plans(self, request: HttpRequest, queryset: QuerySet[CarePlan]) -> None:
        for plan in queryset.active():
            care_plan_end(plan=plan, by=request.user)

    @admin.display(description=_("current phase"))
    def current_phase(self, obj: CarePlan) -> str:
        cadence = obj.cadence(timezone.localdate())
        return cadence.phase.label if cadence.phase else pgettext("care plan phase", "done")

    @admin.display(description=_("next due"))
    def next_due(self, obj: CarePlan) -> Any:
        if not obj.is_active:
            return "—"
        return obj.next_due_date(timezone.localdate()) or "—"


@admin.register(PlanSeries)
class PlanSeriesAdmin(AuditedClinicalAdminMixin, admin.ModelAdmin):
    admin_section = "Schedules"
    audit_patient_path = "plan__patient"
    list_display = ["plan", "phase", "first_date", "local_time", "interval_days", "created_by", "created_at"]
    readonly_fields = [
        "plan",
        "phase",
        "first_date",
        "local_time",
        "interval_days",
        "practitioner",
        "created_by",
        "created_at",
    ]
    inlines = [SeriesOccurrenceInline]

    def has_add_permission(self, request: HttpRequest) -> bool:
        # A series is booked through the plan page so that every session passes the booking rules.
        return False
