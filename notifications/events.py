"""Domain events: what happened in the clinic, written as a row in the same transaction as the change.

Apps above this one (bookings, treatments, screening) publish events with ``event_publish`` inside
the transaction that makes the change (a transactional outbox): if the change rolls back, so does
the event, and an event that exists describes a change that was committed.  Listeners (the ``api``
app's webhooks) are told after the commit (``event_listener_register``) and also find every event
they have not taken yet (``DomainEvent.objects.undispatched()``), so a lost queue message delays an
event but never loses it.

Like message kinds, this app never imports the apps that publish: each registers its event types
in its ``AppConfig.ready()`` with ``event_type_register``, naming how to read the clinical details
of what the event is about.  An event row holds ids and times only; clinical details (notes,
reasons, pain scores) are read from the live records when a listener asks for them
(``event_clinical_details``), so an erased or amended record is never repeated from a copy.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.db import models, transaction
from django.utils import timezone

from notifications.models import DomainEvent

__all__ = [
    "EventType",
    "event_clinical_details",
    "event_listener_register",
    "event_publish",
    "event_type_get",
    "event_type_register",
    "event_types",
]


def _no_clinical_details(about: Any) -> dict[str, Any]:
    return {}


@dataclass(frozen=True)
class EventType:
    """One kind of event an app publishes, e.g. ``appointment.booked``.

    ``clinical`` reads the clinical details of the object the event is about (``{}`` when it is
    gone); they leave the clinic only to webhook endpoints an admin opted in.
    """

    name: str
    label: str
    clinical: Callable[[Any], dict[str, Any]] = _no_clinical_details


_TYPES: dict[str, EventType] = {}
_LISTENERS: list[Callable[[list[str]], None]] = []


def event_type_register(event_type: EventType) -> EventType:
    """Register (or, on a re-import, replace) an event type; call it from your ``AppConfig.ready()``."""
    if len(event_type.name) > DomainEvent._meta.get_field("name").max_length:
        raise ValueError(f"Event name {event_type.name!r} is too long.")
    _TYPES[event_type.name] = event_type
    return event_type


def event_type_get(name: str) -> EventType:
    """The registered type; ``LookupError`` when no installed app publishes it."""
    try:
        return _TYPES[name]
    except KeyError:
        raise LookupError(f"No app registered the event type {name!r}.") from None


def event_types() -> list[EventType]:
    """Every registered type, by name (for the admin's choice of events)."""
    return sorted(_TYPES.values(), key=lambda event_type: event_type.name)


def event_listener_register(listener: Callable[[list[str]], None]) -> None:
    """Call ``listener(event_ids)`` after each commit that published events (once per listener)."""
    if listener not in _LISTENERS:
        _LISTENERS.append(listener)


def _json_ready(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    if isinstance(value, dict):
        return {key: _json_ready(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_json_ready(item) for item in value]
    return value


def _listeners_call(event_ids: list[str]) -> None:
    for listener in _LISTENERS:
        listener(event_ids)


@transaction.atomic
def event_publish(*, name: str, about: models.Model | None, data: dict[str, Any]) -> DomainEvent:
    """Record that ``name`` happened to ``about``, in the caller's transaction.

    ``data`` is ids and times only (datetimes are stored as ISO 8601 UTC); never clinical text,
    which ``EventType.clinical`` reads when asked.  Listeners hear of the event after the commit.
    """
    event_type_get(name)  # refuse an event no installed app declared
    event = DomainEvent.objects.create(
        name=name, occurred_at=timezone.now(), data=_json_ready(data), **DomainEvent.about_fields(about)
    )
    event_id = str(event.pk)
    transaction.on_commit(lambda: _listeners_call([event_id]))
    return event


def event_clinical_details(event: DomainEvent) -> dict[str, Any]:
    """The clinical details of what ``event`` is about, read now from the live records."""
    about = event.about_object()
    if about is None:
        return {}
    return event_type_get(event.name).clinical(about)
