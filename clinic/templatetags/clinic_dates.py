"""``{{ appointment.starts_at|when:"day_time" }}``: dates in the clinic's named formats.

A builtin (see ``TEMPLATES``), so templates need no ``{% load %}``.  The names are the keys of
``CLINIC_FORMATS`` in ``clinic.formats.<language>.formats``; the active language chooses the words.
"""

from __future__ import annotations

from datetime import date, datetime, time

from django import template

from clinic.clinic_time import format_when

register = template.Library()


@register.filter(expects_localtime=False, is_safe=False)
def when(value: datetime | date | time | None, name: str = "day_time") -> str:
    return format_when(value, name)
