"""Dates in the clinic's named formats read as a patient of each language expects."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from django.template import Context, Template
from django.utils import translation

from clinic.clinic_time import format_when

# 08:30 in London on Tuesday 1 December 2026 (GMT, so 08:30 UTC too); given in New York's zone to
# show that the clinic's zone, not the value's, decides the hour.
MOMENT = datetime(2026, 12, 1, 3, 30, tzinfo=ZoneInfo("America/New_York"))


@pytest.mark.parametrize(
    ("language", "expected"),
    [("en-gb", "Tuesday 1 December, 08:30"), ("es", "martes, 1 de diciembre, 08:30")],
)
def test_day_and_time_read_in_the_patients_language_in_the_clinics_zone(settings, language, expected):
    settings.TIME_ZONE = "Europe/London"
    with translation.override(language):
        assert format_when(MOMENT, "day_time") == expected
        assert Template('{{ moment|when:"day_time" }}').render(Context({"moment": MOMENT})) == expected


def test_a_date_without_time_and_a_long_date_in_spanish():
    with translation.override("es"):
        assert format_when(date(2026, 12, 1), "day") == "martes, 1 de diciembre"
        assert format_when(date(2026, 12, 1), "long_date") == "1 de diciembre de 2026"


def test_an_unknown_format_name_is_an_error_not_a_guess():
    with pytest.raises(KeyError):
        format_when(MOMENT, "no_such_format")


def test_every_language_defines_every_named_format():
    from clinic.formats.en_GB.formats import CLINIC_FORMATS as english
    from clinic.formats.es.formats import CLINIC_FORMATS as spanish

    assert set(spanish) == set(english)
