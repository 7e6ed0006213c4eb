"""Words for the staff calendar's cells (the grid in ``bookings.calendar`` holds only facts)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django import template

from bookings.calendar import CalendarCell, CellState
from bookings.forms import slot_value

register = template.Library()

STATE_WORDS = {
    CellState.FREE: "Free",
    CellState.BOOKED: "Booked",
    CellState.PARTLY_BOOKED: "Partly booked",
    CellState.BUFFER: "Buffer after a session",
    CellState.TIME_OFF: "Time off",
    CellState.OUTSIDE_HOURS: "Outside hours",
    CellState.CLOSED: "Clinic closed",
}


@register.simple_tag
def cell_state_label(cell: CalendarCell) -> str:
    """What a cell without an appointment starting in it holds, e.g. "Free" or "2 of 3 places taken"."""
    if cell.state == CellState.PARTLY_BOOKED:
        return f"{cell.taken} of {cell.lane.capacity} places taken"
    if cell.state == CellState.CLOSED and cell.reason:
        return f"Clinic closed: {cell.reason}"
    return STATE_WORDS.get(cell.state, cell.state)


@register.filter
def slot(moment: datetime) -> str:
    """A start time as the move form expects it (see ``bookings.forms.slot_value``)."""
    return slot_value(moment)


@register.filter
def lookup(mapping: dict, key: Any) -> Any:
    return mapping.get(key, "")
