"""Input for the care-team pages: shapes only; the rules are in clinic.care_team."""

from __future__ import annotations

from typing import Any

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Submit
from django import forms
from django.utils.translation import gettext_lazy as _
from phonenumber_field.formfields import PhoneNumberField

from clinic.care_team import MIN_EMERGENCY_REASON
from clinic.forms import DateOfBirthField
from clinic.models import Practitioner


class PractitionerChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Practitioner) -> str:
        return f"{obj.full_name} ({obj.title})" if obj.title else obj.full_name


def _active_practitioners() -> Any:
    return Practitioner.objects.select_related("user").filter(is_active=True, user__is_active=True)


class CareTeamAssignForm(forms.Form):
    """The desk or an admin puts a practitioner on the patient's care team."""

    practitioner = PractitionerChoiceField(queryset=_active_practitioners(), label=_("Practitioner"))
    reason = forms.CharField(
        label=_("Reason"), max_length=500, required=False, help_text=_("e.g. 'review the new screening'.")
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_tag = False


class CareTeamReferForm(forms.Form):
    """A member of the care team refers a colleague."""

    practitioner = PractitionerChoiceField(queryset=_active_practitioners(), label=_("Refer to"))
    reason = forms.CharField(
        label=_("Reason"), max_length=500, help_text=_("Why the colleague should see the patient.")
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_tag = False


class BreakGlassForm(forms.Form):
    """Emergency access to a patient outside one's care team: the reason is read by an admin."""

    patient_email = forms.EmailField(label=_("Patient's email address"))
    reason = forms.CharField(
        label=_("Reason"),
        widget=forms.Textarea(attrs={"rows": 3}),
        min_length=MIN_EMERGENCY_REASON,
        max_length=500,
        help_text=_("What the emergency is. An admin reviews every emergency access."),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.add_input(Submit("submit", _("Open the record (emergency)"), css_class="btn-danger"))


class DeskPatientForm(forms.Form):
    """The front desk registers a patient; email is optional (they claim the account by a one-time link)."""

    first_name = forms.CharField(label=_("First name"), max_length=150)
    last_name = forms.CharField(label=_("Last name"), max_length=150)
    date_of_birth = DateOfBirthField(label=_("Date of birth"))
    phone = PhoneNumberField(
        label=_("Phone"), help_text=_("The number the clinic calls or texts about bookings, e.g. 07911 123456.")
    )
    email = forms.EmailField(
        label=_("Email"),
        max_length=254,
        required=False,
        help_text=_("Optional. If given, the link to the online account is emailed."),
    )
    practitioner = PractitionerChoiceField(
        queryset=_active_practitioners(),
        required=False,
        label=_("Care team"),
        empty_label=_("Nobody yet"),
        help_text=_("Optional: a practitioner to put on the patient's care team, e.g. to review their screening."),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.add_input(Submit("submit", _("Register the patient")))

    def clean_email(self) -> str | None:
        return self.cleaned_data["email"].strip().lower() or None
