"""Filters for the booking pages."""

from __future__ import annotations

from datetime import datetime

from django import template

from bookings.forms import slot_value as format_slot

register = template.Library()


@register.filter
def slot_value(moment: datetime) -> str:
    """A start time in the form the booking URLs and hidden fields carry it."""
    return format_slot(moment)
