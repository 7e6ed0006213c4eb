"""Session log forms, built for a tablet: big radio rows for pain, only the readings the kind needs.

The forms check input shape; the plausibility rules (exposure bounds, device range,
blood-pressure ceiling) come from ``SessionLog.clean()``, which ModelForm validation
runs on the pre-filled instance, so the form and the services share one rule set.
"""

from __future__ import annotations

import contextlib
from typing import Any

from crispy_forms.bootstrap import InlineRadios
from crispy_forms.helper import FormHelper
from crispy_forms.layout import Div, Field, Fieldset, Layout, Submit
from django import forms
from django.forms.utils import ErrorDict, ErrorList
from django.utils import formats
from django.utils.translation import gettext_lazy as _

from clinic.forms import CalendarDateField, DateInput
from clinic.models import Resource
from treatments.models import (
    KIND_ACUPUNCTURE,
    KIND_LOCAL,
    KIND_WBC,
    AdverseEvent,
    ColdApplicationMethod,
    SessionLog,
)

COMMON_FIELDS = ("pain_before", "pain_after", "duration_minutes", "pain_location")
SOAP_FIELDS = ("subjective", "objective", "assessment", "plan")
KIND_TITLES = {
    KIND_WBC: _("Whole-body cryotherapy"),
    KIND_LOCAL: _("Localized cryotherapy"),
    KIND_ACUPUNCTURE: _("Acupuncture"),
}


class MinutesField(forms.IntegerField):
    """Entered in minutes, stored in seconds (needle retention)."""

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, int) and not isinstance(value, bool):
            return value // 60
        return value

    def to_python(self, value: Any) -> int | None:
        minutes = super().to_python(value)
        return None if minutes is None else minutes * 60


class SessionLogForm(forms.ModelForm):
    """The log for one session; pass a pre-filled instance (``session_log_prepare``)."""

    reason = forms.CharField(
        label=_("Reason for the amendment"),
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        help_text=_("Required: this record is signed, so the earlier version is kept with your reason."),
    )

    class Meta:
        model = SessionLog
        # Every clinical field the model lets a practitioner change; __init__ keeps those of the kind.
        fields = tuple(name.removesuffix("_id") for name in SessionLog.CLINICAL_FIELDS)
        widgets = {
            "pain_before": forms.RadioSelect,
            "pain_after": forms.RadioSelect,
            "pain_location": forms.RadioSelect,
            "subjective": forms.Textarea(attrs={"rows": 2}),
            "objective": forms.Textarea(attrs={"rows": 2}),
            "assessment": forms.Textarea(attrs={"rows": 2}),
            "plan": forms.Textarea(attrs={"rows": 2}),
            "points_used": forms.Textarea(attrs={"rows": 2}),
        }
        error_messages = {
            "pain_before": {"invalid_choice": _("Pain is scored as a whole number from 0 to 10.")},
            "pain_after": {"invalid_choice": _("Pain is scored as a whole number from 0 to 10.")},
        }

    def __init__(self, *args: Any, amending: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        kind = self.instance.kind
        wanted = {*COMMON_FIELDS, *SOAP_FIELDS, *SessionLog.KIND_FIELDS[kind]}
        if amending and self.instance.is_signed:
            wanted.add("reason")
            self.fields["reason"].required = True
        for name in list(self.fields):
            if name not in wanted:
                del self.fields[name]
        for name in ("pain_before", "pain_after"):
            self.fields[name].choices = [choice for choice in self.fields[name].choices if choice[0] != ""]
        self.fields["pain_location"].choices = [c for c in self.fields["pain_location"].choices if c[0] != ""]
        self.fields["duration_minutes"].widget.attrs.update({"inputmode": "numeric"})
        self._kind_fields_tune(kind)
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.disable_csrf = True
        self.helper.layout = Layout(
            Fieldset(
                _("Pain and session"),
                InlineRadios("pain_before"),
                InlineRadios("pain_after"),
                Div(
                    Div("duration_minutes", css_class="col-sm-4"),
                    Div(InlineRadios("pain_location"), css_class="col-sm-8"),
                    css_class="row",
                ),
            ),
            Fieldset(KIND_TITLES[kind], *SessionLog.KIND_FIELDS[kind]),
            Fieldset(_("Notes (SOAP)"), *SOAP_FIELDS),
            *(["reason"] if "reason" in self.fields else []),
        )

    def _kind_fields_tune(self, kind: str) -> None:
        modality = self.instance.modality
        for name in SessionLog.KIND_FIELDS[kind]:  # the readings this kind needs, as the model requires them
            self.fields[name].required = True
        if "exposure_seconds" in self.fields:
            low, high = modality.exposure_min_seconds, modality.exposure_max_seconds
            if kind == KIND_ACUPUNCTURE:
                self.fields["exposure_seconds"] = MinutesField(
                    label=_("Needle retention (minutes)"),
                    min_value=1,
                    help_text=_("Usually %(low)s-%(high)s minutes.") % {"low": low // 60, "high": high // 60},
                )
            else:
                field = self.fields["exposure_seconds"]
                field.label = _("Exposure (seconds)") if kind == KIND_WBC else _("Cold applied for (seconds)")
                if kind == KIND_LOCAL:
                    field.help_text = "; ".join(
                        _("%(method)s (%(low)s to %(high)s °C): %(shortest)s-%(longest)s seconds")
                        % {
                            "method": method.name,
                            "low": formats.localize(method.temperature_from_c),
                            "high": formats.localize(method.temperature_to_c),
                            "shortest": method.exposure_min_seconds,
                            "longest": method.exposure_max_seconds,
                        }
                        for method in ColdApplicationMethod.objects.filter(is_active=True)
                    )
                else:
                    field.help_text = _("Between %(low)s and %(high)s seconds for this treatment.") % {
                        "low": low,
                        "high": high,
                    }
                field.widget.attrs.update({"inputmode": "numeric"})
        if "temperature_c" in self.fields:
            field = self.fields["temperature_c"]
            field.label = _("Chamber temperature (°C)") if kind == KIND_WBC else _("Device temperature (°C)")
            device = self.instance.resource
            if device and device.temperature_min_c is not None:
                field.help_text = _("%(device)s works between %(low)s and %(high)s °C.") % {
                    "device": device,
                    "low": formats.localize(device.temperature_min_c),
                    "high": formats.localize(device.temperature_max_c),
                }
        if kind == KIND_WBC:
            for name in ("bp_systolic", "bp_diastolic"):
                self.fields[name].widget.attrs.update({"inputmode": "numeric"})
            self.fields["bp_systolic"].help_text = _(
                "Measured just before entry; above %(systolic)s/%(diastolic)s the session must not start."
            ) % {"systolic": self.instance.bp_systolic_max, "diastolic": self.instance.bp_diastolic_max}
            go = forms.BooleanField(
                label=_("Go: the patient confirms nothing has changed since their screening"),
                required=True,
                help_text=_(
                    "No new illness, medication, injury, pregnancy or symptoms. If anything changed, "
                    "do not start: the screening must be reviewed first."
                ),
                error_messages={
                    "required": _(
                        "Confirm nothing changed since screening, or do not start the session "
                        "and have the screening reviewed."
                    )
                },
            )
            self.fields["unchanged_since_screening"] = go
        if kind == KIND_LOCAL:
            self.fields["resource"].queryset = Resource.objects.filter(kind=Resource.Kind.DEVICE, is_active=True)
            self.fields["resource"].label = _("Device")
        if kind == KIND_ACUPUNCTURE:
            self.fields["needle_count"].widget.attrs.update({"inputmode": "numeric"})
            self.fields["electro_stimulation"] = forms.TypedChoiceField(
                label=_("Electro-stimulation used"),
                choices=[("no", _("No")), ("yes", _("Yes"))],
                coerce=lambda value: value == "yes",
                widget=forms.RadioSelect,
                initial="no",
            )
            self.initial["electro_stimulation"] = "yes" if self.instance.electro_stimulation else "no"

    def _post_clean(self) -> None:
        # Model.clean() repeats "enter the ..." for a field the form already refused;
        # show each field's own form error once rather than two messages for one slip.
        refused = {name: errors.copy() for name, errors in self._errors.items()}
        super()._post_clean()
        self._errors.update(refused)

    def clinical_values(self) -> dict[str, Any]:
        """The cleaned readings, ready for ``session_log_create`` / ``session_log_update``."""
        return {name: value for name, value in self.cleaned_data.items() if name != "reason"}

    def shown_unchecked(self) -> SessionLogForm:
        """Re-show what was typed without judging it (after "Add another event", nothing is saved).

        An empty error dict stops rendering from running validation, so a half-filled
        form is not painted red merely because the practitioner asked for one more row.
        """
        self._errors = ErrorDict()
        return self


class AdverseEventForm(forms.ModelForm):
    """One adverse event. A blank new row is optional: no required marks until something is typed."""

    class Meta:
        model = AdverseEvent
        fields = ("kind", "severity", "description", "action_taken")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = [("", _("Choose the event…")), *AdverseEvent.Kind.choices]
        # A blank extra row may stay blank, so its fields are shown without "*"; once
        # anything is typed in it, clean() asks for the same fields as before.
        self.needed_once_started = [name for name, field in self.fields.items() if field.required]
        if self.empty_permitted:
            for name in self.needed_once_started:
                self.fields[name].required = False

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        for name in self.needed_once_started:
            if name not in self.errors and data.get(name) in (None, ""):
                self.add_error(
                    name, forms.ValidationError(self.fields[name].error_messages["required"], code="required")
                )
        return data


# The name of the submit button that re-shows the form with one more adverse-event row.
ADD_EVENT_ROW = "add_event"


class BaseAdverseEventFormSet(forms.BaseFormSet):
    def __init__(self, data: Any = None, *args: Any, **kwargs: Any) -> None:
        self.adding_row = data is not None and ADD_EVENT_ROW in data
        if self.adding_row:
            data = data.copy()
            total = f"{kwargs.get('prefix') or self.get_default_prefix()}-TOTAL_FORMS"
            with contextlib.suppress(ValueError):  # a broken management form is reported by the formset
                data[total] = str(min(int(data.get(total, 0)) + 1, self.max_num))
        super().__init__(data, *args, **kwargs)

    def events(self) -> list[dict[str, Any]]:
        return [
            form.cleaned_data for form in self.forms if form.cleaned_data and not form.cleaned_data.get("DELETE", False)
        ]

    @property
    def can_add_row(self) -> bool:
        return self.total_form_count() < self.max_num

    def shown_unchecked(self) -> BaseAdverseEventFormSet:
        """Re-show the rows (one more) without judging them: see ``SessionLogForm.shown_unchecked``."""
        self._non_form_errors = ErrorList()
        self._errors = []
        for form in self.forms:
            form._errors = ErrorDict()
            self._errors.append(form._errors)
        return self


AdverseEventFormSet = forms.formset_factory(
    AdverseEventForm,
    formset=BaseAdverseEventFormSet,
    extra=1,
    can_delete=True,
    can_delete_extra=False,
    max_num=10,
    validate_max=True,
)


class FieldWhenPresent(Field):
    """A field some forms of a formset lack: only saved events have "Remove" (``can_delete_extra=False``).

    Crispy applies one layout to every form and logs a traceback for each field a form
    does not have, so the blank new row is rendered without that field instead.
    """

    def render(self, form: forms.BaseForm, context: Any, **kwargs: Any) -> str:
        if not all(name in form.fields for name in self.fields):
            return ""
        return super().render(form, context, **kwargs)


class AdverseEventFormSetHelper(FormHelper):
    """Renders each adverse event as a compact row (crispy, no hand-written markup)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.form_tag = False
        self.disable_csrf = True
        self.layout = Layout(
            Div(
                Div("kind", css_class="col-md-3"),
                Div("severity", css_class="col-md-2"),
                Div("description", css_class="col-md-3"),
                Div("action_taken", css_class="col-md-3"),
                Div(FieldWhenPresent("DELETE"), css_class="col-md-1"),
                css_class="row border-bottom mb-2",
            )
        )


class ReportFilterForm(forms.Form):
    date_from = CalendarDateField(label=_("From"), widget=DateInput())
    date_to = CalendarDateField(label=_("To"), widget=DateInput())
    group_by = forms.ChoiceField(
        label=_("Per"), choices=[("modality", _("Treatment")), ("practitioner", _("Practitioner"))], initial="modality"
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_method = "get"
        self.helper.form_class = "row g-2 align-items-end"
        self.helper.layout = Layout(
            Div("date_from", css_class="col-sm-3"),
            Div("date_to", css_class="col-sm-3"),
            Div("group_by", css_class="col-sm-3"),
        )
        self.helper.add_input(Submit("submit", _("Show"), css_class="ms-2"))

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("date_from") and data.get("date_to") and data["date_from"] > data["date_to"]:
            raise forms.ValidationError(_("The start date must be on or before the end date."), code="order")
        if data.get("date_from") and data.get("date_to") and (data["date_to"] - data["date_from"]).days > 3660:
            raise forms.ValidationError(_("Choose a range of at most ten years."), code="too_long")
        return data
