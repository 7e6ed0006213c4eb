from __future__ import annotations

from datetime import date

from django.test import override_settings

from clinic.forms import PatientRegistrationForm


@override_settings(LANGUAGE_CODE="en-gb")
def test_date_fields_prefill_in_the_format_the_browser_date_picker_reads():
    form = PatientRegistrationForm(initial={"date_of_birth": date(1980, 1, 2)})

    html = str(form["date_of_birth"])

    assert 'type="date"' in html
    assert 'value="1980-01-02"' in html
