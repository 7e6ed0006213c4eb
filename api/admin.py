"""Personal access tokens in the admin: who has which, how they are used, and revoking one (never the secret)."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext, gettext_lazy

from api.models import PersonalAccessToken
from api.services import TokenRefused, token_revoke


@admin.register(PersonalAccessToken)
class PersonalAccessTokenAdmin(admin.ModelAdmin):
    admin_section = "Security"
    list_display = [
        "prefix",
        "name",
        "user",
        "scope",
        "issued_to_staff",
        "created_at",
        "expires_at",
        "last_used_at",
        "revoked_at",
    ]
    list_filter = ["scope", "issued_to_staff"]
    search_fields = ["prefix", "name", "user__email", "user__last_name"]
    readonly_fields = [f.name for f in PersonalAccessToken._meta.fields if f.name != "secret_hash"]
    exclude = ["secret_hash"]
    actions = ["revoke"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # people make their own tokens, so the secret is shown only to them

    def has_change_permission(self, request: HttpRequest, obj: PersonalAccessToken | None = None) -> bool:
        return False

    @admin.action(description=gettext_lazy("Revoke the selected tokens"), permissions=["view"])
    def revoke(self, request: HttpRequest, queryset: QuerySet[PersonalAccessToken]) -> None:
        revoked = 0
        for token in queryset:
            try:
                token_revoke(actor=request.user, token=token)
            except TokenRefused as refused:
                messages.error(request, refused.message)
                return
            revoked += 1
        messages.success(request, gettext("%(count)d token(s) revoked; they no longer work.") % {"count": revoked})


# The webhook endpoints and delivery log live in api/webhooks/admin.py.
from api.webhooks.admin import WebhookDeliveryAdmin, WebhookEndpointAdmin  # noqa: E402

__all__ = ["PersonalAccessTokenAdmin", "WebhookDeliveryAdmin", "WebhookEndpointAdmin"]
