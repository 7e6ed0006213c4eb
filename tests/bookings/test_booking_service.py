"""The booking services: every rule is checked where no page can skip it."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest
import time_machine
from django.core import mail
from django.utils import timezone

from bookings.models import Appointment, BookingPolicy, ClinicClosure, TimeOff
from bookings.selectors import free_slots, patient_appointments
from bookings.services.appointments import (
    BookingRefused,
    appointment_book,
    appointment_can_change_online,
    appointment_cancel,
    appointment_mark_attended,
    appointment_mark_no_show,
    appointment_reschedule,
)
from tests.bookings.conftest import AFTER_DST_MONDAY, MONDAY, at, working_hours
from tests.factories import PatientFactory, PractitionerFactory, care_team_join
from tests.screening.factories import submission_with_answers

TUESDAY = MONDAY + timedelta(days=1)


def book(patient, modality, starts_at, **kwargs) -> Appointment:
    return appointment_book(patient=patient, modality=modality, starts_at=starts_at, booked_by=patient.user, **kwargs)


def test_booking_holds_the_slot_the_buffer_and_the_chamber(working_practitioner, screened_patient, wbc):
    appointment = book(screened_patient, wbc, at(TUESDAY, 10))
    assert appointment.practitioner == working_practitioner
    assert appointment.resource == wbc.resource
    assert appointment.holds_resource_exclusively is True
    assert appointment.ends_at == at(TUESDAY, 10, 15)
    assert appointment.blocked_until == at(TUESDAY, 10, 25)
    assert appointment.status == Appointment.Status.BOOKED


def test_acupuncture_rooms_are_not_held_exclusively(working_practitioner, screened_patient, acupuncture_initial):
    appointment = book(screened_patient, acupuncture_initial, at(TUESDAY, 10))
    assert appointment.holds_resource_exclusively is False


def test_second_booking_of_the_only_chamber_slot_is_refused_with_nearest_times(
    working_practitioner, screened_patient, screened_other_patient, wbc
):
    book(screened_patient, wbc, at(TUESDAY, 10))
    with pytest.raises(BookingRefused, match="just been taken") as refused:
        book(screened_other_patient, wbc, at(TUESDAY, 10))
    assert refused.value.alternatives
    assert at(TUESDAY, 10, 30) in refused.value.alternatives
    assert Appointment.objects.active().count() == 1


def test_unscreened_patient_is_refused_before_anything_else(working_practitioner, patient, wbc):
    with pytest.raises(BookingRefused) as refused:
        book(patient, wbc, at(TUESDAY, 10))
    assert refused.value.screening is not None
    assert refused.value.screening.allowed is False
    assert refused.value.screening.status == "not_screened"
    assert not Appointment.objects.exists()


def test_phone_booking_by_staff_is_refused_by_the_screening_gate_too(working_practitioner, patient, wbc):
    care_team_join(patient=patient, practitioner=working_practitioner)
    with pytest.raises(BookingRefused) as refused:
        appointment_book(patient=patient, modality=wbc, starts_at=at(TUESDAY, 10), booked_by=working_practitioner.user)
    assert refused.value.screening is not None
    assert not Appointment.objects.exists()


def test_absolute_contraindication_refuses_with_the_reason(working_practitioner, screened_patient, wbc):
    submission_with_answers(patient=screened_patient, yes=["raynauds"])
    with pytest.raises(BookingRefused) as refused:
        book(screened_patient, wbc, at(TUESDAY, 10))
    assert "raynaud" in refused.value.message.lower()
    assert not Appointment.objects.exists()


def test_reschedule_asks_the_screening_gate_again(working_practitioner, screened_patient, wbc):
    appointment = book(screened_patient, wbc, at(TUESDAY, 10))
    submission_with_answers(patient=screened_patient, yes=["raynauds"])
    with pytest.raises(BookingRefused) as refused:
        appointment_reschedule(appointment=appointment, starts_at=at(TUESDAY, 11), by=screened_patient.user)
    assert refused.value.screening is not None
    appointment.refresh_from_db()
    assert appointment.starts_at == at(TUESDAY, 10)


def test_booking_with_less_than_the_minimum_notice_is_refused(working_practitioner, screened_patient, wbc):
    with pytest.raises(BookingRefused, match="notice"):
        book(screened_patient, wbc, at(MONDAY, 8, 45))  # now is 07:00; 2 hours' notice


def test_booking_beyond_the_horizon_is_refused(working_practitioner, screened_patient, wbc):
    with pytest.raises(BookingRefused, match="weeks ahead"):
        book(screened_patient, wbc, at(MONDAY + timedelta(days=60), 10))


def test_booking_on_a_closed_day_is_refused_with_the_reason(working_practitioner, screened_patient, wbc):
    ClinicClosure.objects.create(start_date=TUESDAY, end_date=TUESDAY, reason="Bank holiday")
    with pytest.raises(BookingRefused, match="Bank holiday"):
        book(screened_patient, wbc, at(TUESDAY, 10))


def test_booking_in_the_practitioners_time_off_is_refused(working_practitioner, screened_patient, wbc):
    TimeOff.objects.create(practitioner=working_practitioner, starts_at=at(TUESDAY, 9), ends_at=at(TUESDAY, 12))
    with pytest.raises(BookingRefused, match="does not offer"):
        book(screened_patient, wbc, at(TUESDAY, 10), practitioner=working_practitioner)
    assert not Appointment.objects.exists()


def test_booking_outside_working_hours_is_refused(working_practitioner, screened_patient, wbc):
    with pytest.raises(BookingRefused, match=r"^No practitioner offers Whole-body cryotherapy at "):
        book(screened_patient, wbc, at(TUESDAY, 18))
    with pytest.raises(BookingRefused, match=r"^No practitioner offers"):
        book(screened_patient, wbc, at(TUESDAY, 10, 7))  # off the 15-minute grid


def test_a_patient_cannot_be_in_two_places_at_once(working_practitioner, screened_patient, wbc, acupuncture_initial):
    PractitionerFactory(modalities=[acupuncture_initial])
    book(screened_patient, wbc, at(TUESDAY, 10))
    with pytest.raises(BookingRefused):
        book(screened_patient, acupuncture_initial, at(TUESDAY, 10))


def test_a_nine_oclock_booking_after_the_clocks_change_is_nine_local(working_practitioner, screened_patient, wbc):
    appointment = book(screened_patient, wbc, at(AFTER_DST_MONDAY, 9))
    appointment.refresh_from_db()
    from django.utils import timezone

    assert timezone.localtime(appointment.starts_at).time() == time(9)
    assert appointment.starts_at.astimezone(UTC).hour == 8


def test_patient_cancels_before_the_cut_off_and_it_is_not_late(working_practitioner, screened_patient, wbc):
    appointment = book(screened_patient, wbc, at(TUESDAY, 10))
    appointment = appointment_cancel(appointment=appointment, by=screened_patient.user, reason="Away")
    assert appointment.status == Appointment.Status.CANCELLED
    assert appointment.cancelled_late is False
    assert appointment.cancelled_by == screened_patient.user
    assert appointment.cancellation_reason == "Away"


def test_patient_cannot_cancel_or_move_online_past_the_cut_off(working_practitioner, screened_patient, wbc):
    appointment = book(screened_patient, wbc, at(TUESDAY, 10))
    with time_machine.travel(at(TUESDAY, 8), tick=False):
        with pytest.raises(BookingRefused, match="call the clinic"):
            appointment_cancel(appointment=appointment, by=screened_patient.user)
        with pytest.raises(BookingRefused, match="call the clinic"):
            appointment_reschedule(appointment=appointment, starts_at=at(TUESDAY, 14), by=screened_patient.user)
    appointment.refresh_from_db()
    assert appointment.status == Appointment.Status.BOOKED


def test_the_cut_off_instant_itself_still_allows_a_change_online_and_a_second_later_does_not(
    working_practitioner, screened_patient, screened_other_patient, wbc
):
    on_time = book(screened_patient, wbc, at(TUESDAY, 10))
    late = book(screened_other_patient, wbc, at(TUESDAY, 11))
    with time_machine.travel(at(MONDAY, 10), tick=False):  # exactly 24 hours before
        assert appointment_can_change_online(appointment=on_time)
        on_time = appointment_cancel(appointment=on_time, by=screened_patient.user)
    assert on_time.cancelled_late is False
    with time_machine.travel(at(MONDAY, 11) + timedelta(seconds=1), tick=False):
        assert not appointment_can_change_online(appointment=late)
        with pytest.raises(BookingRefused, match="call the clinic"):
            appointment_cancel(appointment=late, by=screened_other_patient.user)


def test_the_minimum_notice_instant_is_offered_and_bookable(working_practitioner, screened_patient, wbc):
    """The selector offers exactly the boundary time the service accepts (now is Monday 07:00, 2 hours' notice)."""
    earliest = BookingPolicy.load().earliest_start(timezone.now())
    offered = {slot.starts_at for slot in free_slots(modality=wbc, start=MONDAY, end=MONDAY)}
    assert earliest in offered
    assert earliest - timedelta(minutes=15) not in offered
    assert book(screened_patient, wbc, earliest).starts_at == earliest


def test_staff_cancel_past_the_cut_off_is_recorded_as_late(working_practitioner, screened_patient, wbc):
    appointment = book(screened_patient, wbc, at(TUESDAY, 10))
    with time_machine.travel(at(TUESDAY, 8), tick=False):
        appointment = appointment_cancel(appointment=appointment, by=working_practitioner.user)
    assert appointment.status == Appointment.Status.CANCELLED
    assert appointment.cancelled_late is True


def test_cancelled_time_is_free_again(working_practitioner, screened_patient, screened_other_patient, wbc):
    appointment = book(screened_patient, wbc, at(TUESDAY, 10))
    appointment_cancel(appointment=appointment, by=screened_patient.user)
    assert book(screened_other_patient, wbc, at(TUESDAY, 10)).status == Appointment.Status.BOOKED


def test_reschedule_moves_the_same_appointment_and_keeps_the_practitioner(working_practitioner, screened_patient, wbc):
    other = PractitionerFactory(modalities=[wbc])
    working_hours(other)
    appointment = book(screened_patient, wbc, at(TUESDAY, 10))
    moved = appointment_reschedule(appointment=appointment, starts_at=at(TUESDAY, 10, 15), by=screened_patient.user)
    assert moved.pk == appointment.pk
    assert moved.starts_at == at(TUESDAY, 10, 15)  # overlapping its own old time is fine
    assert moved.practitioner_id == appointment.practitioner_id
    assert Appointment.objects.count() == 1


def test_reschedule_onto_a_taken_time_is_refused_and_nothing_moves(
    working_practitioner, screened_patient, screened_other_patient, wbc
):
    mine = book(screened_patient, wbc, at(TUESDAY, 10))
    book(screened_other_patient, wbc, at(TUESDAY, 11))
    with pytest.raises(BookingRefused, match="just been taken"):
        appointment_reschedule(appointment=mine, starts_at=at(TUESDAY, 11), by=screened_patient.user)
    mine.refresh_from_db()
    assert mine.starts_at == at(TUESDAY, 10)


def test_patient_cannot_change_someone_elses_appointment(
    working_practitioner, screened_patient, screened_other_patient, wbc
):
    appointment = book(screened_patient, wbc, at(TUESDAY, 10))
    with pytest.raises(BookingRefused):
        appointment_cancel(appointment=appointment, by=screened_other_patient.user)


def test_no_show_only_once_the_appointment_has_started(working_practitioner, screened_patient, wbc):
    appointment = book(screened_patient, wbc, at(TUESDAY, 10))
    with pytest.raises(BookingRefused):
        appointment_mark_no_show(appointment=appointment, by=working_practitioner.user)
    with time_machine.travel(at(TUESDAY, 10, 20), tick=False):
        appointment = appointment_mark_no_show(appointment=appointment, by=working_practitioner.user)
    assert appointment.status == Appointment.Status.NO_SHOW


def test_attended_is_recorded(working_practitioner, screened_patient, wbc):
    appointment = book(screened_patient, wbc, at(TUESDAY, 10))
    with pytest.raises(BookingRefused, match="not started yet"):  # issue 16: not before it starts
        appointment_mark_attended(appointment=appointment, by=working_practitioner.user)
    with time_machine.travel(at(TUESDAY, 10, 5), tick=False):
        assert appointment_mark_attended(appointment=appointment, by=working_practitioner.user).status == "attended"


def test_booking_sends_a_confirmation_with_a_calendar_file_after_commit(
    working_practitioner, screened_patient, wbc, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        book(screened_patient, wbc, at(TUESDAY, 10))
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [screened_patient.user.email]
    assert any(name.endswith(".ics") for name, *_ in mail.outbox[0].attachments)


def test_refused_booking_sends_nothing(working_practitioner, patient, wbc, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(BookingRefused):
        book(patient, wbc, at(TUESDAY, 10))
    assert mail.outbox == []


def test_naive_start_time_is_refused(working_practitioner, screened_patient, wbc):
    with pytest.raises(BookingRefused):
        book(screened_patient, wbc, datetime(2027, 3, 23, 10, 0))


def test_other_patients_cannot_take_the_same_chamber_on_another_practitioner(
    working_practitioner, screened_patient, wbc
):
    second = PractitionerFactory(modalities=[wbc])
    working_hours(second)
    other = PatientFactory()
    from tests.bookings.conftest import cleared

    cleared(other)
    book(screened_patient, wbc, at(TUESDAY, 10), practitioner=working_practitioner)
    with pytest.raises(BookingRefused, match="just been taken"):
        book(other, wbc, at(TUESDAY, 10), practitioner=second)


def test_at_its_start_instant_an_appointment_is_no_longer_upcoming(working_practitioner, screened_patient, wbc):
    appointment = book(screened_patient, wbc, at(TUESDAY, 10))
    with time_machine.travel(at(TUESDAY, 10) - timedelta(seconds=1), tick=False):
        assert list(Appointment.objects.upcoming()) == [appointment]
        assert patient_appointments(patient=screened_patient)[0] == [appointment]
        with pytest.raises(BookingRefused, match="once it has started"):
            appointment_mark_no_show(appointment=appointment, by=working_practitioner.user)
    with time_machine.travel(at(TUESDAY, 10), tick=False):
        assert not Appointment.objects.upcoming().exists()
        assert patient_appointments(patient=screened_patient) == ([], [appointment])
        assert appointment_mark_no_show(appointment=appointment, by=working_practitioner.user).status == "no_show"
