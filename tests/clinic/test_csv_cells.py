"""Spreadsheet cells from clinic data reach a spreadsheet as text, never as a formula."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from clinic.csv_cells import FORMULA_TRIGGERS, csv_cell

TRIGGERS = st.sampled_from(FORMULA_TRIGGERS)


@given(first=TRIGGERS, rest=st.text())
def test_text_that_a_spreadsheet_would_evaluate_is_turned_into_text(first: str, rest: str) -> None:
    text = first + rest
    cell = csv_cell(text)
    if cell != text:  # neutralised: the quote makes a spreadsheet read it as text, content kept
        assert cell == "'" + text
    else:  # left alone only when it is a plain number such as "-1.50"
        float(text)


@given(text=st.text().filter(lambda value: not value.startswith(FORMULA_TRIGGERS)))
def test_other_text_is_unchanged(text: str) -> None:
    assert csv_cell(text) == text


@pytest.mark.parametrize("value", [-3, 2.5, Decimal("-1.20"), "-1.50", "+4", None, True])
def test_numbers_and_empty_values_are_unchanged(value: object) -> None:
    assert csv_cell(value) == value


@pytest.mark.parametrize("text", ["=1+1", "+1+1", "-1+1", "@SUM(A1)", "\t=cmd", "\r=cmd", '=HYPERLINK("http://x","y")'])
def test_formula_examples_are_quoted(text: str) -> None:
    assert csv_cell(text) == "'" + text
