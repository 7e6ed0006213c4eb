"""Admin for the appointment reminder times of each modality."""

from __future__ import annotations

from django.contrib import admin

from bookings.models import AppointmentReminderOffset


@admin.register(AppointmentReminderOffset)
class AppointmentReminderOffsetAdmin(admin.ModelAdmin):
    admin_section = "Messages"
    list_display = ["modality", "hours_before", "channel"]
    list_filter = ["modality", "channel"]
    list_select_related = ["modality"]
    ordering = ["modality__display_order", "modality__name", "-hours_before"]
