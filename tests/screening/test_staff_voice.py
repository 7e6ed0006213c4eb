"""Staff read the screening's reasons as facts, not in the words written to the patient."""

from __future__ import annotations

import re
from html import unescape

import pytest
from django.urls import reverse

from tests.factories import PASSWORD
from tests.screening.factories import submission_with_answers

pytestmark = pytest.mark.django_db


def _text(response) -> str:
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", response.content.decode())).split())


def test_review_page_names_the_condition_in_the_staff_voice(client, practitioner, patient, wbc):
    submission = submission_with_answers(patient=patient, yes=["high-blood-pressure"])
    client.login(email=practitioner.user.email, password=PASSWORD)

    page = _text(client.get(reverse("screening:review", args=[submission.pk])))

    assert "To review: High blood pressure" in page
    assert "you told us" not in page
    assert "you have not" not in page


def test_patient_still_reads_the_reason_addressed_to_them(client, patient, wbc):
    submission_with_answers(patient=patient, yes=["high-blood-pressure"])
    client.login(email=patient.user.email, password=PASSWORD)

    page = _text(client.get(reverse("screening:mine")))

    assert "you told us you have high blood pressure" in page
