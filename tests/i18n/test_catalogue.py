"""The Spanish catalogue is complete, and the committed ``.mo`` is the one its ``.po`` compiles to.

``make messages`` (makemessages, then compilemessages) keeps both up to date; a translator who
edits the ``.po`` and forgets to compile, or leaves an entry empty or fuzzy, fails here.
"""

from __future__ import annotations

import ast
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import translation

LOCALE = Path(settings.BASE_DIR) / "locale"
PO = LOCALE / "es" / "LC_MESSAGES" / "django.po"
MO = PO.with_suffix(".mo")


@dataclass
class Entry:
    msgid: str = ""
    msgid_plural: str | None = None
    msgctxt: str | None = None
    msgstr: dict[int, str] = field(default_factory=dict)
    flags: set[str] = field(default_factory=set)
    obsolete: bool = False

    @property
    def where(self) -> str:
        return f"{self.msgctxt + ' | ' if self.msgctxt else ''}{self.msgid[:70]!r}"


def po_entries(path: Path) -> list[Entry]:
    """The entries of a ``.po`` file (Django's makemessages output: one string per quoted line)."""
    entries: list[Entry] = []
    entry, target = Entry(), None
    for line in [*path.read_text(encoding="utf-8").splitlines(), ""]:
        if not line.strip():
            if target is not None:
                entries.append(entry)
            entry, target = Entry(), None
        elif line.startswith("#~"):
            entry.obsolete = True
        elif line.startswith("#,"):
            entry.flags |= {flag.strip() for flag in line[2:].split(",")}
        elif line.startswith("#"):
            continue
        elif match := re.match(r'^(msgctxt|msgid_plural|msgid|msgstr)(?:\[(\d+)\])?\s+(".*")$', line):
            keyword, index, text = match.group(1), match.group(2), ast.literal_eval(match.group(3))
            if keyword == "msgstr":
                target = ("msgstr", int(index or 0))
                entry.msgstr[target[1]] = text
            else:
                target = (keyword, None)
                setattr(entry, keyword, text)
        elif line.startswith('"') and target is not None:
            text = ast.literal_eval(line)
            if target[0] == "msgstr":
                entry.msgstr[target[1]] += text
            else:
                setattr(entry, target[0], getattr(entry, target[0]) + text)
    return entries


def _placeholders(text: str) -> set[str]:
    return set(re.findall(r"%\(\w+\)[sd]", text))


def test_every_spanish_message_is_translated_and_none_is_fuzzy() -> None:
    entries = [entry for entry in po_entries(PO) if entry.msgid and not entry.obsolete]
    untranslated = [entry.where for entry in entries if not all(entry.msgstr.values()) or not entry.msgstr]
    fuzzy = [entry.where for entry in entries if "fuzzy" in entry.flags]

    assert len(entries) > 300
    assert not untranslated, f"{len(untranslated)} untranslated: {untranslated[:20]}"
    assert not fuzzy, f"{len(fuzzy)} fuzzy: {fuzzy[:20]}"
    header = po_entries(PO)[0]
    assert header.msgid == ""
    assert "fuzzy" not in header.flags


def test_translations_keep_every_placeholder_and_every_plural_form() -> None:
    wrong = []
    for entry in po_entries(PO):
        if not entry.msgid:
            continue
        expected = _placeholders(entry.msgid) | _placeholders(entry.msgid_plural or "")
        for text in entry.msgstr.values():
            # A singular may say "una" instead of its count; every other placeholder must stay.
            if _placeholders(text) - expected or (expected - _placeholders(text)) - {"%(count)d", "%(counter)s"}:
                wrong.append(entry.where)
        if entry.msgid_plural is not None and len(entry.msgstr) != 3:  # Spanish: one, many (millions), other
            wrong.append(f"{entry.where}: {len(entry.msgstr)} plural forms")
    assert not wrong, wrong


@pytest.mark.skipif(shutil.which("msgfmt") is None, reason="needs GNU gettext's msgfmt (apt-get install gettext)")
def test_the_committed_mo_is_the_compiled_po(tmp_path) -> None:
    compiled = tmp_path / "django.mo"
    subprocess.run(["msgfmt", "--check", "-o", str(compiled), str(PO)], check=True, capture_output=True)  # noqa: S603, S607

    assert compiled.read_bytes() == MO.read_bytes(), "run `make messages` and commit locale/es/LC_MESSAGES/django.mo"


def test_the_compiled_catalogue_is_what_django_serves() -> None:
    with translation.override("es"):
        assert translation.gettext("Your profile") == "Su perfil"
        assert translation.ngettext(
            "You have %(counter)s unused recovery code.", "You have %(counter)s unused recovery codes.", 2
        ) == ("Tiene %(counter)s códigos de recuperación sin usar.")
