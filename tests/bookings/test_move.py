"""Staff move an appointment (``appointment_move``): the booking path, the actor's rights, the "changed" message."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bookings.models import Appointment, TimeOff
from bookings.services.appointments import BookingRefused, appointment_book, appointment_move
from bookings.services.reminders import BookingMessage
from clinic.care_team import CareTeamRefused, care_team_is_member
from clinic.models import AuditEvent
from notifications.models import Reminder
from tests.bookings.conftest import MONDAY, at, working_hours
from tests.factories import AdminFactory, FrontDeskFactory, PractitionerFactory, care_team_join
from tests.screening.factories import submission_with_answers

TUESDAY = MONDAY + timedelta(days=1)


@pytest.fixture
def booked(working_practitioner, screened_patient, wbc) -> Appointment:
    return appointment_book(
        patient=screened_patient, modality=wbc, starts_at=at(TUESDAY, 10), booked_by=screened_patient.user
    )


@pytest.fixture
def desk(db):
    return FrontDeskFactory()


def _unchanged(appointment: Appointment) -> None:
    before = (appointment.starts_at, appointment.practitioner_id, appointment.status, appointment.blocked_until)
    appointment.refresh_from_db()
    assert (appointment.starts_at, appointment.practitioner_id, appointment.status, appointment.blocked_until) == before


def _changed_messages(appointment: Appointment) -> list[Reminder]:
    return list(Reminder.objects.filter(appointment=appointment, kind=BookingMessage.BOOKING_CHANGED))


def test_desk_moves_an_appointment_and_the_patient_is_told(booked, desk):
    moved = appointment_move(actor=desk, appointment=booked, starts_at=at(TUESDAY, 14))
    moved.refresh_from_db()
    assert moved.starts_at == at(TUESDAY, 14)
    assert moved.ends_at == at(TUESDAY, 14, 15)
    assert moved.blocked_until == at(TUESDAY, 14, 25)
    assert len(_changed_messages(moved)) == 1
    audit = AuditEvent.objects.filter(actor=desk, action=AuditEvent.Action.CHANGE, patient=booked.patient).last()
    assert "moved" in audit.description
    assert "to Tuesday 23 March at 14:00" in audit.description


def test_desk_moves_an_appointment_to_another_practitioner_who_joins_the_care_team(booked, desk):
    colleague = PractitionerFactory()
    working_hours(colleague)
    moved = appointment_move(actor=desk, appointment=booked, starts_at=at(TUESDAY, 11), practitioner=colleague)
    assert moved.practitioner == colleague
    assert moved.starts_at == at(TUESDAY, 11)
    assert care_team_is_member(user=colleague.user, patient=booked.patient)


def test_the_appointments_own_practitioner_may_move_it(booked, working_practitioner):
    moved = appointment_move(actor=working_practitioner.user, appointment=booked, starts_at=at(TUESDAY, 12))
    assert moved.starts_at == at(TUESDAY, 12)


def test_an_admin_may_move_it(booked):
    moved = appointment_move(actor=AdminFactory(), appointment=booked, starts_at=at(TUESDAY, 12))
    assert moved.starts_at == at(TUESDAY, 12)


def test_a_care_team_practitioner_may_move_it(booked):
    colleague = PractitionerFactory()
    care_team_join(patient=booked.patient, practitioner=colleague)
    moved = appointment_move(actor=colleague.user, appointment=booked, starts_at=at(TUESDAY, 12))
    assert moved.starts_at == at(TUESDAY, 12)


def test_a_practitioner_outside_the_care_team_may_not_move_it(booked):
    outsider = PractitionerFactory()
    with pytest.raises(CareTeamRefused):
        appointment_move(actor=outsider.user, appointment=booked, starts_at=at(TUESDAY, 12))
    _unchanged(booked)
    assert not _changed_messages(booked)


def test_a_patient_may_not_move_someone_elses_appointment(booked, screened_other_patient):
    with pytest.raises(BookingRefused, match="your own"):
        appointment_move(actor=screened_other_patient.user, appointment=booked, starts_at=at(TUESDAY, 12))
    _unchanged(booked)


def test_a_patient_may_not_choose_another_practitioner_by_moving(booked):
    colleague = PractitionerFactory()
    working_hours(colleague)
    with pytest.raises(BookingRefused, match="another practitioner"):
        appointment_move(
            actor=booked.patient.user, appointment=booked, starts_at=at(TUESDAY, 12), practitioner=colleague
        )
    _unchanged(booked)


def test_move_to_a_taken_time_is_refused_and_the_appointment_is_untouched(booked, desk, screened_other_patient, wbc):
    appointment_book(
        patient=screened_other_patient, modality=wbc, starts_at=at(TUESDAY, 11), booked_by=screened_other_patient.user
    )
    with pytest.raises(BookingRefused, match="just been taken") as refused:
        appointment_move(actor=desk, appointment=booked, starts_at=at(TUESDAY, 11))
    assert refused.value.alternatives
    _unchanged(booked)
    assert not _changed_messages(booked)


def test_move_outside_working_hours_is_refused(booked, desk):
    with pytest.raises(BookingRefused, match="No practitioner offers"):
        appointment_move(actor=desk, appointment=booked, starts_at=at(TUESDAY, 18))
    _unchanged(booked)


def test_move_into_the_practitioners_time_off_is_refused(booked, desk, working_practitioner):
    TimeOff.objects.create(practitioner=working_practitioner, starts_at=at(TUESDAY, 13), ends_at=at(TUESDAY, 15))
    with pytest.raises(BookingRefused, match="not offer"):
        appointment_move(actor=desk, appointment=booked, starts_at=at(TUESDAY, 14), practitioner=working_practitioner)
    _unchanged(booked)


def test_move_to_a_practitioner_who_does_not_deliver_the_treatment_is_refused(booked, desk, acupuncture_initial):
    acupuncturist = PractitionerFactory(modalities=[acupuncture_initial])
    working_hours(acupuncturist)
    with pytest.raises(BookingRefused, match="does not offer"):
        appointment_move(actor=desk, appointment=booked, starts_at=at(TUESDAY, 12), practitioner=acupuncturist)
    _unchanged(booked)


def test_move_to_a_time_that_has_passed_is_refused(booked, desk):
    with pytest.raises(BookingRefused, match="passed"):
        appointment_move(actor=desk, appointment=booked, starts_at=at(MONDAY, 6))
    _unchanged(booked)


def test_move_asks_the_screening_gate_again(booked, desk):
    submission_with_answers(patient=booked.patient, yes=["raynauds"], notes="Fingers go white in the cold")
    with pytest.raises(BookingRefused, match="screening") as refused:
        appointment_move(actor=desk, appointment=booked, starts_at=at(TUESDAY, 12))
    # The desk is told the status word, never the answers or notes.
    assert "raynaud" not in refused.value.message.lower()
    assert "Fingers" not in refused.value.message
    _unchanged(booked)


def test_an_appointment_that_has_started_cannot_be_moved(booked, desk, clock):
    clock.move_to(at(TUESDAY, 10, 5))
    with pytest.raises(BookingRefused, match="already started"):
        appointment_move(actor=desk, appointment=booked, starts_at=at(TUESDAY, 15))
    _unchanged(booked)


def test_a_cancelled_appointment_cannot_be_moved(booked, desk):
    Appointment.objects.filter(pk=booked.pk).update(status=Appointment.Status.CANCELLED)
    booked.refresh_from_db()
    with pytest.raises(BookingRefused, match="cancelled"):
        appointment_move(actor=desk, appointment=booked, starts_at=at(TUESDAY, 15))


def test_moving_to_the_same_time_changes_nothing(booked, desk):
    with pytest.raises(BookingRefused, match="already at that time"):
        appointment_move(actor=desk, appointment=booked, starts_at=at(TUESDAY, 10))
    assert not _changed_messages(booked)


def test_an_appointment_may_move_into_its_own_buffer(booked, desk):
    """Its old place is not an obstacle to itself: 10:00 -> 10:15 overlaps only the appointment being moved."""
    moved = appointment_move(actor=desk, appointment=booked, starts_at=at(TUESDAY, 10, 15))
    assert moved.starts_at == at(TUESDAY, 10, 15)


def test_the_appointment_of_a_deactivated_patient_cannot_be_moved(booked, desk):
    booked.patient.user.is_active = False
    booked.patient.user.save(update_fields=["is_active"])
    with pytest.raises(CareTeamRefused):
        appointment_move(actor=desk, appointment=booked, starts_at=at(TUESDAY, 12))
    _unchanged(booked)
