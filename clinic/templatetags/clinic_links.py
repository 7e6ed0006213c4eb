"""``{% links "place" subject as name %}``: the links upper apps registered at a place (see clinic.links)."""

from __future__ import annotations

from typing import Any

from django import template

from clinic.links import LinkTarget, links_for

register = template.Library()


@register.simple_tag(takes_context=True)
def links(context: template.Context, place: str, subject: Any = None) -> dict[str, LinkTarget]:
    """The links at ``place`` for the page's user, by key, so a template can place each one."""
    request = context.get("request")
    user = getattr(request, "user", None) or context.get("user")
    return {target.key: target for target in links_for(place, user=user, subject=subject)}
