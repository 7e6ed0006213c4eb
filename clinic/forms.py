from __future__ import annotations

from datetime import date
from typing import Any

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Submit
from django import forms
from django.conf import settings
from django.contrib.auth import password_validation
from django.contrib.auth.forms import AuthenticationForm
from django.db import connection
from django.utils.translation import get_language, get_supported_language_variant
from django.utils.translation import gettext_lazy as _
from phonenumber_field.formfields import PhoneNumberField
from phonenumber_field.widgets import RegionalPhoneNumberWidget

from clinic.models import Patient, User
from clinic.validators import date_of_birth_validate


class DateInput(forms.DateInput):
    """A native date picker; its value must be ISO (yyyy-mm-dd) whatever the language."""

    input_type = "date"

    def __init__(self, attrs: dict[str, Any] | None = None, format: str | None = None) -> None:
        super().__init__(attrs=attrs, format=format or "%Y-%m-%d")


# The days the clinic's pages accept from forms and query strings: wide enough for any
# booking, report or week to look at, and far from the ends of Python's calendar,
# where a week's arithmetic or a time-zone conversion overflows into a server error.
CALENDAR_FIRST_DAY = date(1900, 1, 1)
CALENDAR_LAST_DAY = date(2199, 12, 31)
OUTSIDE_CALENDAR_MESSAGE = _("That date is outside the calendar (choose one between %(first)s and %(last)s).")


def calendar_date_validate(day: date) -> None:
    """Refuse a day outside the clinic's calendar with a message a person can act on."""
    if not CALENDAR_FIRST_DAY <= day <= CALENDAR_LAST_DAY:
        raise forms.ValidationError(
            OUTSIDE_CALENDAR_MESSAGE,
            code="outside_calendar",
            params={"first": CALENDAR_FIRST_DAY.year, "last": CALENDAR_LAST_DAY.year},
        )


class CalendarDateField(forms.DateField):
    """A date within the clinic's calendar (see ``CALENDAR_FIRST_DAY``/``CALENDAR_LAST_DAY``)."""

    default_validators = [calendar_date_validate]


class DateOfBirthField(forms.DateField):
    """A date of birth: a date picker, refused when in the future or implausibly long ago."""

    widget = DateInput
    default_validators = [date_of_birth_validate]


class PatientRegistrationForm(forms.Form):
    """A new patient signs up; the account is a patient account and nothing else."""

    first_name = forms.CharField(label=_("First name"), max_length=150)
    last_name = forms.CharField(label=_("Last name"), max_length=150)
    email = forms.EmailField(label=_("Email"), max_length=254, help_text=_("You log in with this address."))
    date_of_birth = DateOfBirthField(label=_("Date of birth"))
    phone = PhoneNumberField(
        label=_("Phone"),
        help_text=_(
            "So we can reach you about a booking, e.g. 07911 123456 (add the country code, "
            "e.g. +353, for a number from abroad)."
        ),
        widget=RegionalPhoneNumberWidget(attrs={"autocomplete": "tel"}),
    )
    emergency_contact_name = forms.CharField(label=_("Emergency contact name"), max_length=150, required=False)
    emergency_contact_phone = PhoneNumberField(label=_("Emergency contact phone"), required=False)
    language = forms.ChoiceField(
        label=_("Language"),
        choices=settings.LANGUAGES,
        required=False,
        help_text=_("The language of our pages and of the messages we send you."),
    )
    password1 = forms.CharField(
        label=_("Password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=password_validation.password_validators_help_text_html(),
    )
    password2 = forms.CharField(
        label=_("Password again"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Offered in the language the page is shown in: who reads Spanish here wants Spanish.
        self.fields["language"].initial = get_supported_language_variant(get_language() or settings.LANGUAGE_CODE)
        self.helper = FormHelper()
        self.helper.add_input(Submit("submit", _("Create my account")))

    def clean_language(self) -> str:
        # Not sent (an older form, a script): the language the page was shown in.
        return self.cleaned_data["language"] or self.fields["language"].initial

    def clean_email(self) -> str:
        # Whether the address already has an account is never said here (that would tell
        # anyone who is a patient or staff member); the service emails its owner instead.
        return self.cleaned_data["email"].strip().lower()

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        candidate = User(
            email=cleaned.get("email", ""),
            first_name=cleaned.get("first_name", ""),
            last_name=cleaned.get("last_name", ""),
        )
        password_pair_check(self, cleaned, candidate)
        return cleaned


def password_pair_check(form: forms.Form, cleaned: dict[str, Any], candidate: User) -> None:
    """The two typed passwords agree and pass the password validators (errors on the fields)."""
    password1, password2 = cleaned.get("password1"), cleaned.get("password2")
    if password1 and password2 and password1 != password2:
        form.add_error("password2", forms.ValidationError(_("The two passwords differ."), code="password_mismatch"))
    elif password1:
        try:
            password_validation.validate_password(password1, candidate)
        except forms.ValidationError as error:
            form.add_error("password1", error)


class AccountClaimForm(forms.Form):
    """A patient the desk registered takes up their online account (``clinic.services.account_claim``)."""

    date_of_birth = DateOfBirthField(label=_("Date of birth"), help_text=_("So we know the link reached you."))
    email = forms.EmailField(
        label=_("Email"),
        max_length=254,
        help_text=_("You log in with this address; we send a link to confirm it."),
    )
    password1 = forms.CharField(
        label=_("Password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=password_validation.password_validators_help_text_html(),
    )
    password2 = forms.CharField(
        label=_("Password again"), strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        self.helper = FormHelper()
        self.helper.add_input(Submit("submit", _("Set up my account")))

    def clean_email(self) -> str:
        return self.cleaned_data["email"].strip().lower()

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        candidate = User(email=cleaned.get("email", ""), first_name=self.user.first_name, last_name=self.user.last_name)
        password_pair_check(self, cleaned, candidate)
        return cleaned


class ClinicAuthenticationForm(AuthenticationForm):
    """The login form; an online registration counts only once its email address is confirmed."""

    error_messages = {
        **AuthenticationForm.error_messages,
        "email_unconfirmed": _("Please confirm your email address first: open the link in the email we sent you."),
    }

    def confirm_login_allowed(self, user: User) -> None:
        super().confirm_login_allowed(user)
        if not user.email_verified:
            raise forms.ValidationError(self.error_messages["email_unconfirmed"], code="email_unconfirmed")


class PatientProfileForm(forms.ModelForm):
    first_name = forms.CharField(label=_("First name"), max_length=150)
    last_name = forms.CharField(label=_("Last name"), max_length=150)

    class Meta:
        model = Patient
        fields = (
            "phone",
            "emergency_contact_name",
            "emergency_contact_phone",
            "message_channels",
            "appointment_reminders",
            "rebooking_nudges",
        )
        widgets = {"message_channels": forms.RadioSelect}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["first_name"].initial = self.instance.user.first_name
        self.fields["last_name"].initial = self.instance.user.last_name
        self.order_fields(["first_name", "last_name", *self.Meta.fields])
        self.helper = FormHelper()
        self.helper.add_input(Submit("submit", _("Save changes")))

    def save(self, commit: bool = True) -> Patient:
        patient = super().save(commit=commit)
        user = patient.user
        user.first_name = self.cleaned_data["first_name"]
        user.last_name = self.cleaned_data["last_name"]
        if commit:
            user.save(update_fields=["first_name", "last_name"])
        return patient


class TwoFactorCodeForm(forms.Form):
    """One code: six digits from the authenticator app, or (when allowed) a recovery code."""

    code = forms.CharField(
        label=_("Code"),
        max_length=32,
        strip=True,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "text", "autofocus": True}),
    )

    def __init__(self, *args: Any, submit_label: str = _("Continue"), help_text: str = "", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["code"].help_text = help_text
        self.helper = FormHelper()
        self.helper.add_input(Submit("submit", submit_label))


class PatientSearchForm(forms.Form):
    """The staff's patient search box (``clinic.selectors.patient_search`` reads what is typed)."""

    q = forms.CharField(
        label=_("Find the patient"),
        max_length=150,
        required=False,
        help_text=_("Name, date of birth (dd/mm/yyyy), phone number or email address."),
        widget=forms.TextInput(attrs={"type": "search", "autocomplete": "off", "autofocus": True}),
    )
    page = forms.IntegerField(min_value=1, max_value=10_000, required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if connection.vendor == "postgresql":  # trigram matching; SQLite matches the letters as typed
            self.fields["q"].help_text = _(
                "Name, date of birth (dd/mm/yyyy), phone number or email address. A typo in a name is fine."
            )
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.disable_csrf = True


class UserLanguageForm(forms.ModelForm):
    """The profile's language: one of the clinic's languages, or none (follow the browser)."""

    class Meta:
        model = User
        fields = ("language",)
        labels = {"language": _("Language")}
        help_texts = {"language": _("The language of the pages and of the messages the clinic sends you.")}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["language"].choices = [("", _("As my browser is set")), *settings.LANGUAGES]
        self.helper = FormHelper()
        self.helper.add_input(Submit("submit", _("Save language")))
