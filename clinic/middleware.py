"""Session rules for clinic staff: two-factor verification and idle logout."""

from __future__ import annotations

import time
from collections.abc import Callable
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse

from clinic.two_factor import two_factor_has_device, two_factor_required

LAST_ACTIVITY_SESSION_KEY = "clinic_last_activity"


def _redirect_with_next(url_name: str, request: HttpRequest) -> HttpResponseRedirect:
    return HttpResponseRedirect(f"{reverse(url_name)}?{urlencode({'next': request.get_full_path()})}")


class StaffIdleLogoutMiddleware:
    """Log a practitioner or admin out after ``CLINIC_STAFF_IDLE_MINUTES`` without a request.

    A clinic workstation left open shows patients' health data to whoever walks past;
    patients on their own devices keep the normal session length.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        idle_minutes = settings.CLINIC_STAFF_IDLE_MINUTES
        user = request.user
        if idle_minutes and user.is_authenticated and user.is_clinic_staff:
            now = time.time()
            last_activity = request.session.get(LAST_ACTIVITY_SESSION_KEY)
            if last_activity is not None and now - last_activity > idle_minutes * 60:
                logout(request)
                messages.info(
                    request, f"You were logged out after {idle_minutes} minutes without activity. Please log in again."
                )
                return _redirect_with_next(settings.LOGIN_URL, request)
            request.session[LAST_ACTIVITY_SESSION_KEY] = now
        return self.get_response(request)


class TwoFactorRequiredMiddleware:
    """Send a logged-in person who still owes a second factor to set it up or enter it.

    Anyone who has an authenticator confirmed must enter a code after each login.
    Practitioners and admins must have one at all while ``CLINIC_STAFF_2FA_REQUIRED``
    is on; this also covers the Django admin, which lives under the same middleware.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if user.is_authenticated and not user.is_verified() and not self._exempt(request):
            if two_factor_has_device(user=user):
                return _redirect_with_next("two_factor_verify", request)
            if two_factor_required(user=user):
                return _redirect_with_next("two_factor_setup", request)
        return self.get_response(request)

    @staticmethod
    def _exempt(request: HttpRequest) -> bool:
        """The pages needed to finish the second step, or to give up and log out."""
        open_paths = {
            reverse("two_factor_setup"),
            reverse("two_factor_verify"),
            reverse("logout"),
        }
        return request.path in open_paths or request.path.startswith(f"/{settings.STATIC_URL.lstrip('/')}")
