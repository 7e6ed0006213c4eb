"""Booking a plan's phase as a series goes through the booking service, date by date."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
from django.utils import timezone

from bookings.models import Appointment, SeriesOccurrence
from bookings.services.appointments import BookingRefused
from bookings.services.plans import (
    CarePlanRefused,
    care_plan_end,
    plan_cancel_remaining,
    plan_occurrence_book_alternative,
    plan_occurrence_cancel,
    plan_remaining_appointments,
    plan_series_book,
)
from tests.bookings.plans_factories import ACUPUNCTURE_PLAN, CRYO_PLAN, local, open_every_day, plan_on, session_on
from tests.screening.factories import screening_cleared

pytestmark = pytest.mark.django_db

# Sunday 15 March 2026; British Summer Time starts at 01:00 UTC on Sunday 29 March.
NOW = datetime(2026, 3, 15, 12, 0, tzinfo=UTC)
MONDAY = date(2026, 3, 16)


@pytest.fixture(autouse=True)
def _clock(time_machine):
    time_machine.move_to(NOW, tick=False)


@pytest.fixture
def clinic_open(practitioner):
    open_every_day(practitioner, start=time(9, 0), end=time(17, 0))
    return practitioner


@pytest.fixture
def acupuncture_plan(patient, clinic_open):
    return plan_on(patient=patient, template_name=ACUPUNCTURE_PLAN, start_date=MONDAY, practitioner=clinic_open)


def _weekly(plan, *, count=6, first_date=MONDAY, at=time(9, 0), by=None):
    phase = plan.template.phases.order_by("position").first()
    return plan_series_book(
        plan=plan,
        phase=phase,
        first_date=first_date,
        weekday=first_date.weekday(),
        local_time=at,
        count=count,
        interval_days=7,
        booked_by=by or plan.practitioner.user,
    )


def test_six_weekly_sessions_stay_at_nine_local_across_the_clock_change(patient, acupuncture_plan):
    screening_cleared(patient=patient)

    series = _weekly(acupuncture_plan)

    appointments = [occurrence.appointment for occurrence in series.occurrences.order_by("sequence")]
    assert all(appointments), [o.refusal_reason for o in series.occurrences.all()]
    local_starts = [timezone.localtime(appointment.starts_at) for appointment in appointments]
    assert [moment.date() for moment in local_starts] == [MONDAY + timedelta(weeks=week) for week in range(6)]
    assert {moment.time() for moment in local_starts} == {time(9, 0)}
    # The same wall-clock time is a different UTC instant once summer time starts.
    utc_hours = [appointment.starts_at.astimezone(UTC).hour for appointment in appointments]
    assert utc_hours == [9, 9, 8, 8, 8, 8]
    assert {appointment.modality.slug for appointment in appointments} == {"acupuncture-follow-up"}
    assert all(appointment.patient == patient for appointment in appointments)
    assert list(plan_remaining_appointments(plan=acupuncture_plan)) == appointments


def test_the_plan_shows_the_first_booked_session(patient, acupuncture_plan):
    screening_cleared(patient=patient)
    _weekly(acupuncture_plan, count=2)
    cadence = acupuncture_plan.cadence(timezone.localdate())
    assert cadence.next_due_on == MONDAY
    assert cadence.next_booked_at == local(MONDAY)


def test_a_taken_date_is_reported_with_the_nearest_free_time_and_the_rest_are_booked(
    patient, other_patient, acupuncture_plan, acupuncture_follow_up, clinic_open
):
    screening_cleared(patient=patient)
    third_monday = MONDAY + timedelta(weeks=2)
    session_on(
        patient=other_patient,
        modality=acupuncture_follow_up,
        practitioner=clinic_open,
        day=third_monday,
        status=Appointment.Status.BOOKED,
    )

    series = _weekly(acupuncture_plan)

    occurrences = list(series.occurrences.order_by("sequence"))
    unavailable = [occurrence for occurrence in occurrences if not occurrence.is_booked]
    assert [occurrence.sequence for occurrence in unavailable] == [3]
    taken = unavailable[0]
    assert taken.requested_starts_at == local(third_monday)
    assert "just been taken" in taken.refusal_reason
    # The other patient holds 09:00-09:45 plus a 10-minute buffer: 10:00 is the nearest free start.
    assert taken.nearest_alternative == local(third_monday, time(10, 0))
    assert sum(occurrence.is_booked for occurrence in occurrences) == 5


def test_booking_the_offered_alternative_links_it_to_the_plan(
    patient, other_patient, acupuncture_plan, acupuncture_follow_up, clinic_open
):
    screening_cleared(patient=patient)
    session_on(
        patient=other_patient,
        modality=acupuncture_follow_up,
        practitioner=clinic_open,
        day=MONDAY,
        status=Appointment.Status.BOOKED,
    )
    series = _weekly(acupuncture_plan, count=1)
    occurrence = series.occurrences.get()

    appointment = plan_occurrence_book_alternative(
        occurrence=occurrence, starts_at=occurrence.nearest_alternative, booked_by=clinic_open.user
    )

    occurrence.refresh_from_db()
    assert occurrence.appointment == appointment
    assert appointment.plan_occurrence.series.plan == acupuncture_plan
    assert timezone.localtime(appointment.starts_at).time() == time(10, 0)
    with pytest.raises(CarePlanRefused, match="already booked"):
        plan_occurrence_book_alternative(
            occurrence=occurrence, starts_at=local(MONDAY, time(11, 0)), booked_by=clinic_open.user
        )


def test_an_alternative_taken_meanwhile_is_refused_with_fresh_alternatives(
    patient, other_patient, acupuncture_plan, acupuncture_follow_up, clinic_open
):
    screening_cleared(patient=patient)
    for at in (time(9, 0), time(10, 0)):
        session_on(
            patient=other_patient,
            modality=acupuncture_follow_up,
            practitioner=clinic_open,
            day=MONDAY,
            at=at,
            status=Appointment.Status.BOOKED,
        )
    occurrence = _weekly(acupuncture_plan, count=1).occurrences.get()

    with pytest.raises(BookingRefused):
        plan_occurrence_book_alternative(
            occurrence=occurrence, starts_at=local(MONDAY, time(10, 0)), booked_by=clinic_open.user
        )

    occurrence.refresh_from_db()
    assert occurrence.appointment is None
    assert local(MONDAY, time(10, 0)) not in occurrence.alternative_times
    assert occurrence.nearest_alternative == local(MONDAY, time(11, 0))


def test_a_patient_without_cleared_screening_gets_no_series_and_the_reason(patient, acupuncture_plan):
    series = _weekly(acupuncture_plan)

    assert not Appointment.objects.filter(patient=patient).exists()
    reasons = {occurrence.refusal_reason for occurrence in series.occurrences.all()}
    assert len(reasons) == 1
    assert "screening" in reasons.pop().lower()
    assert all(occurrence.alternatives == [] for occurrence in series.occurrences.all())


def test_dates_beyond_the_booking_horizon_are_refused_one_by_one(patient, acupuncture_plan):
    screening_cleared(patient=patient)
    series = _weekly(acupuncture_plan, first_date=MONDAY + timedelta(weeks=6))  # horizon: 8 weeks ahead
    booked = [occurrence.is_booked for occurrence in series.occurrences.order_by("sequence")]
    assert booked == [True, True, False, False, False, False]
    assert "weeks ahead" in series.occurrences.get(sequence=3).refusal_reason


def test_the_interval_must_fit_the_phase(acupuncture_plan):
    phase = acupuncture_plan.template.phases.order_by("position").first()
    with pytest.raises(CarePlanRefused, match="7 days"):
        plan_series_book(
            plan=acupuncture_plan,
            phase=phase,
            first_date=MONDAY,
            weekday=0,
            local_time=time(9, 0),
            count=3,
            interval_days=14,
            booked_by=acupuncture_plan.practitioner.user,
        )
    assert not acupuncture_plan.series.exists()


def test_a_phase_of_another_plan_or_an_ended_plan_cannot_be_booked(patient, other_patient, acupuncture_plan):
    cryo = plan_on(
        patient=other_patient, template_name=CRYO_PLAN, start_date=MONDAY, practitioner=acupuncture_plan.practitioner
    )
    with pytest.raises(CarePlanRefused, match="another plan"):
        plan_series_book(
            plan=acupuncture_plan,
            phase=cryo.template.phases.get(),
            first_date=MONDAY,
            weekday=0,
            local_time=time(9, 0),
            count=1,
            interval_days=21,
            booked_by=acupuncture_plan.practitioner.user,
        )
    care_plan_end(plan=acupuncture_plan, by=acupuncture_plan.practitioner.user)
    acupuncture_plan.refresh_from_db()
    with pytest.raises(CarePlanRefused, match="ended"):
        _weekly(acupuncture_plan, count=1)


def test_cancelling_one_occurrence_leaves_the_others_booked(patient, acupuncture_plan):
    screening_cleared(patient=patient)
    series = _weekly(acupuncture_plan, count=3)
    second = series.occurrences.get(sequence=2)

    plan_occurrence_cancel(occurrence=second, by=acupuncture_plan.practitioner.user, reason="Away that week")

    statuses = [occurrence.appointment.status for occurrence in series.occurrences.order_by("sequence")]
    assert statuses == ["booked", "cancelled", "booked"]
    assert plan_remaining_appointments(plan=acupuncture_plan).count() == 2


def test_cancelling_all_remaining_cancels_every_future_session_of_the_plan(patient, acupuncture_plan):
    screening_cleared(patient=patient)
    _weekly(acupuncture_plan, count=2)
    _weekly(acupuncture_plan, count=2, first_date=MONDAY + timedelta(weeks=2))

    cancelled = plan_cancel_remaining(plan=acupuncture_plan, by=acupuncture_plan.practitioner.user)

    assert len(cancelled) == 4
    assert not plan_remaining_appointments(plan=acupuncture_plan).exists()
    assert set(
        Appointment.objects.filter(plan_occurrence__series__plan=acupuncture_plan).values_list("status", flat=True)
    ) == {"cancelled"}


def test_a_non_existent_local_time_on_the_clock_change_is_reported_not_shifted(acupuncture_plan):
    # 01:30 does not exist in London on 29 March 2026.
    phase = acupuncture_plan.template.phases.order_by("position").first()
    series = plan_series_book(
        plan=acupuncture_plan,
        phase=phase,
        first_date=date(2026, 3, 29),
        weekday=6,
        local_time=time(1, 30),
        count=1,
        interval_days=7,
        booked_by=acupuncture_plan.practitioner.user,
    )
    occurrence = SeriesOccurrence.objects.get(series=series)
    assert not occurrence.is_booked
    assert "clocks change" in occurrence.refusal_reason
