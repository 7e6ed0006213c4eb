"""Admin of webhooks: endpoints (URL, events from a list, secret generated and shown once, active,
opt-in to clinical details) and the delivery log with "send again".  Clinic admins only."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext, gettext_lazy

from api.webhooks.models import WebhookDelivery, WebhookEndpoint
from api.webhooks.services import (
    webhook_delivery_send_again,
    webhook_endpoint_saved_audit,
    webhook_endpoint_secret_rotate,
    webhook_endpoint_validate,
    webhook_payload,
)
from notifications.events import event_types


def _is_clinic_admin(request: HttpRequest) -> bool:
    user = request.user
    return bool(user.is_active and (user.is_clinic_admin or user.is_superuser))


class ClinicAdminsOnly:
    """Webhooks send clinic data out of the building: only clinic admins see or change them."""

    def has_module_permission(self, request: HttpRequest) -> bool:
        return _is_clinic_admin(request)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _is_clinic_admin(request)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return _is_clinic_admin(request)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _is_clinic_admin(request)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _is_clinic_admin(request)


class WebhookEndpointForm(forms.ModelForm):
    url = forms.URLField(
        label="URL",
        max_length=500,
        assume_scheme="https",
        help_text=WebhookEndpoint._meta.get_field("url").help_text,
    )
    events = forms.MultipleChoiceField(
        choices=(),
        widget=forms.CheckboxSelectMultiple,
        required=False,
        label=gettext_lazy("events"),
        help_text=gettext_lazy("The events sent to this endpoint."),
    )

    class Meta:
        model = WebhookEndpoint
        fields = ["name", "url", "events", "is_active", "include_clinical_details"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["events"].choices = [(t.name, f"{t.label} ({t.name})") for t in event_types()]

    def _post_clean(self) -> None:
        super()._post_clean()
        try:
            webhook_endpoint_validate(self.instance)
        except ValidationError as error:
            self._update_errors(error)


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(ClinicAdminsOnly, admin.ModelAdmin):
    admin_section = "Messages"
    form = WebhookEndpointForm
    list_display = ["name", "url", "is_active", "include_clinical_details", "event_list", "created_at"]
    list_filter = ["is_active", "include_clinical_details"]
    search_fields = ["name", "url"]
    actions = ["rotate_secret"]

    @admin.display(description=gettext_lazy("events"))
    def event_list(self, obj: WebhookEndpoint) -> str:
        return ", ".join(obj.events)

    def save_model(self, request: HttpRequest, obj: WebhookEndpoint, form: forms.Form, change: bool) -> None:
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)
        webhook_endpoint_saved_audit(endpoint=obj, actor=request.user, created=not change)

    def _secret_page(self, request: HttpRequest, endpoints: list[WebhookEndpoint]) -> HttpResponse:
        context = {
            **self.admin_site.each_context(request),
            "secrets": endpoints,
            "continue_url": reverse("admin:api_webhookendpoint_changelist", current_app=self.admin_site.name),
        }
        response = TemplateResponse(request, "api/admin/webhook_secret.html", context)
        response["Cache-Control"] = "no-store"
        return response

    def response_add(self, request: HttpRequest, obj: WebhookEndpoint, post_url_continue: str | None = None) -> Any:
        # The secret is generated with the row and shown on this page only (never in the change form).
        return self._secret_page(request, [obj])

    @admin.action(
        description=gettext_lazy("Rotate the signing secret (the old one stops at once; the new one is shown once)")
    )
    def rotate_secret(self, request: HttpRequest, queryset: QuerySet[WebhookEndpoint]) -> HttpResponse:
        rotated = [webhook_endpoint_secret_rotate(endpoint=endpoint, actor=request.user) for endpoint in queryset]
        return self._secret_page(request, rotated)


class EventNameFilter(admin.SimpleListFilter):
    title = "event"
    parameter_name = "event_name"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        return [(t.name, t.label) for t in event_types()]

    def queryset(self, request: HttpRequest, queryset: QuerySet[WebhookDelivery]) -> QuerySet[WebhookDelivery]:
        return queryset.filter(event__name=self.value()) if self.value() else queryset


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ClinicAdminsOnly, admin.ModelAdmin):
    admin_section = "Messages"
    list_display = [
        "created_at",
        "event_name",
        "endpoint",
        "state",
        "attempts",
        "last_status_code",
        "short_error",
        "next_attempt_at",
        "delivered_at",
    ]
    list_filter = ["state", EventNameFilter, "endpoint"]
    list_select_related = ["endpoint", "event"]
    search_fields = ["event__id", "endpoint__name"]
    actions = ["send_again"]
    fields = [
        "endpoint",
        "webhook_id",
        "event_name",
        "occurred_at",
        "payload",
        "state",
        "attempts",
        "next_attempt_at",
        "lease_expires_at",
        "last_attempt_at",
        "last_status_code",
        "last_error",
        "delivered_at",
        "created_at",
        "updated_at",
    ]
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: WebhookDelivery | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: WebhookDelivery | None = None) -> bool:
        return False

    @admin.display(description=gettext_lazy("event"), ordering="event__name")
    def event_name(self, obj: WebhookDelivery) -> str:
        return obj.event.name

    @admin.display(description=gettext_lazy("webhook id"))
    def webhook_id(self, obj: WebhookDelivery) -> str:
        return str(obj.event_id)

    @admin.display(description=gettext_lazy("occurred at"))
    def occurred_at(self, obj: WebhookDelivery) -> Any:
        return obj.event.occurred_at

    @admin.display(description=gettext_lazy("payload (ids and times; clinical details are not shown here)"))
    def payload(self, obj: WebhookDelivery) -> str:
        shown = webhook_payload(delivery=obj)
        shown.pop("clinical_details", None)
        return str(shown)

    @admin.display(description=gettext_lazy("last error"))
    def short_error(self, obj: WebhookDelivery) -> str:
        return (obj.last_error[:80] + "…") if len(obj.last_error) > 80 else obj.last_error

    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        # "Send again" changes rows although the log is read-only; the admin's own rule is the service's.
        actions = super().get_actions(request)
        if not _is_clinic_admin(request):
            actions.pop("send_again", None)
        return actions

    @admin.action(description=gettext_lazy("Send again (same webhook id; sent by the next delivery run)"))
    def send_again(self, request: HttpRequest, queryset: QuerySet[WebhookDelivery]) -> None:
        again = [webhook_delivery_send_again(delivery=delivery, actor=request.user) for delivery in queryset]
        queued = sum(1 for delivery in again if delivery.state == WebhookDelivery.State.PENDING)
        self.message_user(
            request,
            gettext("%(count)d webhook delivery(ies) queued to be sent again.") % {"count": queued},
            messages.SUCCESS,
        )
