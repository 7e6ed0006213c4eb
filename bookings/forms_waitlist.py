"""Input shapes for the waitlist pages.  The rules (dates, screening, who may join) are in the service."""

from __future__ import annotations

from datetime import time, timedelta
from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from bookings.models import WaitlistEntry
from bookings.models.schedules import Weekday
from clinic.forms import DateInput
from clinic.models import Modality, Patient, Practitioner


class WaitlistJoinForm(forms.Form):
    """What the patient can make: a treatment, the days of the week, a time window and a date range."""

    modality = forms.ModelChoiceField(queryset=Modality.objects.active(), label=_("Treatment"))
    practitioner = forms.ModelChoiceField(
        queryset=Practitioner.objects.select_related("user").filter(is_active=True),
        required=False,
        empty_label=_("Anyone who offers it"),
        label=_("Practitioner (optional)"),
        help_text=_("Only offer times with this practitioner."),
    )
    weekdays = forms.TypedMultipleChoiceField(
        choices=Weekday.choices,
        coerce=int,
        widget=forms.CheckboxSelectMultiple,
        label=_("Days you can come"),
        initial=[0, 1, 2, 3, 4],
    )
    earliest_time = forms.TimeField(
        label=_("From"),
        initial=time(8, 0),
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        help_text=_("The earliest start you can make (clinic time)."),
    )
    latest_time = forms.TimeField(
        label=_("Until"),
        initial=time(20, 0),
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        help_text=_("The session must have ended by then."),
    )
    available_from = forms.DateField(
        label=_("First day"), widget=DateInput(), help_text=_("From today at the earliest.")
    )
    available_until = forms.DateField(
        label=_("Last day"), widget=DateInput(), help_text=_("We stop offering times after this day.")
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        today = timezone.localdate()
        self.fields["available_from"].initial = today
        self.fields["available_until"].initial = today + timedelta(days=28)

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("earliest_time") and data.get("latest_time") and data["latest_time"] <= data["earliest_time"]:
            self.add_error("latest_time", _("The latest time must be after the earliest."))
        starts, ends = data.get("available_from"), data.get("available_until")
        if starts and ends and ends < starts:
            self.add_error("available_until", _("The last day must be on or after the first day."))
        modality, practitioner = data.get("modality"), data.get("practitioner")
        if modality and practitioner and not practitioner.modalities.filter(pk=modality.pk).exists():
            self.add_error(
                "practitioner",
                _("%(practitioner)s does not offer %(modality)s.")
                % {"practitioner": practitioner.full_name, "modality": modality.name},
            )
        return data


class StaffWaitlistJoinForm(WaitlistJoinForm):
    """The desk (or the care team) puts a patient on the list, e.g. on the phone."""

    patient = forms.ModelChoiceField(
        label=_("Patient"), queryset=Patient.objects.none(), help_text=_("The patient to put on the list.")
    )
    note = forms.CharField(
        required=False,
        max_length=300,
        label=_("Note (optional)"),
        help_text=_("Seen by staff only, e.g. 'prefers a call back'."),
    )
    field_order = ["patient"]

    def __init__(self, *args: Any, patients: QuerySet[Patient], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["patient"].queryset = patients.select_related("user")


class WaitlistFilterForm(forms.Form):
    """Which part of the list staff look at."""

    modality = forms.ModelChoiceField(
        queryset=Modality.objects.all(), required=False, label=_("Treatment"), empty_label=_("All treatments")
    )
    status = forms.ChoiceField(
        choices=[("", _("All")), *WaitlistEntry.Status.choices],
        required=False,
        initial=WaitlistEntry.Status.WAITING,
        label=_("Status"),
    )
