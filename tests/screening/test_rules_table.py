"""For every contraindication the issue lists, what the seeded rules mean for each modality.

The patient answers 'yes' to that one question only and has signed every consent, so the
status is the rule's effect alone: absolute -> not_eligible, relative -> needs_review,
no effect -> eligible.
"""

from __future__ import annotations

import pytest

from screening.models import Contraindication
from screening.services import screening_gate
from tests.screening.factories import consents_signed, submission_with_answers

NO = "not_eligible"
REVIEW = "needs_review"
OK = "eligible"

# contraindication code: (whole-body cryo, localized cryo, acupuncture initial, acupuncture follow-up)
EXPECTED = {
    "raynauds": (NO, NO, OK, OK),
    "cold-urticaria": (NO, NO, OK, OK),
    "circulatory-disorder": (NO, REVIEW, OK, OK),
    "poor-circulation": (REVIEW, REVIEW, OK, OK),
    "nerve-damage": (REVIEW, REVIEW, OK, OK),
    "skin-condition": (REVIEW, REVIEW, OK, OK),
    "respiratory-illness": (REVIEW, OK, OK, OK),
    "recent-heart-attack": (NO, REVIEW, OK, OK),
    "high-blood-pressure": (REVIEW, OK, OK, OK),
    "unstable-angina": (NO, REVIEW, OK, OK),
    "cardiovascular-disease": (NO, REVIEW, OK, OK),
    "anaemia": (REVIEW, OK, OK, OK),
    "tumour": (NO, REVIEW, REVIEW, REVIEW),
    "stroke": (NO, REVIEW, OK, OK),
    "seizures": (NO, OK, REVIEW, REVIEW),
    "bleeding-disorder": (REVIEW, REVIEW, REVIEW, REVIEW),
    "kidney-disease": (REVIEW, OK, OK, OK),
    "metal-implant": (REVIEW, REVIEW, OK, OK),
    "pacemaker": (NO, REVIEW, REVIEW, REVIEW),
    "pregnancy": (NO, REVIEW, REVIEW, REVIEW),
    # acupuncture screen
    "anticoagulants": (OK, OK, REVIEW, REVIEW),
    "needle-phobia": (OK, OK, REVIEW, REVIEW),
    "skin-infection": (OK, REVIEW, REVIEW, REVIEW),
}
SLUGS = ("whole-body-cryotherapy", "localized-cryotherapy", "acupuncture-initial", "acupuncture-follow-up")


@pytest.mark.django_db
def test_every_seeded_question_based_contraindication_is_in_the_table():
    seeded = set(Contraindication.objects.filter(applies_under_age__isnull=True).values_list("code", flat=True))
    assert seeded == set(EXPECTED)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("code", "slug", "expected"),
    [(code, slug, expected) for code, row in EXPECTED.items() for slug, expected in zip(SLUGS, row, strict=True)],
)
def test_yes_to_one_contraindication_gives_the_seeded_outcome(patient, modalities, today, code, slug, expected):
    submission_with_answers(patient=patient, yes=[code])
    consents_signed(patient=patient)
    contraindication = Contraindication.objects.get(code=code)

    decision = screening_gate(patient=patient, modality=modalities[slug], on_date=today)

    assert decision.status == expected
    assert decision.allowed is (expected == OK)
    if expected != OK:
        assert decision.reasons == (contraindication.patient_reason,)
        assert decision.reasons[0].startswith("you told us")
