"""Whose clinical data a person may reach (invariant 5 in DESIGN.md), defined once.

- an admin: every patient;
- a practitioner: the patients they have a (not cancelled) appointment with, or
  whose care plan they are responsible for;
- a patient: themselves;
- anyone else: nobody.

bookings owns this rule because it knows appointments and plans; treatments'
views use it directly.  screening sits below bookings and cannot import it, so the
project hands it over through the ``CLINIC_PATIENTS_VISIBLE_TO`` setting (see
``screening.access``).  Views answer 404 for a patient outside this set, so a
practitioner cannot even learn that an id exists.
"""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser
from django.db.models import Exists, OuterRef, QuerySet

from bookings.models import Appointment, CarePlan
from clinic.models import Patient, User


def patients_visible_to(user: User | AnonymousUser) -> QuerySet[Patient]:
    """The patients whose clinical records ``user`` may open."""
    patients = Patient.objects.all()
    if not user.is_authenticated or not user.is_active:
        return patients.none()
    if user.is_clinic_admin:
        return patients
    if user.is_practitioner:
        practitioner = getattr(user, "practitioner", None)
        if practitioner is None:
            return patients.none()
        has_appointment = Exists(Appointment.objects.active().filter(patient=OuterRef("pk"), practitioner=practitioner))
        has_plan = Exists(CarePlan.objects.filter(patient=OuterRef("pk"), practitioner=practitioner))
        return patients.filter(has_appointment | has_plan)
    return patients.filter(user=user)


def patient_is_visible_to(user: User | AnonymousUser, patient: Patient | int) -> bool:
    """One patient's check, for views that already hold the patient row."""
    patient_id = patient.pk if isinstance(patient, Patient) else patient
    return patients_visible_to(user).filter(pk=patient_id).exists()


def patients_without_relation() -> QuerySet[Patient]:
    """New patients nobody has booked or planned yet: any practitioner may screen them at the desk."""
    return Patient.objects.exclude(Exists(Appointment.objects.active().filter(patient=OuterRef("pk")))).exclude(
        Exists(CarePlan.objects.filter(patient=OuterRef("pk")))
    )
