"""Template helpers shared by every app's form pages."""

from __future__ import annotations

from typing import Any

from django import template

register = template.Library()


@register.filter
def has_required_fields(form: Any) -> bool:
    """True when the form shows a "*" somewhere, so the page should say what it means."""
    fields = getattr(form, "fields", None) or {}
    return any(field.required and not field.widget.is_hidden for field in fields.values())
