"""The registry of message kinds: what each kind of message says, and when it is no longer wanted.

Why messages are rendered when they are sent, not when they are planned: a reminder is
planned days ahead, and the patient should read the appointment as it is when the email
leaves (the practitioner or the preparation notes may have changed), and the check "is
this message still wanted" (appointment cancelled, patient opted out, screening renewed)
needs the same current data anyway.  The row keeps only the facts fixed at planning time
(its ``context`` and ``about_at``).

This app sits below every app that sends, so it never imports them: each app registers its
kinds in its ``AppConfig.ready()`` with ``message_kind_register``, and the sender looks the
kind up by the name stored in ``Reminder.kind``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from notifications.models import Reminder

__all__ = [
    "MessageContent",
    "MessageKind",
    "message_kind_get",
    "message_kind_label",
    "message_kind_register",
    "message_kinds",
]


@dataclass
class MessageContent:
    """What a message says, independent of the channel that carries it."""

    subject: str
    text: str
    html: str = ""
    # (file name, content, MIME type), e.g. an appointment's .ics
    attachments: list[tuple[str, str | bytes, str]] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)
    # The text message: one line that fits one SMS segment where it can (160 GSM-7 characters).
    # Empty: the SMS channel sends the subject with the clinic's name instead.
    sms: str = ""


def _always_wanted(reminder: Reminder, now: datetime) -> str:
    return ""


@dataclass(frozen=True)
class MessageKind:
    """One kind of message an app sends.

    ``render`` writes it from the row (and its ``about`` object, loaded with
    ``about_select_related``); ``still_wanted`` returns why a pending row must not go out any
    more ("" when it should).  Transactional messages answer something the patient or staff
    just did and go out at once, in the quiet hours too.
    """

    name: str
    label: str
    render: Callable[[Reminder], MessageContent]
    still_wanted: Callable[[Reminder, datetime], str] = _always_wanted
    transactional: bool = False
    about_select_related: tuple[str, ...] = ()


_KINDS: dict[str, MessageKind] = {}


def message_kind_register(kind: MessageKind) -> MessageKind:
    """Register (or, on a re-import, replace) a kind; call it from your ``AppConfig.ready()``."""
    if len(kind.name) > 24:
        raise ValueError(f"Message kind name {kind.name!r} is longer than the 24 characters the outbox stores.")
    _KINDS[kind.name] = kind
    return kind


def message_kind_get(name: str) -> MessageKind:
    """The registered kind; ``LookupError`` when no installed app sends it."""
    try:
        return _KINDS[name]
    except KeyError:
        raise LookupError(f"No app registered the message kind {name!r}.") from None


def message_kinds() -> list[MessageKind]:
    """Every registered kind, by label (for the admin's filter)."""
    return sorted(_KINDS.values(), key=lambda kind: kind.label)


def message_kind_label(name: str) -> str:
    kind = _KINDS.get(name)
    return kind.label if kind else name
