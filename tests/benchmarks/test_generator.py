"""The generated clinic is one the app itself could have produced."""

from __future__ import annotations

from collections import defaultdict

import pytest
from django.utils import timezone

from benchmarks.generator import CHART_PATIENT_EMAIL, clinic_size
from benchmarks.measure import double_bookings_count
from bookings.models import Appointment, CarePlan, WorkingHours
from clinic.models import Modality, Patient
from notifications.models import Reminder
from screening.services import screening_gate
from treatments.models import SessionLog

pytestmark = pytest.mark.django_db


def _most_at_once(intervals: list[tuple]) -> int:
    events = sorted([(start, 1) for start, _ in intervals] + [(end, -1) for _, end in intervals])
    running = most = 0
    for _, change in events:
        running += change
        most = max(most, running)
    return most


def test_sizes_follow_five_practitioners_and_two_thousand_patients_per_twenty_thousand() -> None:
    assert clinic_size(appointments=20_000).practitioners == 5
    assert clinic_size(appointments=20_000).patients == 2_000
    assert clinic_size(appointments=200_000).practitioners == 50
    assert clinic_size(appointments=200_000).sites == 10
    assert clinic_size(appointments=1_000).practitioners == 1


def test_generated_appointments_never_overlap_for_a_practitioner_a_patient_or_a_capacity(clinic_of) -> None:
    with clinic_of(1500) as clinic:
        assert Appointment.objects.count() == clinic.appointments == 1500
        assert double_bookings_count() == 0  # practitioners, the chamber and the device
        active = Appointment.objects.active().select_related("resource")
        by_resource, by_patient = defaultdict(list), defaultdict(list)
        for appointment in active:
            by_resource[appointment.resource].append((appointment.starts_at, appointment.blocked_until))
            by_patient[appointment.patient_id].append((appointment.starts_at, appointment.blocked_until))
        for resource, intervals in by_resource.items():
            assert _most_at_once(intervals) <= resource.capacity, resource
        assert all(_most_at_once(intervals) == 1 for intervals in by_patient.values())
        assert 0.8 <= clinic.density <= 0.9


def test_generated_calendar_uses_working_hours_and_the_booking_grid(clinic_of) -> None:
    with clinic_of(600):
        hours = list(WorkingHours.objects.values_list("weekday", "start_time", "end_time").distinct())
        assert sorted(hours) == sorted((weekday, hours[0][1], hours[0][2]) for weekday in range(6))
        for appointment in Appointment.objects.all():
            local = timezone.localtime(appointment.starts_at)
            assert local.weekday() < 6
            assert local.minute % 15 == 0
            ends = timezone.localtime(appointment.ends_at)
            assert local.hour >= 8
            assert (ends.hour, ends.minute) <= (20, 0)


def test_generated_patients_pass_the_screening_gate_and_sessions_pass_the_log_rules(clinic_of) -> None:
    with clinic_of(600):
        today = timezone.localdate()
        modalities = list(Modality.objects.all())
        for patient in Patient.objects.all()[:40]:
            for modality in modalities:
                assert screening_gate(patient=patient, modality=modality, on_date=today).allowed
        logs = SessionLog.objects.select_related("modality", "resource", "appointment")
        assert logs.exists()
        for log in logs:
            log.full_clean(exclude=["appointment"])
            assert log.appointment.status == Appointment.Status.ATTENDED
        assert CarePlan.objects.active().exists()
        assert Reminder.objects.filter(state=Reminder.State.PENDING, appointment__status="booked").exists()
        chart_patient = Patient.objects.get(user__email=CHART_PATIENT_EMAIL)
        assert chart_patient.session_logs.count() >= 5


def test_generator_refuses_a_database_that_already_has_appointments(clinic_of) -> None:
    with clinic_of(200), pytest.raises(ValueError, match="empty database"), clinic_of(200):
        pass
