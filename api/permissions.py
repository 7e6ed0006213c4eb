"""Token scopes: a read token may only read; sessions (the app's own pages) are not limited here."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext, gettext_lazy
from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.request import Request

from api.models import PersonalAccessToken
from api.problems import Problem


class TokenScopeAllows(BasePermission):
    """Refuse a change (POST, PUT, PATCH, DELETE) made with a read-only token, with a 403 problem."""

    def has_permission(self, request: Request, view: Any) -> bool:
        token = request.auth
        if request.method in SAFE_METHODS or not isinstance(token, PersonalAccessToken):
            return True
        if not token.allows_write:
            raise Problem(
                "token-scope", detail=gettext("This token is read only; make a token with write scope to change data.")
            )
        return True


class IsPatient(BasePermission):
    """Only a patient (someone with a patient record) may use the endpoint."""

    message = gettext_lazy("Only patients have appointments of their own here.")

    def has_permission(self, request: Request, view: Any) -> bool:
        return bool(request.user and request.user.is_authenticated and hasattr(request.user, "patient"))


class IsClinicStaff(BasePermission):
    """Only clinic staff (the care-team rules then decide which patients)."""

    message = gettext_lazy("Only clinic staff may use this endpoint.")

    def has_permission(self, request: Request, view: Any) -> bool:
        return bool(request.user and request.user.is_authenticated and request.user.is_clinic_staff)
