"""Quiet hours, for every window and every moment (across daylight-saving changes): the rules that must always hold."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from notifications.models import ReminderSettings
from notifications.services import due_outside_quiet_hours

moments = st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2027, 12, 31)).map(
    lambda naive: naive.replace(tzinfo=UTC)
)
# Whole quarter hours, as an admin would set them.
clock_times = st.builds(time, st.integers(0, 23), st.sampled_from([0, 15, 30, 45]))


def _rules(start: time, end: time) -> ReminderSettings:
    return ReminderSettings(quiet_hours_start=start, quiet_hours_end=end)


@settings(max_examples=400, deadline=None)
@given(moment=moments, start=clock_times, end=clock_times)
def test_a_held_message_goes_out_at_the_first_moment_outside_the_quiet_hours_within_a_day(moment, start, end):
    rules = _rules(start, end)
    moved = rules.after_quiet_hours(moment)
    assert moved >= moment
    assert not rules.is_quiet(moved)
    assert moved - moment <= timedelta(hours=25)  # a day, and the hour a clock change may add
    if not rules.is_quiet(moment):
        assert moved == moment


@settings(max_examples=400, deadline=None)
@given(moment=moments, start=clock_times, end=clock_times, lead=st.integers(1, 72 * 60))
def test_a_reminder_whose_morning_would_be_too_late_goes_out_earlier_never_after_the_appointment(
    moment, start, end, lead
):
    rules = _rules(start, end)
    appointment = moment + timedelta(minutes=lead)
    due = due_outside_quiet_hours(due_at=moment, rules=rules, latest=appointment)
    assert due < appointment
    if rules.after_quiet_hours(moment) < appointment:
        assert due == rules.after_quiet_hours(moment)
    else:
        assert due <= moment
