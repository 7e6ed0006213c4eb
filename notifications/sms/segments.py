"""How many SMS segments a text takes: 160 GSM-7 characters fit one, any other character makes it UCS-2 (70).

The GSM 03.38 default alphabet; the characters of its extension table (``^{}\\[~]|€``) take two
septets each.  A text that does not fit one segment is split by the network into parts of 153
(GSM-7) or 67 (UCS-2) characters, each billed as one message.
"""

from __future__ import annotations

import math

GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENDED = frozenset("^{}\\[~]|€\f")
ONE_SEGMENT_GSM7 = 160
ONE_SEGMENT_UCS2 = 70
PART_GSM7 = 153
PART_UCS2 = 67


def is_gsm7(text: str) -> bool:
    return all(char in GSM7_BASIC or char in GSM7_EXTENDED for char in text)


def sms_length(text: str) -> int:
    """Length in the text's encoding unit: septets for GSM-7, UTF-16 code units for UCS-2."""
    if is_gsm7(text):
        return sum(2 if char in GSM7_EXTENDED else 1 for char in text)
    return len(text.encode("utf-16-le")) // 2


def sms_segments(text: str) -> int:
    """How many messages the network bills for ``text``."""
    length = sms_length(text)
    single, part = (ONE_SEGMENT_GSM7, PART_GSM7) if is_gsm7(text) else (ONE_SEGMENT_UCS2, PART_UCS2)
    if length <= single:
        return 1
    return math.ceil(length / part)


# Typographic characters a template or a name may bring in, and their GSM-7 equivalents:
# one curly apostrophe would otherwise turn the whole text into UCS-2 (70 characters a segment).
# Spanish's acute vowels are not GSM-7 (ñ, é, ü, ¿ and ¡ are): a text reads "sesion" rather than
# "sesión", as Spanish texts often do, so a reminder stays one 160-character message, not three of 67.
_GSM7_EQUIVALENTS = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"', "\u2013": "-",
                                   "\u2014": "-", "\u2026": "...", "\u00a0": " ", "\u202f": " ",
                                   "á": "a", "í": "i", "ó": "o", "ú": "u", "Á": "A", "Í": "I", "Ó": "O",
                                   "Ú": "U"})  # fmt: skip


def sms_normalise(text: str) -> str:
    """One line of plain text, typographic quotes, dashes and acute vowels replaced by their GSM-7 equivalents."""
    return " ".join(text.translate(_GSM7_EQUIVALENTS).split())
