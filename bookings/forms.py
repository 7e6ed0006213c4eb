"""Input shapes for booking pages.  Rules across rows (availability, screening) live in the services."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from clinic.clinic_time import clinic_zone
from clinic.forms import CalendarDateField, DateInput, calendar_date_validate
from clinic.models import Modality, Patient, Practitioner

SLOT_FORMAT = "%Y-%m-%dT%H:%MZ"


def slot_value(moment: datetime) -> str:
    """A start time as it travels in URLs and hidden fields: UTC, minute precision."""
    return moment.astimezone(UTC).strftime(SLOT_FORMAT)


def parse_slot(value: str) -> datetime | None:
    try:
        return datetime.strptime(value, SLOT_FORMAT).replace(tzinfo=UTC)
    except (TypeError, ValueError):
        return None


class SlotField(forms.CharField):
    """A start time chosen from the list of free times."""

    widget = forms.HiddenInput

    def to_python(self, value: Any) -> datetime | None:
        value = super().to_python(value)
        if not value:
            return None
        moment = parse_slot(value)
        try:
            calendar_date_validate(moment.date() if moment else None)
        except (forms.ValidationError, TypeError):
            moment = None
        if moment is None:
            raise forms.ValidationError(_("That start time is not valid; please choose one of the times shown."))
        return timezone.localtime(moment)

    def prepare_value(self, value: Any) -> Any:
        return slot_value(value) if isinstance(value, datetime) else value


class BookingConfirmForm(forms.Form):
    starts_at = SlotField(
        label=_("Start time"),
        error_messages={"required": _("No start time was chosen; please choose one of the times shown.")},
    )


class CancelForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason (optional)"),
        required=False,
        max_length=300,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Helps the clinic plan; not required."),
    )


class WeekForm(forms.Form):
    """Which week of free times to show (any date in it; today if absent)."""

    week = CalendarDateField(required=False)

    def week_start(self) -> date:
        day = (self.cleaned_data.get("week") if self.is_valid() else None) or timezone.localdate()
        return day - timedelta(days=day.weekday())


class StaffBookingSearchForm(forms.Form):
    """Phone booking, step one: who, what and which week."""

    # Chosen beforehand through the patient search (clinic.patient_picker), never from a list of everyone.
    patient = forms.ModelChoiceField(queryset=Patient.objects.none(), widget=forms.HiddenInput)
    modality = forms.ModelChoiceField(queryset=Modality.objects.active(), label=_("Treatment"))
    practitioner = forms.ModelChoiceField(
        queryset=Practitioner.objects.select_related("user").filter(is_active=True),
        required=False,
        empty_label=_("Anyone free"),
        help_text=_("Leave empty to offer every practitioner who delivers the treatment."),
    )
    week = CalendarDateField(
        required=False,
        label=_("Week of"),
        widget=DateInput(),
        help_text=_("Any date in the week to show; this week if empty."),
    )

    def __init__(self, *args: Any, patients: QuerySet[Patient], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["patient"].queryset = patients.select_related("user")


class StaffBookingForm(forms.Form):
    """Phone booking, step two: the chosen time (hidden fields from the list of free times)."""

    patient = forms.ModelChoiceField(queryset=Patient.objects.none(), widget=forms.HiddenInput)
    modality = forms.ModelChoiceField(queryset=Modality.objects.active(), widget=forms.HiddenInput)
    practitioner = forms.ModelChoiceField(
        queryset=Practitioner.objects.filter(is_active=True), required=False, widget=forms.HiddenInput
    )
    starts_at = SlotField()

    def __init__(self, *args: Any, patients: QuerySet[Patient], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["patient"].queryset = patients


class TimeOffForm(forms.Form):
    """Block time in the practitioner's own calendar (local clinic times)."""

    date = forms.DateField(label=_("Date"), widget=DateInput(), help_text=_("The day to block."))
    start_time = forms.TimeField(label=_("From"), widget=forms.TimeInput(attrs={"type": "time"}))
    end_time = forms.TimeField(label=_("Until"), widget=forms.TimeInput(attrs={"type": "time"}))
    reason = forms.CharField(
        label=_("Reason"), required=False, max_length=200, help_text=_("Seen by staff only, e.g. 'training'.")
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("start_time") and data.get("end_time") and data["end_time"] <= data["start_time"]:
            self.add_error("end_time", _("The end must be after the start."))
        return data

    def range(self) -> tuple[datetime, datetime]:
        zone = clinic_zone()
        day = self.cleaned_data["date"]
        return (
            datetime.combine(day, self.cleaned_data["start_time"], tzinfo=zone),
            datetime.combine(day, self.cleaned_data["end_time"], tzinfo=zone),
        )
