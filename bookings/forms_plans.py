"""Input for the care-plan pages: shapes only; the rules are in bookings.services.plans."""

from __future__ import annotations

import calendar
from datetime import date, time, timedelta
from typing import Any

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Submit
from django import forms
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from bookings.models import CarePlan, PlanPhase, PlanTemplate
from bookings.services.plans import MAX_SERIES_SESSIONS
from clinic.clinic_time import format_when
from clinic.forms import DateInput
from clinic.models import Patient, Practitioner

PLANNING_REACH = timedelta(days=366)


class TimeInput(forms.TimeInput):
    input_type = "time"


class PatientChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Patient) -> str:
        return _("%(name)s (%(contact)s, born %(day)s)") % {
            "name": obj.full_name,
            "contact": obj.user.email or obj.phone,
            "day": format_when(obj.date_of_birth, "date"),
        }


class CarePlanAssignForm(forms.Form):
    """A practitioner puts a patient on a plan template from a start date."""

    # Chosen beforehand through the patient search (clinic.patient_picker), never from a list of everyone.
    patient = PatientChoiceField(queryset=Patient.objects.none(), widget=forms.HiddenInput)
    template = forms.ModelChoiceField(
        label=_("Plan"),
        queryset=PlanTemplate.objects.active().prefetch_related("phases__modality"),
        help_text=_("The course of treatment; admins edit the plans and their phases."),
    )
    start_date = forms.DateField(
        label=_("Start date"), widget=DateInput, help_text=_("The first session is due on this day.")
    )
    practitioner = forms.ModelChoiceField(
        label=_("Responsible practitioner"),
        queryset=Practitioner.objects.select_related("user").filter(is_active=True),
        required=False,
    )
    notes = forms.CharField(
        label=_("Notes"),
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        help_text=_("Why this plan; seen by staff only."),
    )

    def __init__(self, *args: Any, patients: QuerySet[Patient] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if patients is not None:
            # Only the patients of the user's care team are offered (and accepted).
            self.fields["patient"].queryset = patients.select_related("user").filter(user__is_active=True)
        self.helper = FormHelper()
        self.helper.add_input(Submit("submit", _("Start the plan")))

    def clean_start_date(self) -> date:
        start = self.cleaned_data["start_date"]
        today = timezone.localdate()
        if abs(start - today) > PLANNING_REACH:
            raise forms.ValidationError(_("Choose a start date within a year of today."), code="out_of_reach")
        return start


class PlanSeriesForm(forms.Form):
    """Book a phase of a plan as a series of sessions at one weekday and local time."""

    phase = forms.ModelChoiceField(queryset=PlanPhase.objects.none(), empty_label=None)
    first_date = forms.DateField(
        label=_("From"), widget=DateInput, help_text=_("The first session is the chosen weekday on or after this date.")
    )
    weekday = forms.TypedChoiceField(
        coerce=int, choices=[(number, name) for number, name in enumerate(calendar.day_name)]
    )
    local_time = forms.TimeField(
        label=_("Time"), widget=TimeInput, help_text=_("Clinic time; stays the same across a clock change.")
    )
    count = forms.IntegerField(
        label=_("Number of sessions"), min_value=1, max_value=MAX_SERIES_SESSIONS, help_text=_("How many to book.")
    )
    interval_days = forms.IntegerField(
        label=_("Days between sessions"),
        min_value=1,
        max_value=365,
        help_text=_("Must fit the phase's rhythm (7 = weekly)."),
    )
    practitioner = forms.ModelChoiceField(
        queryset=Practitioner.objects.select_related("user").filter(is_active=True),
        required=False,
        empty_label=_("Whoever is free"),
        help_text=_("Only this practitioner, or anyone who delivers the treatment."),
    )

    def __init__(self, *args: Any, plan: CarePlan, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["phase"].queryset = plan.template.phases.select_related("modality").order_by("position")
        self.helper = FormHelper()
        self.helper.add_input(Submit("submit", _("Book the series")))

    @staticmethod
    def initial_for(*, plan: CarePlan) -> dict[str, Any]:
        """Suggest the phase the patient is in, from the next due date, weekly at 09:00."""
        today = timezone.localdate()
        cadence = plan.cadence(today)
        phase = cadence.phase or plan.template.phases.order_by("-position").first()
        first = max(cadence.next_due_on or today, today + timedelta(days=1))
        if phase is None:
            return {"first_date": first, "weekday": first.weekday(), "local_time": time(9, 0)}
        remaining = 4
        if not phase.is_open_ended and cadence.phase_session_number:
            remaining = phase.sessions - cadence.phase_session_number + 1
        return {
            "phase": phase,
            "first_date": first,
            "weekday": first.weekday(),
            "local_time": time(9, 0),
            "count": remaining,
            "interval_days": phase.interval_min_days,
            "practitioner": plan.practitioner,
        }


class AlternativeTimeForm(forms.Form):
    """The offered alternative a practitioner picks for an unavailable occurrence."""

    starts_at = forms.DateTimeField(widget=forms.HiddenInput)

    def clean_starts_at(self) -> Any:
        starts_at = self.cleaned_data["starts_at"]
        if timezone.is_naive(starts_at):
            starts_at = timezone.make_aware(starts_at)
        return starts_at


class CarePlanImprovementForm(forms.Form):
    """A clinician moves the plan past its "until pain decreases" phase, with the reason shown on the plan."""

    evidence = forms.CharField(
        label=_("Why the plan moves on now"),
        max_length=300,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("e.g. 'Pain manageable at work and sleeping through'; shown on the plan."),
    )
