"""The page where a person makes, sees and revokes their personal access tokens (linked from the profile)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import FormView

from api.authentication import token_refusal
from api.forms import TokenCreateForm
from api.models import PersonalAccessToken
from api.services import TokenRefused, token_create, token_max_days, token_revoke


class TokenListView(LoginRequiredMixin, FormView):
    template_name = "api/token_list.html"
    form_class = TokenCreateForm

    def get_form_kwargs(self) -> dict[str, Any]:
        return {**super().get_form_kwargs(), "max_days": token_max_days(user=self.request.user)}

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        tokens = list(PersonalAccessToken.objects.filter(user=self.request.user))
        rows = [(token, token_refusal(token)) for token in tokens]
        return super().get_context_data(
            rows=rows,
            staff=self.request.user.is_clinic_staff,
            idle_days=settings.CLINIC_API_STAFF_TOKEN_IDLE_DAYS,
            **kwargs,
        )

    def form_valid(self, form: TokenCreateForm) -> HttpResponse:
        request = self.request
        try:
            issued = token_create(
                actor=request.user,
                name=form.cleaned_data["name"],
                scope=form.cleaned_data["scope"],
                valid_days=form.cleaned_data["valid_days"],
                session_verified=request.user.is_verified(),
            )
        except TokenRefused as refused:
            form.add_error(None, refused.message)
            return self.form_invalid(form)
        # Rendered, not redirected: the full token exists only in this response.
        context = self.get_context_data(form=self.get_form_class()(max_days=token_max_days(user=request.user)))
        response = render(request, self.template_name, {**context, "issued": issued})
        response["Cache-Control"] = "no-store"
        return response


class TokenRevokeView(LoginRequiredMixin, View):
    def post(self, request: HttpRequest, prefix: str) -> HttpResponse:
        token = PersonalAccessToken.objects.filter(user=request.user, prefix=prefix).first()
        if token is None:
            raise Http404(_("No such token."))
        try:
            token_revoke(actor=request.user, token=token)
        except TokenRefused as refused:
            messages.error(request, refused.message)
        else:
            messages.success(
                request,
                _("The token “%(name)s” (%(prefix)s) is revoked; it no longer works.")
                % {"name": token.name, "prefix": token.prefix},
            )
        return redirect("api_tokens:list")
