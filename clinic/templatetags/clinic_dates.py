"""``{{ appointment.starts_at|when:"day_time" }}``: dates in the clinic's named formats.

A builtin (see ``TEMPLATES``), so templates need no ``{% load %}``; ``{% now_when %}`` is the present
moment.  The names are the keys of ``CLINIC_FORMATS`` in ``clinic.formats.<language>.formats``; the
active language chooses the words.
"""

from __future__ import annotations

from datetime import date, datetime, time

from django import template
from django.utils import timezone

from clinic.clinic_time import format_when

register = template.Library()


@register.filter(expects_localtime=False, is_safe=False)
def when(value: datetime | date | time | None, name: str = "day_time") -> str:
    return format_when(value, name)


@register.simple_tag
def now_when(name: str = "day_time") -> str:
    """``{% now_when "date_time" as printed_at %}``: the present moment in a named format (``{% now %}``
    takes only a hand-written format)."""
    return format_when(timezone.now(), name)
