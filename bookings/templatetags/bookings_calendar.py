"""Words for the staff calendar's cells (the grid in ``bookings.calendar`` holds only facts)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django import template
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from bookings.calendar import CalendarCell, CellState
from bookings.forms import slot_value

register = template.Library()

STATE_WORDS = {
    CellState.FREE: gettext_lazy("Free"),
    CellState.BOOKED: gettext_lazy("Booked"),
    CellState.PARTLY_BOOKED: gettext_lazy("Partly booked"),
    CellState.BUFFER: gettext_lazy("Buffer after a session"),
    CellState.TIME_OFF: gettext_lazy("Time off"),
    CellState.OUTSIDE_HOURS: gettext_lazy("Outside hours"),
    CellState.CLOSED: gettext_lazy("Clinic closed"),
}


@register.simple_tag
def cell_state_label(cell: CalendarCell) -> str:
    """What a cell without an appointment starting in it holds, e.g. "Free" or "2 of 3 places taken"."""
    if cell.state == CellState.PARTLY_BOOKED:
        return _("%(taken)d of %(places)d places taken") % {"taken": cell.taken, "places": cell.lane.capacity}
    if cell.state == CellState.CLOSED and cell.reason:
        return _("Clinic closed: %(reason)s") % {"reason": cell.reason}
    return str(STATE_WORDS.get(cell.state, cell.state))


@register.filter
def slot(moment: datetime) -> str:
    """A start time as the move form expects it (see ``bookings.forms.slot_value``)."""
    return slot_value(moment)


@register.filter
def lookup(mapping: dict, key: Any) -> Any:
    return mapping.get(key, "")
