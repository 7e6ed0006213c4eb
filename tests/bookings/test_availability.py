"""The availability selector: which start times a patient is offered."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from django.db import connection
from django.test.utils import CaptureQueriesContext

from bookings.models import Appointment, ClinicClosure, ExtraHours, TimeOff
from bookings.selectors import availability, free_slots
from bookings.services.appointments import appointment_book
from clinic.models import Modality
from tests.bookings.conftest import AFTER_DST_MONDAY, MONDAY, at, working_hours
from tests.factories import PatientFactory, PractitionerFactory, appointment_build

TUESDAY = MONDAY + timedelta(days=1)


def starts(modality, day, **kwargs) -> list[datetime]:
    return [slot.starts_at for slot in free_slots(modality=modality, start=day, end=day, **kwargs)]


def test_times_step_through_working_hours_and_the_slot_must_end_by_closing(working_practitioner, wbc):
    times = starts(wbc, TUESDAY)
    assert times[0] == at(TUESDAY, 9)
    assert times[1] == at(TUESDAY, 9, 15)
    # 15-minute session: the last one that ends by 17:00 starts at 16:45.
    assert times[-1] == at(TUESDAY, 16, 45)
    assert all(moment.tzinfo is not None for moment in times)


def test_minimum_notice_hides_times_too_soon(working_practitioner, wbc):
    # Now is 07:00 on Monday; two hours' notice leaves 09:00 as the first time.
    assert starts(wbc, MONDAY)[0] == at(MONDAY, 9)
    later = datetime(2027, 3, 22, 10, 5, tzinfo=UTC)
    assert starts(wbc, MONDAY, now=later)[0] == at(MONDAY, 12, 15)


def test_nothing_is_offered_beyond_the_horizon(working_practitioner, wbc):
    assert starts(wbc, MONDAY + timedelta(days=55))
    assert starts(wbc, MONDAY + timedelta(days=57)) == []


def test_closed_day_offers_nothing_and_says_why(working_practitioner, wbc):
    ClinicClosure.objects.create(start_date=TUESDAY, end_date=TUESDAY, reason="Staff training day")
    days = availability(modality=wbc, start=MONDAY, end=TUESDAY + timedelta(days=1))
    assert days[1].slots == []
    assert days[1].closed_reason == "Staff training day"
    assert days[2].slots


def test_time_off_removes_the_times_it_covers(working_practitioner, wbc):
    TimeOff.objects.create(practitioner=working_practitioner, starts_at=at(TUESDAY, 12), ends_at=at(TUESDAY, 14))
    times = starts(wbc, TUESDAY)
    assert at(TUESDAY, 11, 30) in times  # blocked (session and buffer) until 11:55
    assert at(TUESDAY, 11, 45) not in times  # its buffer would run into the time off
    assert not any(at(TUESDAY, 12) <= moment < at(TUESDAY, 14) for moment in times)
    assert at(TUESDAY, 14) in times


def test_extra_hours_add_times_on_a_day_off(clock, practitioner, wbc):
    working_hours(practitioner, weekdays=range(5))
    sunday = MONDAY + timedelta(days=6)
    assert starts(wbc, sunday) == []
    ExtraHours.objects.create(practitioner=practitioner, date=sunday, start_time=time(10), end_time=time(11))
    assert starts(wbc, sunday) == [at(sunday, 10), at(sunday, 10, 15), at(sunday, 10, 30), at(sunday, 10, 45)]


def test_booked_time_and_its_buffer_are_not_offered_again(working_practitioner, screened_patient, wbc):
    appointment_book(patient=screened_patient, modality=wbc, starts_at=at(TUESDAY, 10), booked_by=screened_patient.user)
    times = starts(wbc, TUESDAY)
    # 10:00 + 15 min session + 10 min buffer: blocked until 10:25, so 09:45 (would run to 10:10) and 10:15 go too.
    assert at(TUESDAY, 9, 30) in times
    assert at(TUESDAY, 9, 45) not in times
    assert at(TUESDAY, 10) not in times
    assert at(TUESDAY, 10, 15) not in times
    assert at(TUESDAY, 10, 30) in times


def test_the_single_chamber_is_taken_even_when_another_practitioner_is_free(
    working_practitioner, screened_patient, wbc
):
    second = PractitionerFactory(modalities=[wbc])
    working_hours(second)
    appointment_book(patient=screened_patient, modality=wbc, starts_at=at(TUESDAY, 10), booked_by=screened_patient.user)
    assert at(TUESDAY, 10) not in starts(wbc, TUESDAY)


def test_two_acupuncture_rooms_hold_two_sessions_at_once(clock, acupuncture_follow_up):
    from tests.bookings.conftest import cleared

    team = [PractitionerFactory(modalities=[acupuncture_follow_up]) for _ in range(3)]
    for person in team:
        working_hours(person)
    first, second = cleared(PatientFactory()), cleared(PatientFactory())
    appointment_book(patient=first, modality=acupuncture_follow_up, starts_at=at(TUESDAY, 10), booked_by=first.user)
    slot = next(
        s
        for s in free_slots(modality=acupuncture_follow_up, start=TUESDAY, end=TUESDAY)
        if s.starts_at == at(TUESDAY, 10)
    )
    assert len(slot.practitioner_ids) == 2
    appointment_book(patient=second, modality=acupuncture_follow_up, starts_at=at(TUESDAY, 10), booked_by=second.user)
    assert at(TUESDAY, 10) not in starts(acupuncture_follow_up, TUESDAY)


def test_practitioners_who_do_not_deliver_the_modality_are_not_offered(clock, wbc, acupuncture_initial):
    acupuncturist = PractitionerFactory(modalities=[acupuncture_initial])
    working_hours(acupuncturist)
    assert starts(wbc, TUESDAY) == []
    assert starts(acupuncture_initial, TUESDAY)


def test_inactive_practitioner_is_not_offered(working_practitioner, wbc):
    working_practitioner.is_active = False
    working_practitioner.save()
    assert starts(wbc, TUESDAY) == []


def test_nine_oclock_stays_nine_oclock_local_across_the_clocks_changing(working_practitioner, wbc):
    before = starts(wbc, MONDAY + timedelta(days=5))[0]
    after = starts(wbc, AFTER_DST_MONDAY)[0]
    assert (before.hour, before.minute) == (9, 0)
    assert (after.hour, after.minute) == (9, 0)
    assert before.astimezone(UTC).hour == 9  # GMT
    assert after.astimezone(UTC).hour == 8  # BST


def _bulk_appointments(count: int, modality: Modality, team, patient, start: datetime) -> None:
    """``count`` non-overlapping appointments spread over the team, hour after hour."""
    rows = []
    start = start.astimezone(UTC)  # step in real hours, not wall-clock ones, across the clocks changing
    for index in range(count):
        person = team[index % len(team)]
        starts_at = start + timedelta(hours=index // len(team))
        rows.append(appointment_build(patient=patient, practitioner=person, modality=modality, starts_at=starts_at))
    Appointment.objects.bulk_create(rows, batch_size=1000)


def _queries_for_three_weeks(modality: Modality) -> tuple[int, int]:
    modality = Modality.objects.select_related("resource").get(pk=modality.pk)
    with CaptureQueriesContext(connection) as queries:
        days = availability(modality=modality, start=TUESDAY, end=TUESDAY + timedelta(days=20))
    return len(queries), sum(len(day.slots) for day in days)


def test_availability_query_count_does_not_grow_with_appointments(clock, patient, acupuncture_follow_up):
    team = [PractitionerFactory(modalities=[acupuncture_follow_up]) for _ in range(20)]
    for person in team:
        working_hours(person, start=time(8), end=time(20))
    _bulk_appointments(10, acupuncture_follow_up, team, patient, start=at(TUESDAY + timedelta(days=30), 0))
    few, offered_few = _queries_for_three_weeks(acupuncture_follow_up)
    assert few == 4  # the policy, the hours, the closures, then time off and appointments together
    _bulk_appointments(10_000, acupuncture_follow_up, team, patient, start=at(TUESDAY, 0))
    many, offered_many = _queries_for_three_weeks(acupuncture_follow_up)
    assert few == many
    assert offered_many < offered_few  # the 10,000 really were in the range and taken into account


def test_an_empty_range_returns_no_days(working_practitioner, wbc):
    assert availability(modality=wbc, start=TUESDAY, end=TUESDAY - timedelta(days=1)) == []


def test_time_off_is_read_to_the_microsecond(working_practitioner, wbc):
    # Instants are read as whole microseconds: one microsecond past noon still takes the 12:00 start.
    TimeOff.objects.create(
        practitioner=working_practitioner,
        starts_at=at(TUESDAY, 11, 55),
        ends_at=at(TUESDAY, 12) + timedelta(microseconds=1),
    )
    TimeOff.objects.create(practitioner=working_practitioner, starts_at=at(TUESDAY, 14, 55), ends_at=at(TUESDAY, 15))
    times = starts(wbc, TUESDAY)
    assert at(TUESDAY, 12) not in times
    assert at(TUESDAY, 12, 15) in times
    assert at(TUESDAY, 15) in times  # time off ending exactly at 15:00 leaves 15:00 free
    assert at(TUESDAY, 14, 45) not in times


def test_every_shape_of_the_reads_is_compiled_once_and_reused(working_practitioner, screened_patient, wbc):
    # The SQL is kept only when the parameters the selector lists equal those Django compiled: every
    # combination of optional filters must qualify, or availability quietly rebuilds its queries each time.
    from bookings import selectors

    appointment = appointment_book(
        patient=screened_patient, modality=wbc, starts_at=at(TUESDAY, 10), booked_by=screened_patient.user
    )
    selectors._COMPILED.clear()
    shapes = [
        {},
        {"practitioner": working_practitioner},
        {"patient": screened_patient},
        {"exclude_appointment": appointment},
        {"include_appointments": False},
        {"practitioner": working_practitioner, "patient": screened_patient, "exclude_appointment": appointment},
    ]
    roomless = Modality.objects.get(slug="acupuncture-follow-up")
    roomless.resource = None
    roomless.save(update_fields=["resource"])
    for modality in (wbc, roomless):  # with a room or device, and without one
        for options in shapes:
            first = availability(modality=modality, start=MONDAY, end=TUESDAY, **options)
            compiled = len(selectors._COMPILED)
            again = availability(modality=modality, start=MONDAY, end=TUESDAY, **options)
            assert len(selectors._COMPILED) == compiled
            assert again == first
    busy_shapes = {key for key in selectors._COMPILED if key[1] == "busy"}
    assert len(busy_shapes) == 2 * len(shapes)
    assert {key[1] for key in selectors._COMPILED} == {"hours", "closures", "busy"}
