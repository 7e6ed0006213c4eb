"""Session rules: two-factor verification for staff, idle logout, an absolute session age, and the
language a logged-in person chose."""

from __future__ import annotations

import time
from collections.abc import Callable
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from clinic.two_factor import two_factor_has_device, two_factor_required

LAST_ACTIVITY_SESSION_KEY = "clinic_last_activity"
SESSION_STARTED_SESSION_KEY = "clinic_session_started"


def _redirect_with_next(url_name: str, request: HttpRequest) -> HttpResponseRedirect:
    return HttpResponseRedirect(f"{reverse(url_name)}?{urlencode({'next': request.get_full_path()})}")


class IdleLogoutMiddleware:
    """Log a person out after a while without a request, and every session after its absolute age.

    Staff after ``CLINIC_STAFF_IDLE_MINUTES``: a clinic workstation left open shows
    patients' health data to whoever walks past.  Patients after
    ``CLINIC_PATIENT_IDLE_MINUTES``: their own records on a shared or lost device.
    Everyone after ``CLINIC_SESSION_MAX_HOURS`` from the first request of the session,
    however active, so a stolen session cookie does not last for weeks.  0 switches
    each limit off.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if user.is_authenticated:
            now = time.time()
            idle_minutes = (
                settings.CLINIC_STAFF_IDLE_MINUTES if user.is_clinic_staff else settings.CLINIC_PATIENT_IDLE_MINUTES
            )
            max_hours = settings.CLINIC_SESSION_MAX_HOURS
            last_activity = request.session.get(LAST_ACTIVITY_SESSION_KEY)
            started = request.session.setdefault(SESSION_STARTED_SESSION_KEY, now)
            if idle_minutes and last_activity is not None and now - last_activity > idle_minutes * 60:
                return self._logout(
                    request,
                    _("You were logged out after %(minutes)s minutes without activity. Please log in again.")
                    % {"minutes": idle_minutes},
                )
            if max_hours and now - started > max_hours * 3600:
                return self._logout(
                    request,
                    _("You were logged out after %(hours)s hours. Please log in again.") % {"hours": max_hours},
                )
            request.session[LAST_ACTIVITY_SESSION_KEY] = now
        return self.get_response(request)

    @staticmethod
    def _logout(request: HttpRequest, message: str) -> HttpResponse:
        logout(request)
        messages.info(request, message)
        return _redirect_with_next(settings.LOGIN_URL, request)


def user_language(user: object) -> str:
    """The language a logged-in person chose ("" for none, or for one the clinic no longer offers)."""
    language = getattr(user, "language", "") if getattr(user, "is_authenticated", False) else ""
    return language if language in dict(settings.LANGUAGES) else ""


class UserLanguageMiddleware:
    """Pages in the language the logged-in person chose on their profile.

    After ``AuthenticationMiddleware``: ``LocaleMiddleware`` (before it) has already picked the
    language cookie or the browser's Accept-Language; a stored choice wins over both, so the
    desk's shared computer or a borrowed phone still shows each person their own language.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        language = user_language(request.user)
        if language:
            translation.activate(language)
            request.LANGUAGE_CODE = translation.get_language()
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
        enrol_prefix = reverse("two_factor_enrol", args=["x"]).removesuffix("x/")
        return (
            request.path in open_paths
            or request.path.startswith(enrol_prefix)
            or request.path.startswith(f"/{settings.STATIC_URL.lstrip('/')}")
        )
