"""Bookings writes no date by hand: pages and messages use the clinic's named formats (``|when:"name"``,
``format_when``), so a new language needs no change to them.  Machine formats (ISO values in links and
inputs, the slot value, the outbox's version stamp) are the only hand-written ones."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from clinic.formats.en_GB.formats import CLINIC_FORMATS as ENGLISH_FORMATS
from clinic.formats.es.formats import CLINIC_FORMATS as SPANISH_FORMATS

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = sorted((ROOT / "templates" / "bookings").rglob("*.*"))
PYTHON = sorted(path for path in (ROOT / "bookings").rglob("*.py") if "migrations" not in path.parts)

HAND_WRITTEN_IN_TEMPLATES = re.compile(r"""\|(?:date|time):["'](?!Y-m-d["'])""")
# An f-string date (``{moment:%A %-d %B}``) or a strftime outside the machine formats below.  ISO
# ("2026-12-01 08:30", in the admin's object names) reads the same in every language and is allowed.
HAND_WRITTEN_IN_PYTHON = re.compile(r"\{[^{}:]*:(?!%Y-%m-%d %H:%M\})%[-]?[aAbBdHMjmYy][^{}]*\}|strftime\(")
MACHINE_FORMATS = {
    "forms.py": "moment.astimezone(UTC).strftime(SLOT_FORMAT)",  # the slot value in URLs and hidden fields
    "notifications.py": 'strftime("%Y%m%dT%H%M%S%f")',  # a key, never shown
    "ics.py": 'strftime("%Y%m%dT%H%M%SZ")',  # RFC 5545 UTC date-time, read by calendar programs
    "selectors.py": "strftime('%%%%s'",  # SQLite's epoch function in SQL
}


def test_the_bookings_files_are_found():
    assert len(TEMPLATES) > 50
    assert len(PYTHON) > 30


@pytest.mark.parametrize("path", TEMPLATES, ids=lambda path: str(path.relative_to(ROOT)))
def test_templates_write_no_date_by_hand(path):
    text = path.read_text()
    assert not HAND_WRITTEN_IN_TEMPLATES.findall(text)
    for name in re.findall(r"""\|when:["'](\w+)["']""", text):
        assert name in ENGLISH_FORMATS, name
        assert name in SPANISH_FORMATS, name


@pytest.mark.parametrize("path", PYTHON, ids=lambda path: str(path.relative_to(ROOT)))
def test_python_writes_no_date_by_hand(path):
    allowed = MACHINE_FORMATS.get(path.name)
    for line in path.read_text().splitlines():
        if HAND_WRITTEN_IN_PYTHON.search(line):
            assert allowed is not None, line
            assert allowed in line, line
