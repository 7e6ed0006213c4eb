"""Admin for session logs, adverse events and amendments: filterable, read-only, never deleted.

Logs are written and amended through the clinic's own pages, which keep the
amendment history; the admin is for finding and reviewing them.  The one
editable row is the clinic's safety thresholds.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from modeltranslation.admin import TranslationAdmin, TranslationTabularInline
from simple_history.admin import SimpleHistoryAdmin

from clinic.audit import AuditedClinicalAdminMixin
from treatments.models import (
    AdverseEvent,
    Amendment,
    ColdApplicationMethod,
    Instrument,
    InstrumentItem,
    OutcomeSettings,
    QuestionnaireRequest,
    ReliefCheckIn,
    SafetyThresholds,
    SessionLog,
)


class ReadOnlyAdminMixin:
    """Clinical records: viewable and filterable, not added, changed or deleted here."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class AdverseEventInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = AdverseEvent
    extra = 0
    fields = ("kind", "severity", "description", "action_taken")
    readonly_fields = fields


class AmendmentInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = Amendment
    extra = 0
    fields = ("changed_at", "changed_by", "reason", "changed_fields", "previous_values")
    readonly_fields = fields


@admin.register(SessionLog)
class SessionLogAdmin(AuditedClinicalAdminMixin, ReadOnlyAdminMixin, SimpleHistoryAdmin):
    admin_section = "Clinical records"
    list_display = ("started_at", "patient", "modality", "practitioner", "pain_before", "pain_after", "status")
    list_filter = ("status", "kind", "modality", "practitioner", "started_at")
    search_fields = ("patient__user__first_name", "patient__user__last_name", "patient__user__email")
    date_hierarchy = "started_at"
    list_select_related = ("patient__user", "modality", "practitioner__user")
    inlines = [AdverseEventInline, AmendmentInline]
    readonly_fields = ("amend_link",)

    @admin.display(description=_("Change this record"))
    def amend_link(self, obj: SessionLog) -> str:
        return format_html(
            '<a href="{}">{}</a> {}',
            reverse("treatments:log_amend", args=[obj.pk]),
            _("Amend on the clinic pages"),
            _("(keeps the earlier version and the reason)"),
        )


@admin.register(AdverseEvent)
class AdverseEventAdmin(AuditedClinicalAdminMixin, ReadOnlyAdminMixin, SimpleHistoryAdmin):
    admin_section = "Clinical records"
    audit_patient_path = "session_log__patient"
    list_display = ("session_log", "kind", "severity", "action_taken")
    list_filter = ("kind", "severity", "session_log__modality")
    search_fields = ("session_log__patient__user__last_name", "description", "action_taken")
    list_select_related = ("session_log__patient__user", "session_log__modality")


@admin.register(Amendment)
class AmendmentAdmin(AuditedClinicalAdminMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    admin_section = "Clinical records"
    audit_patient_path = "session_log__patient"
    list_display = ("changed_at", "session_log", "changed_by", "reason")
    list_filter = ("changed_at", "changed_by")
    search_fields = ("reason", "session_log__patient__user__last_name")
    list_select_related = ("session_log__patient__user", "session_log__modality", "changed_by")


@admin.register(SafetyThresholds)
class SafetyThresholdsAdmin(admin.ModelAdmin):
    admin_section = "Catalogue"
    list_display = ("__str__", "updated_at")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return not SafetyThresholds.objects.exists()

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


# --- Questionnaires, relief check-ins and the outcome settings ---------------------------------


@admin.register(OutcomeSettings)
class OutcomeSettingsAdmin(admin.ModelAdmin):
    admin_section = "Catalogue"
    list_display = ("__str__", "baseline_floor", "relief_checkin_days", "questionnaire_every_days")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return not OutcomeSettings.objects.exists()

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class InstrumentItemInline(TranslationTabularInline):
    model = InstrumentItem
    extra = 1
    fields = ("position", "text", "min_label", "max_label")


@admin.register(Instrument)
class InstrumentAdmin(TranslationAdmin):
    """A clinic adds a questionnaire it may use (e.g. one it holds a licence for) here, without code."""

    admin_section = "Catalogue"

    list_display = ("name", "code", "scoring", "minimal_important_change", "families", "is_active")
    list_filter = ("is_active", "scoring")
    prepopulated_fields = {"code": ("name",)}
    inlines = [InstrumentItemInline]

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Answers point at it; untick "is active" instead.
        return obj is None or not obj.requests.exists()


@admin.register(QuestionnaireRequest)
class QuestionnaireRequestAdmin(AuditedClinicalAdminMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    admin_section = "Clinical records"
    list_display = ("created_at", "patient", "instrument", "occasion", "answered_at", "score")
    list_filter = ("instrument", "occasion", "family")
    search_fields = ("patient__user__first_name", "patient__user__last_name", "patient__user__email")
    list_select_related = ("patient__user", "instrument")


@admin.register(ReliefCheckIn)
class ReliefCheckInAdmin(AuditedClinicalAdminMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    admin_section = "Clinical records"
    list_display = ("due_on", "patient", "day", "pain", "answered_at")
    list_filter = ("day", "due_on")
    search_fields = ("patient__user__first_name", "patient__user__last_name", "patient__user__email")
    list_select_related = ("patient__user", "session_log__modality")


@admin.register(ColdApplicationMethod)
class ColdApplicationMethodAdmin(TranslationAdmin):
    admin_section = "Catalogue"
    list_display = (
        "name",
        "temperature_from_c",
        "temperature_to_c",
        "exposure_min_seconds",
        "exposure_max_seconds",
        "is_active",
    )
    list_editable = ("is_active",)
