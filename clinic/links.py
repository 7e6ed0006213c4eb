"""Places on a lower app's pages where an app above it may add a link.

The layers of DESIGN.md let an app know only the apps below it, so a screening page
cannot name a booking page, nor a booking page a session log. Instead the lower app
names a *place* (``"appointment.actions"``) and renders whatever is registered there;
the upper app registers its link in its ``AppConfig.ready()``. Without the upper app
installed the place is simply empty.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.urls import reverse

__all__ = ["Link", "LinkTarget", "links_for", "register_link"]


@dataclass(frozen=True)
class LinkTarget:
    """A link as a page shows it: the words, the address and its kind ("primary", "danger", ...)."""

    key: str
    label: str
    url: str
    emphasis: str


@dataclass(frozen=True)
class Link:
    key: str
    label: str | Callable[[Any], str]  # or, from the subject, e.g. "Log session" / "Open session log"
    url_name: str
    url_args: Callable[[Any], tuple[Any, ...]] = lambda subject: ()
    shown_to: Callable[[Any, Any], bool] = lambda user, subject: True
    emphasis: str = "secondary"


_PLACES: dict[str, dict[str, Link]] = {}


def register_link(place: str, link: Link) -> None:
    """Add ``link`` at ``place``; registering the same key again replaces it (ready() may run twice in tests)."""
    _PLACES.setdefault(place, {})[link.key] = link


def links_for(place: str, *, user: Any, subject: Any = None) -> list[LinkTarget]:
    """The links registered at ``place`` that ``user`` may follow for ``subject``, in registration order."""
    return [
        LinkTarget(
            key=link.key,
            label=str(link.label(subject) if callable(link.label) else link.label),
            url=reverse(link.url_name, args=link.url_args(subject)),
            emphasis=link.emphasis,
        )
        for link in _PLACES.get(place, {}).values()
        if link.shown_to(user, subject)
    ]
