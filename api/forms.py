"""The form on the tokens page."""

from __future__ import annotations

from typing import Any

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Submit
from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from api.models import PersonalAccessToken

VALIDITY_CHOICES = [(7, _("7 days")), (30, _("30 days")), (90, _("90 days")), (180, _("180 days")), (365, _("1 year"))]


class TokenCreateForm(forms.Form):
    name = forms.CharField(
        label=_("Name"),
        max_length=100,
        help_text=_("What you will use it for, e.g. 'practice software' or 'my calendar script'."),
    )
    scope = forms.ChoiceField(
        choices=PersonalAccessToken.Scope.choices,
        initial=PersonalAccessToken.Scope.READ,
        widget=forms.RadioSelect,
        label=_("Scope"),
        help_text=_("Read only is enough to fetch appointments; read and write may also book, cancel and move."),
    )
    valid_days = forms.TypedChoiceField(
        label=_("Valid for"),
        coerce=int,
        help_text=_("The token stops working after this; you can revoke it any time."),
    )

    def __init__(self, *args: Any, max_days: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices = [(days, label) for days, label in VALIDITY_CHOICES if days <= max_days]
        if not choices or choices[-1][0] != max_days:
            choices.append((max_days, ngettext("%(days)d day", "%(days)d days", max_days) % {"days": max_days}))
        self.fields["valid_days"].choices = choices
        self.fields["valid_days"].initial = 30 if max_days >= 30 else max_days
        self.helper = FormHelper()
        self.helper.add_input(Submit("create", _("Make token")))
