"""Rules that hold for every set of answers: the relief read from check-ins, and the interval
the plan follows, always within the clinician's bounds."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace

from hypothesis import given
from hypothesis import strategies as st

from bookings.models import CarePlan
from treatments.followup import session_relief
from treatments.selectors import CourseFigures

DAYS = [7, 14, 21, 28]


def _log(pain_before: int, answers: dict[int, int | None]) -> SimpleNamespace:
    checkins = [SimpleNamespace(day=day, pain=pain) for day, pain in answers.items()]
    return SimpleNamespace(
        pain_before=pain_before,
        started_at=datetime(2027, 1, 4, 9, tzinfo=UTC),
        checkins=SimpleNamespace(all=lambda: checkins),
    )


@given(
    pain_before=st.integers(0, 10),
    margin=st.integers(0, 5),
    answers=st.dictionaries(st.sampled_from(DAYS), st.one_of(st.none(), st.integers(0, 10))),
)
def test_relief_ends_on_the_first_answered_day_pain_is_back_or_lasts_at_least_the_last(pain_before, margin, answers):
    relief = session_relief(log=_log(pain_before, answers), margin=margin)
    answered = sorted((day, pain) for day, pain in answers.items() if pain is not None)
    if not answered:
        assert relief is None  # no answer changes nothing
        return
    back = [day for day, pain in answered if pain >= pain_before - margin]
    assert relief.days == (back[0] if back else answered[-1][0])
    assert relief.at_least == (not back)


@given(
    learned=st.one_of(st.none(), st.integers(1, 120)),
    low=st.integers(1, 60),
    extra=st.integers(0, 60),
    locked=st.booleans(),
)
def test_the_plan_follows_relief_only_within_its_bounds_and_never_when_locked(learned, low, extra, locked):
    plan = CarePlan(
        learned_interval_days=learned, relief_min_days=low, relief_max_days=low + extra, cadence_locked=locked
    )
    interval = plan.relief_interval_days
    if locked or learned is None:
        assert interval is None
    else:
        assert low <= interval <= low + extra
        assert interval == learned or learned < low or learned > low + extra


@given(scores=st.lists(st.integers(0, 10), min_size=1, max_size=12), floor=st.integers(1, 10))
def test_a_low_baseline_is_never_a_responder_and_one_session_never_is(scores, floor):
    figures = CourseFigures(scores=tuple(scores), baseline_floor=floor)
    if figures.is_responder:
        assert not figures.is_low_baseline
        assert len(scores) > 1
