"""Finding English left on a page meant to be Spanish.

A page's visible text (and the texts a screen reader or a tooltip reads: ``aria-label``,
``title``, ``alt``, ``placeholder`` and button values), with scripts, styles and the people's own
data taken out, is searched for words of the app's English that are not also Spanish words.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable

from django.conf import settings

# Words the app's English uses everywhere and Spanish never does (not "no", "me", "solo", "real",
# "hospital", ...): one of them on a Spanish page is a string nobody marked or translated.
ENGLISH_ONLY_WORDS = (
    "the",
    "your",
    "you",
    "please",
    "with",
    "and",
    "this",
    "that",
    "what",
    "when",
    "which",
    "will",
    "have",
    "from",
    "appointment",
    "appointments",
    "book",
    "booked",
    "booking",
    "bookings",
    "session",
    "sessions",
    "sign",
    "cancel",
    "cancelled",
    "save",
    "back",
    "next",
    "previous",
    "week",
    "today",
    "tomorrow",
    "treatment",
    "treatments",
    "reminder",
    "reminders",
    "screening",
    "questionnaire",
    "pain",
    "patient",
    "patients",
    "practitioner",
    "log",
    "search",
    "choose",
    "change",
    "send",
    "answer",
    "answers",
    "yes",
    "nothing",
    "there",
    "here",
    "about",
    "minutes",
    "hours",
    "days",
)
_WORDS = re.compile(r"\b(" + "|".join(ENGLISH_ONLY_WORDS) + r")\b", re.IGNORECASE)
_HIDDEN = re.compile(r"<(script|style|template)\b.*?</\1\s*>|<!--.*?-->", re.IGNORECASE | re.DOTALL)
_ATTRIBUTES = re.compile(
    r"""\b(?:aria-label|title|alt|placeholder)\s*=\s*(?:"([^"]*)"|'([^']*)')"""
    r"""|<input\b[^>]*\btype=["']?(?:submit|button)["']?[^>]*\bvalue=["']([^"']*)["']""",
    re.IGNORECASE,
)
_TAG = re.compile(r"<[^>]+>")


def readable_text(page: str) -> str:
    """What a person reads or hears on ``page``: its text and its labelling attributes."""
    page = _HIDDEN.sub(" ", page)
    labels = [next(group for group in match.groups() if group is not None) for match in _ATTRIBUTES.finditer(page)]
    text = _TAG.sub(" ", page)
    return html.unescape(" ".join([text, *labels]))


def english_words(page: str, *, data: Iterable[str] = ()) -> list[str]:
    """The English-only words on ``page`` once the people's own ``data`` (names, notes...) is removed,
    each with a little of the text around it, so the report says which string is untranslated."""
    text = readable_text(page)
    # The clinic's own name, number and zone are configuration, not text to translate.
    data = {*data, settings.CLINIC_NAME, settings.CLINIC_PHONE, settings.TIME_ZONE}
    for value in sorted({value for value in data if value and len(value) >= 3}, key=len, reverse=True):
        text = text.replace(value, " ")
    # Addresses are not prose: a feed's URL or an email address may well contain "bookings".
    text = " ".join(word for word in text.split() if "/" not in word and "@" not in word)
    return [text[max(0, found.start() - 40) : found.end() + 40] for found in _WORDS.finditer(text)]
