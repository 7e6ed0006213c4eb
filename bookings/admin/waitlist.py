"""Admin for the waitlist: who waits for what, and every offer made (to whom, when, what became of it).

Read-only, like appointments: joining, offering and accepting go through the waitlist services,
which check the screening gate and book through the booking service.  The hold time is edited
on the booking policy.
"""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from bookings.models import WaitlistEntry, WaitlistOffer
from clinic.audit import AuditedClinicalAdminMixin


class _ReadOnly:
    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


class WaitlistOfferInline(_ReadOnly, admin.TabularInline):
    model = WaitlistOffer
    fk_name = "entry"
    extra = 0
    fields = ["starts_at", "practitioner", "offered_at", "expires_at", "status", "answered_at", "appointment"]
    readonly_fields = fields
    ordering = ["offered_at"]


@admin.register(WaitlistEntry)
class WaitlistEntryAdmin(AuditedClinicalAdminMixin, _ReadOnly, admin.ModelAdmin):
    admin_section = "Schedules"
    list_display = ["created_at", "patient", "modality", "practitioner", "available_from", "available_until", "status"]
    list_filter = ["status", "modality"]
    search_fields = ["patient__user__first_name", "patient__user__last_name", "patient__user__email"]
    date_hierarchy = "created_at"
    list_select_related = ["patient__user", "modality", "practitioner__user"]
    inlines = [WaitlistOfferInline]


@admin.register(WaitlistOffer)
class WaitlistOfferAdmin(AuditedClinicalAdminMixin, _ReadOnly, admin.ModelAdmin):
    admin_section = "Schedules"
    list_display = ["starts_at", "modality", "practitioner", "patient", "offered_at", "expires_at", "status"]
    list_filter = ["status", "modality", "practitioner"]
    search_fields = ["patient__user__first_name", "patient__user__last_name", "patient__user__email"]
    date_hierarchy = "offered_at"
    list_select_related = ["patient__user", "modality", "practitioner__user"]
