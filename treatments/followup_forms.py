"""Forms of the between-session pages: a questionnaire answered from its link, and the
clinician's bounds for a relief-led cadence."""

from __future__ import annotations

from typing import Any

from crispy_forms.bootstrap import InlineRadios
from crispy_forms.helper import FormHelper
from crispy_forms.layout import Div, Layout, Submit
from django import forms
from django.utils.translation import gettext_lazy as _

from treatments.models import Instrument


class QuestionnaireAnswerForm(forms.Form):
    """One required choice per item of the instrument, on its scale, in its order."""

    def __init__(self, *args: Any, instrument: Instrument, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.items = list(instrument.items.all())
        scale = [(value, str(value)) for value in range(instrument.scale_min, instrument.scale_max + 1)]
        for item in self.items:
            self.fields[f"item_{item.position}"] = forms.TypedChoiceField(
                label=f"{item.position}. {item.text}",
                choices=scale,
                coerce=int,
                widget=forms.RadioSelect,
                help_text=_("%(low)s = %(low_label)s; %(high)s = %(high_label)s.")
                % {
                    "low": instrument.scale_min,
                    "low_label": item.min_label,
                    "high": instrument.scale_max,
                    "high_label": item.max_label,
                },
                error_messages={"required": _("Choose a number for this question.")},
            )
        self.helper = FormHelper()
        self.helper.form_id = "questionnaire-form"
        self.helper.layout = Layout(*[InlineRadios(name) for name in self.fields])
        self.helper.add_input(Submit("send", _("Send my answers"), css_class="btn-lg w-100"))

    def answers(self) -> list[int]:
        return [self.cleaned_data[f"item_{item.position}"] for item in self.items]


class ReliefCadenceForm(forms.Form):
    min_days = forms.IntegerField(
        label=_("Shortest interval (days)"),
        min_value=1,
        max_value=365,
        help_text=_("The next session is never due sooner than this after the last one."),
    )
    max_days = forms.IntegerField(
        label=_("Longest interval (days)"),
        min_value=1,
        max_value=365,
        help_text=_("The next session is never due later than this after the last one."),
    )
    locked = forms.BooleanField(
        label=_("Keep the plan's own interval"),
        required=False,
        help_text=_("Ticked: the check-ins are shown but do not move the next due date."),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_class = "row g-2 align-items-end"
        self.helper.layout = Layout(
            Div("min_days", css_class="col-sm-4"),
            Div("max_days", css_class="col-sm-4"),
            Div("locked", css_class="col-12"),
        )
        self.helper.add_input(Submit("save", _("Save cadence"), css_class="btn-sm"))

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("min_days") and data.get("max_days") and data["max_days"] < data["min_days"]:
            self.add_error("max_days", _("Must not be shorter than the shortest interval."))
        return data
