"""Which patients' screenings a member of staff may open.

The project rule (``bookings.access.patients_visible_to``) lives above screening,
which cannot import it; the project names it in the ``CLINIC_PATIENTS_VISIBLE_TO``
setting and screening calls it through that name (the way ``AUTH_USER_MODEL``
hands a model down).  On top of that rule, screening is reachable by any
practitioner for two groups of patients, because the screening comes before any
appointment:

- a new patient nobody has booked or planned yet (``CLINIC_NEW_PATIENTS``): the
  desk fills in the questions with them on the phone;
- a patient whose newest answers wait for a clinician's review: the review queue
  is shared by all practitioners, or a new patient could never be cleared to book.

Everyone else's screening is a 404 for staff without a relation.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.module_loading import import_string

from clinic.models import Modality, Patient, User
from screening.eligibility import GateStatus
from screening.selectors import screening_statuses


def _setting_callable(name: str) -> Callable[..., QuerySet[Patient]] | None:
    path = getattr(settings, name, "")
    return import_string(path) if path else None


def screening_awaits_review(*, patient: Patient) -> bool:
    """True when the patient's current answers hold a treatment for a clinician's decision."""
    modalities = list(Modality.objects.active())
    decisions = screening_statuses(patients=[patient], modalities=modalities, on_date=timezone.localdate())
    return any(decision.status == GateStatus.NEEDS_REVIEW for decision in decisions[patient.pk].values())


def screening_patient_visible_to(user: User | AnonymousUser, patient: Patient) -> bool:
    """May ``user`` (staff) open ``patient``'s screening answers?"""
    if not user.is_authenticated or not user.is_practitioner:
        return False
    if user.is_clinic_admin:
        return True
    related = _setting_callable("CLINIC_PATIENTS_VISIBLE_TO")
    if related is not None and related(user).filter(pk=patient.pk).exists():
        return True
    new_patients = _setting_callable("CLINIC_NEW_PATIENTS")
    if new_patients is not None and new_patients().filter(pk=patient.pk).exists():
        return True
    return screening_awaits_review(patient=patient)
