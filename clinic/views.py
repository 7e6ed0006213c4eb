from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponsePermanentRedirect
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.urls import reverse, reverse_lazy
from django.utils import translation
from django.utils.http import urlsafe_base64_decode
from django.utils.translation import check_for_language
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import FormView, TemplateView, UpdateView
from django.views.i18n import set_language

from clinic.access import PatientRequiredMixin
from clinic.forms import (
    AccountClaimForm,
    PatientProfileForm,
    PatientRegistrationForm,
    TwoFactorCodeForm,
    UserLanguageForm,
)
from clinic.models import Modality, Patient, TwoFactorEnrolment, User
from clinic.redirects import next_url_on_site
from clinic.services import (
    AccountClaimRefused,
    account_claim,
    account_claim_find,
    patient_registration_request,
    user_email_confirm,
)
from clinic.two_factor import (
    recovery_codes_remaining,
    recovery_codes_replace,
    totp_qr_code_data_url,
    totp_secret_for_display,
    two_factor_confirm_device,
    two_factor_disable,
    two_factor_enrolment_find,
    two_factor_enrolment_needed,
    two_factor_has_device,
    two_factor_pending_device,
    two_factor_required,
    two_factor_verify,
)

RECOVERY_CODES_SESSION_KEY = "clinic_new_recovery_codes"
RECOVERY_CODES_NEXT_SESSION_KEY = "clinic_new_recovery_codes_next"
ENROLMENT_SESSION_KEY = "clinic_two_factor_enrolment"


class HomeView(TemplateView):
    """The front page: what the clinic offers, or the person's own start page."""

    template_name = "clinic/home.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["modalities"] = Modality.objects.active()
        return context


class RegisterView(FormView):
    template_name = "registration/register.html"
    form_class = PatientRegistrationForm

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.user.is_authenticated:
            return redirect("home")
        return super().dispatch(request, *args, **kwargs)

    def form_valid(self, form: PatientRegistrationForm) -> HttpResponse:
        data = form.cleaned_data
        patient_registration_request(
            email=data["email"],
            password=data["password1"],
            first_name=data["first_name"],
            last_name=data["last_name"],
            date_of_birth=data["date_of_birth"],
            phone=data["phone"],
            emergency_contact_name=data["emergency_contact_name"],
            emergency_contact_phone=data["emergency_contact_phone"],
            language=data["language"],
        )
        return redirect("register_done")


class RegisterDoneView(TemplateView):
    """The same answer for a new address and one already in use: look in your inbox."""

    template_name = "registration/register_done.html"


class EmailConfirmView(View):
    """The link in the confirmation email: confirms the address once and logs the patient in."""

    def get(self, request: HttpRequest, uidb64: str, token: str) -> HttpResponse:
        try:
            user = User.objects.get(pk=urlsafe_base64_decode(uidb64).decode())
        except (ValueError, TypeError, OverflowError, User.DoesNotExist):
            user = None
        if user is None or not user.is_active or not user_email_confirm(user=user, token=token):
            messages.error(request, _("This confirmation link has expired or was used already. Try logging in."))
            return redirect("login")
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        messages.success(request, _("Welcome! Your email address is confirmed and your account is ready."))
        return redirect("home")


class ProfileView(LoginRequiredMixin, TemplateView):
    template_name = "clinic/profile.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["language_form"] = UserLanguageForm(instance=self.request.user)
        return context


class ProfileLanguageView(LoginRequiredMixin, UpdateView):
    """Patients and staff choose the language of their pages and messages (or follow the browser)."""

    form_class = UserLanguageForm
    template_name = "clinic/language_form.html"
    success_url = reverse_lazy("profile")

    def get_object(self, queryset: Any = None) -> User:
        return self.request.user

    def form_valid(self, form: UserLanguageForm) -> HttpResponse:
        user = form.save()
        response = redirect(self.success_url)
        if user.language:
            # Also for this browser once logged out, as the footer's switcher does.
            response.set_cookie(
                settings.LANGUAGE_COOKIE_NAME,
                user.language,
                max_age=settings.LANGUAGE_COOKIE_AGE,
                path=settings.LANGUAGE_COOKIE_PATH,
                domain=settings.LANGUAGE_COOKIE_DOMAIN,
                secure=settings.LANGUAGE_COOKIE_SECURE,
                httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
                samesite=settings.LANGUAGE_COOKIE_SAMESITE,
            )
        else:
            response.delete_cookie(
                settings.LANGUAGE_COOKIE_NAME,
                path=settings.LANGUAGE_COOKIE_PATH,
                domain=settings.LANGUAGE_COOKIE_DOMAIN,
            )
        with translation.override(user.language or translation.get_language()):  # said in the language chosen
            messages.success(self.request, _("Your language is saved."))
        return response


def language_switch(request: HttpRequest) -> HttpResponse:
    """The footer's switcher: Django's ``set_language`` (cookie, back to the page), and for a
    logged-in person also their stored choice, so their messages follow it too."""
    response = set_language(request)
    language = request.POST.get("language", "")
    if (
        request.method == "POST"
        and request.user.is_authenticated
        and language in dict(settings.LANGUAGES)
        and check_for_language(language)
        and request.user.language != language
    ):
        request.user.language = language
        request.user.save(update_fields=["language"])
    return response


class PatientProfileEditView(PatientRequiredMixin, UpdateView):
    form_class = PatientProfileForm
    template_name = "clinic/patient_form.html"
    success_url = reverse_lazy("profile")

    def get_object(self, queryset: Any = None) -> Patient:
        return self.patient

    def form_valid(self, form: PatientProfileForm) -> HttpResponse:
        messages.success(self.request, _("Your details are saved."))
        return super().form_valid(form)


class TwoFactorView(LoginRequiredMixin, TemplateView):
    """Two-factor status on the profile: turn it on, get new recovery codes, or turn it off."""

    template_name = "clinic/two_factor_manage.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        user = self.request.user
        context["has_device"] = two_factor_has_device(user=user)
        context["recovery_codes_remaining"] = recovery_codes_remaining(user=user)
        context["may_disable"] = not two_factor_required(user=user)
        return context


class TwoFactorSetupView(LoginRequiredMixin, FormView):
    """Scan the QR code (or type the secret), then prove it works with a code."""

    template_name = "clinic/two_factor_setup.html"
    form_class = TwoFactorCodeForm

    enrolment: TwoFactorEnrolment | None = None

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        # Replacing an authenticator needs the current one, and staff enrol the first
        # one only through an admin's link: a stolen password alone must not be
        # enough to enrol the thief's phone.
        if request.user.is_authenticated and two_factor_has_device(user=request.user):
            if not request.user.is_verified():
                return redirect("two_factor_verify")
            messages.info(request, _("Two-factor authentication is already on."))
            return redirect("two_factor")
        if request.user.is_authenticated and two_factor_enrolment_needed(user=request.user):
            self.enrolment = (
                TwoFactorEnrolment.objects.usable()
                .filter(pk=request.session.get(ENROLMENT_SESSION_KEY), user=request.user)
                .first()
            )
            if self.enrolment is None:
                return render(request, "clinic/two_factor_enrolment_needed.html", status=403)
        return super().dispatch(request, *args, **kwargs)

    def get_form_kwargs(self) -> dict[str, Any]:
        return {
            **super().get_form_kwargs(),
            "submit_label": _("Turn on two-factor authentication"),
            "help_text": _("The six-digit code your app shows now."),
        }

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        device = two_factor_pending_device(user=self.request.user)
        context["secret"] = totp_secret_for_display(device)
        context["qr_code_url"] = totp_qr_code_data_url(device)
        context["required"] = two_factor_required(user=self.request.user)
        return context

    def form_valid(self, form: TwoFactorCodeForm) -> HttpResponse:
        device = two_factor_pending_device(user=self.request.user)
        codes = two_factor_confirm_device(
            request=self.request, device=device, code=form.cleaned_data["code"], enrolment=self.enrolment
        )
        if codes is None:
            form.add_error(
                "code",
                _("That code is not right. Check the time on your phone, wait a few seconds and try the newest code."),
            )
            return self.form_invalid(form)
        self.request.session.pop(ENROLMENT_SESSION_KEY, None)
        self.request.session[RECOVERY_CODES_SESSION_KEY] = codes
        self.request.session[RECOVERY_CODES_NEXT_SESSION_KEY] = self._next_url()
        return redirect("two_factor_recovery_codes")

    def _next_url(self) -> str:
        return next_url_on_site(self.request) or reverse("home")


class TwoFactorEnrolView(LoginRequiredMixin, View):
    """The link an admin emailed: remembers the enrolment in the session and opens the setup page."""

    def get(self, request: HttpRequest, token: str) -> HttpResponse:
        enrolment = two_factor_enrolment_find(token=token, user=request.user)
        if enrolment is None:
            return render(request, "clinic/two_factor_enrolment_needed.html", {"expired": True}, status=410)
        request.session[ENROLMENT_SESSION_KEY] = enrolment.pk
        return redirect("two_factor_setup")


class TwoFactorVerifyView(LoginRequiredMixin, FormView):
    """The second step of a login: a code from the app or one recovery code."""

    template_name = "clinic/two_factor_verify.html"
    form_class = TwoFactorCodeForm

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.user.is_authenticated and not two_factor_has_device(user=request.user):
            return redirect("two_factor_setup")
        return super().dispatch(request, *args, **kwargs)

    def get_form_kwargs(self) -> dict[str, Any]:
        return {
            **super().get_form_kwargs(),
            "submit_label": _("Verify"),
            "help_text": _("The six-digit code your authenticator app shows, or one of your recovery codes."),
        }

    def form_valid(self, form: TwoFactorCodeForm) -> HttpResponse:
        if not two_factor_verify(request=self.request, code=form.cleaned_data["code"]):
            form.add_error(
                "code",
                _(
                    "That code is not right, or it has been used already. "
                    "After a wrong code, wait a few seconds before the next try."
                ),
            )
            return self.form_invalid(form)
        return redirect(next_url_on_site(self.request) or "home")


class RecoveryCodesView(LoginRequiredMixin, TemplateView):
    """Shows new recovery codes once (GET), or makes a new set (POST, verified sessions only)."""

    template_name = "clinic/two_factor_recovery_codes.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["codes"] = self.request.session.pop(RECOVERY_CODES_SESSION_KEY, None)
        context["next_url"] = self.request.session.pop(RECOVERY_CODES_NEXT_SESSION_KEY, None) or reverse("home")
        return context

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not (two_factor_has_device(user=request.user) and request.user.is_verified()):
            return redirect("two_factor")
        request.session[RECOVERY_CODES_SESSION_KEY] = recovery_codes_replace(user=request.user)
        request.session[RECOVERY_CODES_NEXT_SESSION_KEY] = reverse("two_factor")
        return redirect("two_factor_recovery_codes")


class TwoFactorDisableView(LoginRequiredMixin, View):
    """A patient turns two-factor off again; staff cannot while it is required for them."""

    http_method_names = ["post"]

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if two_factor_required(user=request.user):
            raise PermissionDenied(_("Two-factor authentication is required for clinic staff."))
        if two_factor_has_device(user=request.user) and not request.user.is_verified():
            return redirect("two_factor_verify")
        two_factor_disable(user=request.user)
        messages.success(request, _("Two-factor authentication is off."))
        return redirect("two_factor")


def login_lockout_response(
    request: HttpRequest, original_response: HttpResponse | None = None, credentials: dict[str, Any] | None = None
) -> HttpResponse:
    """The page django-axes shows instead of the login form while an account is locked at this address."""
    context = {
        "failure_limit": settings.AXES_FAILURE_LIMIT,
        "cooloff_minutes": int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
        if settings.AXES_COOLOFF_TIME
        else None,
    }
    return render(request, "registration/lockout.html", context, status=429)


class AccountClaimView(FormView):
    """A patient the desk registered opens their one-time link and sets up their online account."""

    template_name = "registration/account_claim.html"
    form_class = AccountClaimForm

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        self.claim = account_claim_find(token=kwargs["token"])
        if self.claim is None:
            return render(request, "registration/account_claim_refused.html", status=404)
        return super().dispatch(request, *args, **kwargs)

    def get_form_kwargs(self) -> dict[str, Any]:
        return {**super().get_form_kwargs(), "user": self.claim.user}

    def form_valid(self, form: AccountClaimForm) -> HttpResponse:
        data = form.cleaned_data
        try:
            account_claim(
                token=self.kwargs["token"],
                email=data["email"],
                password=data["password1"],
                date_of_birth=data["date_of_birth"],
            )
        except AccountClaimRefused:
            return render(self.request, "registration/account_claim_refused.html", status=404)
        except ValidationError as error:
            for field, messages_ in error.message_dict.items():
                for message in messages_:
                    form.add_error(field, message)
            return self.form_invalid(form)
        return redirect("register_done")


def favicon(request: HttpRequest) -> HttpResponse:
    """Browsers ask for /favicon.ico on pages that name no icon (the admin's, a PDF, a JSON answer)."""
    return HttpResponsePermanentRedirect(static("clinic/favicon.svg"))
