"""Admin for appointments and schedules.

Appointments are created and changed through the booking services (the pages), so the
admin shows them read-only: a save here would skip the screening gate and the overlap checks.
"""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from bookings.models import (
    Appointment,
    BookingPolicy,
    CalendarFeed,
    ClinicClosure,
    ExtraHours,
    TimeOff,
    WorkingHours,
)
from clinic.admin import practitioner_admin_inline_add
from clinic.audit import AuditedClinicalAdminMixin


@admin.register(Appointment)
class AppointmentAdmin(AuditedClinicalAdminMixin, SimpleHistoryAdmin):
    admin_section = "Schedules"
    list_display = ["starts_at", "modality", "patient", "practitioner", "status", "cancelled_late"]
    list_filter = ["status", "modality", "practitioner", "cancelled_late"]
    search_fields = ["patient__user__first_name", "patient__user__last_name", "patient__user__email"]
    date_hierarchy = "starts_at"
    list_select_related = ["modality", "patient__user", "practitioner__user"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Appointment | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Appointment | None = None) -> bool:
        return False


class WorkingHoursInline(admin.TabularInline):
    model = WorkingHours
    extra = 0
    verbose_name_plural = _("regular working hours (clinic time)")


class ExtraHoursInline(admin.TabularInline):
    model = ExtraHours
    extra = 0
    verbose_name_plural = _("extra hours on given dates (clinic time)")


class TimeOffInline(admin.TabularInline):
    model = TimeOff
    extra = 0
    fields = ["starts_at", "ends_at", "reason"]


for schedule_inline in (WorkingHoursInline, ExtraHoursInline, TimeOffInline):
    practitioner_admin_inline_add(schedule_inline)


@admin.register(WorkingHours)
class WorkingHoursAdmin(admin.ModelAdmin):
    admin_section = "Schedules"
    list_display = ["practitioner", "weekday", "start_time", "end_time"]
    list_filter = ["practitioner", "weekday"]


@admin.register(ExtraHours)
class ExtraHoursAdmin(admin.ModelAdmin):
    admin_section = "Schedules"
    list_display = ["practitioner", "date", "start_time", "end_time", "note"]
    list_filter = ["practitioner"]
    date_hierarchy = "date"


@admin.register(TimeOff)
class TimeOffAdmin(admin.ModelAdmin):
    admin_section = "Schedules"
    list_display = ["practitioner", "starts_at", "ends_at", "reason"]
    list_filter = ["practitioner"]
    date_hierarchy = "starts_at"


@admin.register(ClinicClosure)
class ClinicClosureAdmin(admin.ModelAdmin):
    admin_section = "Schedules"
    list_display = ["reason", "start_date", "end_date"]
    date_hierarchy = "start_date"


@admin.register(BookingPolicy)
class BookingPolicyAdmin(admin.ModelAdmin):
    admin_section = "Schedules"
    list_display = [
        "__str__",
        "minimum_notice_minutes",
        "horizon_days",
        "cancellation_cutoff_hours",
        "slot_step_minutes",
        "waitlist_offer_hold_minutes",
    ]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return not BookingPolicy.objects.exists()

    def has_delete_permission(self, request: HttpRequest, obj: BookingPolicy | None = None) -> bool:
        return False


@admin.register(CalendarFeed)
class CalendarFeedAdmin(admin.ModelAdmin):
    """Revoke a leaked link by deleting the feed; the owner gets a new one on their next visit."""

    admin_section = "Schedules"

    list_display = ["__str__", "created_at", "regenerated_at"]
    readonly_fields = ["practitioner", "patient", "created_at", "regenerated_at"]
    exclude = ["token"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
