"""Cells for CSV files that people open in a spreadsheet.

A spreadsheet evaluates a cell that starts with ``=``, ``+``, ``-`` or ``@`` (and, in
some programs, a tab or carriage return before one) as a formula, so text a patient
or practitioner typed ("=HYPERLINK(...)" as a name, a SOAP note) could run as one in
the reader's spreadsheet (CSV injection).  ``csv_cell`` prefixes such text with a
single quote, which spreadsheets show as text; the content is kept.  Numbers, and
text that is a plain number such as "-1.50", stay as they are, so figures still sum.
Every CSV writer of the project passes its cells through it.
"""

from __future__ import annotations

import re
from typing import Any

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[+-]?\d+(\.\d+)?")


def csv_cell(value: Any) -> Any:
    """``value`` as a spreadsheet will read it as written: text never starts a formula."""
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS) and not _PLAIN_NUMBER.fullmatch(value):
        return "'" + value
    return value
