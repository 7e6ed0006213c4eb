"""Input shapes for moving an appointment from the staff calendar (the rules live in ``appointment_move``)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Submit
from django import forms
from django.utils.translation import gettext_lazy as _

from bookings.forms import parse_slot, slot_value
from bookings.models import Appointment
from bookings.selectors import FreeSlot
from clinic.clinic_time import format_when
from clinic.forms import CalendarDateField, DateInput
from clinic.models import Practitioner

FIND = "find"
MOVE = "move"


class AppointmentMoveForm(forms.Form):
    """Pick a day and a practitioner, then one of the free times offered for them.

    Without JavaScript the page is one form with two buttons: "Show free times" lists the free
    times of the chosen day and practitioner, "Move" moves.  Dragging an appointment on the
    calendar posts the same three fields and the "Move" button.
    """

    day = CalendarDateField(label=_("Day"), widget=DateInput(), help_text=_("The day to move the appointment to."))
    practitioner = forms.ModelChoiceField(
        queryset=Practitioner.objects.none(),
        empty_label=None,
        label=_("Practitioner"),
        help_text=_("Only practitioners who deliver this treatment are listed."),
    )
    starts_at = forms.ChoiceField(
        label=_("Free time"),
        required=False,
        widget=forms.RadioSelect,
        help_text=_("The free times of that practitioner on that day, in the clinic's time."),
    )

    def __init__(
        self,
        *args: Any,
        appointment: Appointment,
        free_times: Callable[[date, Practitioner], list[FreeSlot]],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.appointment = appointment
        self.fields["practitioner"].queryset = Practitioner.objects.filter(
            is_active=True, modalities=appointment.modality_id
        ).select_related("user")
        day, practitioner = self._chosen()
        slots = free_times(day, practitioner) if day and practitioner else []
        current = (appointment.starts_at, appointment.practitioner_id)
        self.fields["starts_at"].choices = [
            (slot_value(slot.starts_at), format_when(slot.starts_at, "time"))
            for slot in slots
            if (slot.starts_at, practitioner.pk) != current
        ]
        self.helper = FormHelper()
        find = Submit(FIND, _("Show free times"))
        find.field_classes = "btn btn-outline-secondary"  # the secondary action; Submit alone is primary
        self.helper.add_input(find)
        self.helper.add_input(Submit(MOVE, _("Move appointment"), css_class="btn-primary"))

    def _chosen(self) -> tuple[date | None, Practitioner | None]:
        """The day and practitioner the free times are for: as posted when valid, else the initial ones."""
        values = []
        for name in ("day", "practitioner"):
            value = self.initial.get(name)
            if self.is_bound:
                try:
                    value = self.fields[name].clean(self.fields[name].widget.value_from_datadict(self.data, {}, name))
                except forms.ValidationError:
                    value = None
            values.append(value)
        return values[0], values[1]

    def clean_starts_at(self) -> datetime | None:
        value = self.cleaned_data.get("starts_at")
        return parse_slot(value) if value else None

    def require_time(self) -> bool:
        """For "Move": a time must be chosen (for "Show free times" it need not)."""
        if self.is_valid() and self.cleaned_data["starts_at"] is None:
            self.add_error("starts_at", _("Choose one of the free times."))
        return self.is_valid()
