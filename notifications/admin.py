"""Admin for the outbox: a read-only log of every message, "send again" and "mark sent" for a message
whose outcome is unknown, and the reminder rules."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from notifications.kinds import message_kinds
from notifications.models import Reminder, ReminderSettings
from notifications.services import reminder_mark_sent, reminder_send_again


class KindFilter(admin.SimpleListFilter):
    """The kinds the installed apps registered, by their labels."""

    title = _("kind")
    parameter_name = "kind"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        return [(kind.name, kind.label) for kind in message_kinds()]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Reminder]) -> QuerySet[Reminder]:
        return queryset.filter(kind=self.value()) if self.value() else queryset


@admin.register(Reminder)
class ReminderAdmin(admin.ModelAdmin):
    admin_section = "Messages"
    list_display = ["due_at", "kind_label", "channel", "patient", "state", "attempts", "sent_at", "short_error"]
    list_filter = [KindFilter, "channel", "state", "due_at"]
    search_fields = ["patient__user__email", "patient__user__last_name", "key", "provider_message_id"]
    date_hierarchy = "due_at"
    list_select_related = ["patient__user"]
    actions = ["send_again", "mark_sent"]
    fields = [
        "key",
        "kind",
        "channel",
        "patient",
        "about_type",
        "about_id",
        "about_at",
        "context",
        "state",
        "due_at",
        "next_attempt_at",
        "attempts",
        "last_error",
        "enqueued_at",
        "lease_expires_at",
        "sent_at",
        "provider_message_id",
        "provider_status",
        "created_at",
        "updated_at",
    ]
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Reminder | None = None) -> bool:
        return False

    @admin.display(description=_("kind"), ordering="kind")
    def kind_label(self, obj: Reminder) -> str:
        return obj.kind_label

    @admin.display(description=_("last error"))
    def short_error(self, obj: Reminder) -> str:
        return (obj.last_error[:80] + "…") if len(obj.last_error) > 80 else obj.last_error

    def _only_clinic_admins(self, request: HttpRequest) -> bool:
        if request.user.is_active and (request.user.is_clinic_admin or request.user.is_superuser):
            return True
        self.message_user(request, gettext("Only clinic admins decide about sending a message."), messages.ERROR)
        return False

    @admin.action(description=_("Send again (same row: queued now, sent by the next dispatcher run)"))
    def send_again(self, request: HttpRequest, queryset: QuerySet[Reminder]) -> None:
        if not self._only_clinic_admins(request):
            return
        count = 0
        for reminder in queryset:
            reminder_send_again(reminder=reminder, actor=request.user)
            count += 1
        self.message_user(
            request,
            gettext("%(count)d reminder(s) queued to be sent again.") % {"count": count},
            messages.SUCCESS,
        )

    @admin.action(description=_("Mark sent (an 'unknown' message the patient did receive)"))
    def mark_sent(self, request: HttpRequest, queryset: QuerySet[Reminder]) -> None:
        if not self._only_clinic_admins(request):
            return
        unknown = list(queryset.filter(state=Reminder.State.UNKNOWN))
        for reminder in unknown:
            reminder_mark_sent(reminder=reminder, actor=request.user)
        skipped = queryset.count() - len(unknown)
        if skipped:
            marked = gettext(
                "%(count)d message(s) marked sent. %(skipped)d not of unknown outcome left as they were."
            ) % {"count": len(unknown), "skipped": skipped}
        else:
            marked = gettext("%(count)d message(s) marked sent.") % {"count": len(unknown)}
        self.message_user(request, marked, messages.SUCCESS)


@admin.register(ReminderSettings)
class ReminderSettingsAdmin(admin.ModelAdmin):
    admin_section = "Messages"
    list_display = [
        "__str__",
        "upcoming_hours_before",
        "screening_expiry_days_before",
        "quiet_hours_start",
        "quiet_hours_end",
        "max_attempts",
    ]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return not ReminderSettings.objects.exists()

    def has_delete_permission(self, request: HttpRequest, obj: ReminderSettings | None = None) -> bool:
        return False
