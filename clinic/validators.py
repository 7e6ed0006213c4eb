"""Validators for values people type about themselves, used by forms and services alike."""

from __future__ import annotations

from datetime import date

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

OLDEST_PLAUSIBLE_AGE_YEARS = 120


def date_of_birth_validate(born: date) -> None:
    """Refuse a date of birth in the future or more than 120 years ago (a typo in the year)."""
    today = timezone.localdate()
    if born > today:
        raise ValidationError(_("A date of birth cannot be in the future."), code="future")
    if born.year < today.year - OLDEST_PLAUSIBLE_AGE_YEARS:
        raise ValidationError(_("Please check the year of the date of birth."), code="implausible")
