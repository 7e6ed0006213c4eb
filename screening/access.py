"""Which patients' screening answers a member of staff may open: the care team, nothing more.

Least privilege, chosen for issue 13 (finding 3):

- The answers, reasons and notes of a patient open only to an admin or a practitioner with an
  active membership of that patient's care team (``clinic.care_team.patients_visible_to``),
  which includes emergency access (break the glass: reasoned, time-limited, reviewed).
- There is no "new patient" exception any more.  It matched every patient without an
  appointment or plan, which after an account deletion (erasure) meant the kept screening of
  every erased patient was open to every practitioner.  A new patient's screening is reviewed
  by a practitioner whom the front desk or an admin assigns (``care_team_assign``), or by
  the practitioner they book with.
- The review queue lists only the waiting answers of patients on the viewer's care team
  (admins: all); staff outside see the number of waiting patients who have nobody on their
  care team yet, so the desk can assign someone, never who they are or what they answered.
- The front desk sees a status word per treatment (cleared / needs review / not eligible /
  consent missing: ``screening_status_word``), never answers, reasons or notes.
"""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser
from django.db.models import QuerySet
from django.utils import timezone

from clinic.care_team import patients_visible_to
from clinic.models import CareTeamMembership, Modality, Patient, User
from screening.eligibility import GateStatus
from screening.selectors import screening_statuses

STATUS_WORDS = {
    GateStatus.ELIGIBLE: "cleared",
    GateStatus.NEEDS_REVIEW: "needs review",
    GateStatus.NOT_ELIGIBLE: "not eligible",
    GateStatus.CONSENT_NEEDED: "consent missing",
    GateStatus.NOT_SCREENED: "not screened",
    GateStatus.EXPIRED: "screening expired",
}


def screening_awaits_review(*, patient: Patient) -> bool:
    """True when the patient's current answers hold a treatment for a clinician's decision."""
    modalities = list(Modality.objects.active())
    decisions = screening_statuses(patients=[patient], modalities=modalities, on_date=timezone.localdate())
    return any(decision.status == GateStatus.NEEDS_REVIEW for decision in decisions[patient.pk].values())


def screening_patient_visible_to(user: User | AnonymousUser, patient: Patient) -> bool:
    """May ``user`` (staff) open ``patient``'s screening answers?  Only through the care team."""
    if not user.is_authenticated or not user.is_practitioner:
        return False
    return patients_visible_to(user).filter(pk=patient.pk).exists()


def screening_patients_readable_by(user: User | AnonymousUser) -> QuerySet[Patient]:
    return patients_visible_to(user) if user.is_authenticated and user.is_practitioner else Patient.objects.none()


def screening_status_word(status: str) -> str:
    """The one word the front desk (and a booking refusal shown to staff outside the team) sees."""
    return STATUS_WORDS.get(status, "needs review")


def patients_without_care_team() -> QuerySet[Patient]:
    """Active patients nobody is on the care team of (for the desk to assign a practitioner)."""
    members = CareTeamMembership.objects.active().values("patient_id")
    return Patient.objects.filter(user__is_active=True).exclude(pk__in=members)
