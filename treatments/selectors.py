"""Reads over session logs: a patient's outcomes and the staff reports.

Definitions (DESIGN.md, "Outcome"; the README's "Outcome definitions" says the same in words):
- a course: one patient's signed sessions of one treatment kind (whole-body cryotherapy,
  localized cryotherapy, acupuncture), so an acupuncture initial consultation and its
  follow-ups are one course.  Unsigned drafts count nowhere;
- immediate change: pain before minus pain after in one session (positive = better);
- change from baseline: the course's first pre-session score (its true baseline, however
  long ago) minus its latest pre-session score, in points and as a percentage of the baseline;
- a clinically meaningful response: a reduction of at least 30 % or at least 2 points, judged
  only when the course has two or more sessions and a baseline at or above the clinic's floor
  (``OutcomeSettings.baseline_floor``); a lower baseline cannot show a response and is counted
  apart, never as a non-responder.

The chart, "My progress" and the reports all use ``CourseFigures`` below, so they agree.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import Avg, Count, Exists, F, Max, OuterRef, Q, QuerySet, Value
from django.db.models.functions import Concat
from django.utils import timezone
from django.utils.translation import gettext

from clinic.care_team import patient_is_visible_to
from clinic.clinic_time import local_midnight
from clinic.models import Modality, Patient, User
from treatments.models import AdverseEvent, Instrument, OutcomeSettings, QuestionnaireRequest, SessionLog

MEANINGFUL_PERCENT = Decimal(30)
MEANINGFUL_POINTS = 2


def pain_reduction_percent(*, baseline: int, current: int) -> Decimal | None:
    """Reduction from baseline as a percentage, one decimal; None when the baseline is 0."""
    if baseline <= 0:
        return None
    return (Decimal(baseline - current) * 100 / Decimal(baseline)).quantize(Decimal("0.1"), ROUND_HALF_UP)


def is_meaningful_response(*, baseline: int, current: int) -> bool:
    percent = pain_reduction_percent(baseline=baseline, current=current)
    return baseline - current >= MEANINGFUL_POINTS or (percent is not None and percent >= MEANINGFUL_PERCENT)


@dataclass(frozen=True)
class CourseFigures:
    """The outcome of one course from its pre-session scores in time order: the one rule."""

    scores: tuple[int, ...]
    baseline_floor: int

    @property
    def baseline(self) -> int:
        return self.scores[0]

    @property
    def latest(self) -> int:
        return self.scores[-1]

    @property
    def is_assessable(self) -> bool:
        """Two or more sessions: a change can be read."""
        return len(self.scores) > 1

    @property
    def is_low_baseline(self) -> bool:
        """The baseline is below the floor: no meaningful response is possible, so none is judged."""
        return self.baseline < self.baseline_floor

    @property
    def is_responder(self) -> bool:
        return (
            self.is_assessable
            and not self.is_low_baseline
            and is_meaningful_response(baseline=self.baseline, current=self.latest)
        )


@dataclass(frozen=True)
class SessionPoint:
    log_id: int
    day: date
    modality_name: str
    pain_before: int
    pain_after: int
    adverse_event_count: int = 0

    @property
    def immediate_change(self) -> int:
        return self.pain_before - self.pain_after


@dataclass(frozen=True)
class TreatmentOutcome:
    """One patient's course of one kind of treatment."""

    kind: str
    label: str
    sessions: list[SessionPoint] = field(default_factory=list)
    baseline_floor: int = 4

    @property
    def figures(self) -> CourseFigures:
        return CourseFigures(
            scores=tuple(point.pain_before for point in self.sessions), baseline_floor=self.baseline_floor
        )

    @property
    def baseline(self) -> int:
        return self.sessions[0].pain_before

    @property
    def latest(self) -> int:
        return self.sessions[-1].pain_before

    @property
    def change_points(self) -> int:
        """Points better than the baseline (negative: worse)."""
        return self.baseline - self.latest

    @property
    def worse_points(self) -> int:
        return max(0, self.latest - self.baseline)

    @property
    def change_percent(self) -> Decimal | None:
        """Reduction from the baseline in percent; shown for an improvement only."""
        return pain_reduction_percent(baseline=self.baseline, current=self.latest)

    @property
    def is_low_baseline(self) -> bool:
        return self.figures.is_low_baseline

    @property
    def is_responder(self) -> bool:
        return self.figures.is_responder

    @property
    def mean_immediate_change(self) -> Decimal:
        total = sum(point.immediate_change for point in self.sessions)
        return (Decimal(total) / len(self.sessions)).quantize(Decimal("0.1"), ROUND_HALF_UP)


def _require_readable(*, actor: User, patient: Patient) -> None:
    """Chart reads answer to the one access rule (the patient themselves, or their care team)."""
    if not patient_is_visible_to(actor, patient):
        raise PermissionDenied(gettext("You may not read this patient's treatment records."))


def patient_outcomes(*, actor: User, patient: Patient) -> list[TreatmentOutcome]:
    """The patient's pain per signed session and change from baseline, per course (three queries)."""
    _require_readable(actor=actor, patient=patient)
    floor = OutcomeSettings.load().baseline_floor
    logs = (
        SessionLog.objects.for_patient(patient)
        .signed()
        .select_related("modality")
        .annotate(adverse_event_count=Count("adverse_events"))
        .order_by("started_at", "pk")
    )
    labels = dict(Modality.Kind.choices)
    outcomes: dict[str, TreatmentOutcome] = {}
    for log in logs:
        outcome = outcomes.setdefault(
            log.kind, TreatmentOutcome(kind=log.kind, label=labels[log.kind], baseline_floor=floor)
        )
        outcome.sessions.append(
            SessionPoint(
                log_id=log.pk,
                day=timezone.localdate(log.started_at),
                modality_name=log.modality.name,
                pain_before=log.pain_before,
                pain_after=log.pain_after,
                adverse_event_count=log.adverse_event_count,
            )
        )
    order = [kind for kind, _ in Modality.Kind.choices]
    return sorted(outcomes.values(), key=lambda outcome: order.index(outcome.kind))


def patient_session_history(*, actor: User, patient: Patient) -> QuerySet[SessionLog]:
    """The patient's logs, newest first, with what the history table shows."""
    _require_readable(actor=actor, patient=patient)
    return (
        SessionLog.objects.for_patient(patient)
        .select_related("modality", "practitioner__user")
        .prefetch_related("adverse_events")
        .order_by("-started_at")
    )


# --- Reports ---------------------------------------------------------------------


@dataclass(frozen=True)
class ReportRow:
    label: str
    sessions: int
    mean_immediate_change: Decimal | None
    sessions_with_adverse_events: int
    patients_assessed: int
    responders: int
    low_baseline: int = 0
    questionnaires_assessed: int = 0
    questionnaires_improved: int = 0

    @property
    def adverse_event_rate(self) -> Decimal | None:
        return _percent(self.sessions_with_adverse_events, self.sessions)

    @property
    def responder_rate(self) -> Decimal | None:
        return _percent(self.responders, self.patients_assessed)

    @property
    def questionnaire_improved_rate(self) -> Decimal | None:
        return _percent(self.questionnaires_improved, self.questionnaires_assessed)


REPORT_GROUPS = {
    # "modality" rows are treatment kinds: a course (e.g. acupuncture consultation + follow-ups) is one row.
    "modality": "kind",
    "practitioner": "practitioner_id",
}


def _percent(part: int, whole: int) -> Decimal | None:
    if not whole:
        return None
    return (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.1"), ROUND_HALF_UP)


def _local_day_bounds(date_from: date, date_to: date) -> tuple[datetime, datetime]:
    return local_midnight(date_from), local_midnight(date_to + timedelta(days=1))


@dataclass
class _GroupCounts:
    assessed: int = 0
    responders: int = 0
    low_baseline: int = 0
    questionnaires_assessed: int = 0
    questionnaires_improved: int = 0


def session_report(*, date_from: date, date_to: date, group_by: str = "modality") -> list[ReportRow]:
    """Per treatment kind or per practitioner, signed sessions between two local dates (inclusive).

    - sessions, mean immediate change and sessions with an adverse event: the period's signed
      sessions, aggregated in SQL;
    - responders: every course with a signed session in the period, measured from its true
      baseline (its first signed session ever) to its latest pre-session score in the period.
      A course with a baseline below the floor is counted apart (``low_baseline``).  Per
      practitioner, a course belongs to whoever gave its latest session in the period, so the
      rows add up to the per-treatment rows;
    - questionnaires: the same courses' questionnaire scores up to the end of the period, first
      against latest, improved when the change reaches the instrument's meaningful change.
    A fixed number of queries whatever the number of sessions.
    """
    if group_by not in REPORT_GROUPS:
        raise ValueError(f"Unknown report grouping {group_by!r}")
    key = REPORT_GROUPS[group_by]
    starts, ends = _local_day_bounds(date_from, date_to)
    floor = OutcomeSettings.load().baseline_floor
    logs = SessionLog.objects.signed().filter(started_at__gte=starts, started_at__lt=ends)
    aggregates = (
        logs.annotate(had_event=Exists(AdverseEvent.objects.filter(session_log=OuterRef("pk"))))
        .values(key)
        .annotate(
            sessions=Count("pk"),
            mean_change=Avg(F("pain_before") - F("pain_after")),
            with_events=Count("pk", filter=Q(had_event=True)),
            practitioner_name=Max(
                Concat("practitioner__user__first_name", Value(" "), "practitioner__user__last_name")
            ),
        )
        .order_by()
    )
    courses = _courses_in_period(starts=starts, ends=ends)
    counts: dict[Any, _GroupCounts] = {}
    for course in courses:
        group = course.kind if key == "kind" else course.last_practitioner_id
        tally = counts.setdefault(group, _GroupCounts())
        figures = CourseFigures(scores=tuple(course.scores), baseline_floor=floor)
        if figures.is_assessable and figures.is_low_baseline:
            tally.low_baseline += 1
        elif figures.is_assessable:
            tally.assessed += 1
            tally.responders += figures.is_responder
    by_key = {(course.patient_id, course.kind): course for course in courses}
    for (patient_id, kind), improved in _questionnaire_changes(courses=courses, ends=ends):
        course = by_key[(patient_id, kind)]
        group = kind if key == "kind" else course.last_practitioner_id
        tally = counts.setdefault(group, _GroupCounts())
        tally.questionnaires_assessed += 1
        tally.questionnaires_improved += improved
    labels = dict(Modality.Kind.choices)
    rows = []
    for row in aggregates:
        tally = counts.get(row[key], _GroupCounts())
        mean = row["mean_change"]
        rows.append(
            ReportRow(
                label=labels[row[key]] if key == "kind" else row["practitioner_name"],
                sessions=row["sessions"],
                mean_immediate_change=None
                if mean is None
                else Decimal(str(mean)).quantize(Decimal("0.01"), ROUND_HALF_UP),
                sessions_with_adverse_events=row["with_events"],
                patients_assessed=tally.assessed,
                responders=tally.responders,
                low_baseline=tally.low_baseline,
                questionnaires_assessed=tally.questionnaires_assessed,
                questionnaires_improved=tally.questionnaires_improved,
            )
        )
    return sorted(rows, key=lambda row: row.label)


@dataclass
class _Course:
    patient_id: int
    kind: str
    scores: list[int]
    last_practitioner_id: int


def _courses_in_period(*, starts: datetime, ends: datetime) -> list[_Course]:
    """Every course with a signed session in the period, with all its signed scores up to its end.

    One ordered query: the course's sessions before the period supply its true baseline.
    """
    in_period = SessionLog.objects.signed().filter(
        patient=OuterRef("patient"), kind=OuterRef("kind"), started_at__gte=starts, started_at__lt=ends
    )
    rows = (
        SessionLog.objects.signed()
        .filter(started_at__lt=ends)
        .filter(Exists(in_period))
        .order_by("patient_id", "kind", "started_at", "pk")
        .values_list("patient_id", "kind", "pain_before", "practitioner_id")
        .iterator(chunk_size=2000)
    )
    courses: list[_Course] = []
    for patient_id, kind, pain_before, practitioner_id in rows:
        if not courses or (courses[-1].patient_id, courses[-1].kind) != (patient_id, kind):
            courses.append(_Course(patient_id=patient_id, kind=kind, scores=[], last_practitioner_id=practitioner_id))
        courses[-1].scores.append(pain_before)
        courses[-1].last_practitioner_id = practitioner_id
    return courses


def _questionnaire_changes(*, courses: list[_Course], ends: datetime) -> Iterator[tuple[tuple[int, str], bool]]:
    """((patient, kind), improved) per course and instrument with two or more scores before ``ends``."""
    if not courses:
        return
    wanted = {(course.patient_id, course.kind) for course in courses}
    instruments = {instrument.pk: instrument for instrument in Instrument.objects.all()}
    answers = (
        QuestionnaireRequest.objects.answered()
        .filter(answered_at__lt=ends, patient_id__in={patient for patient, _ in wanted})
        .order_by("patient_id", "family", "instrument_id", "answered_at", "pk")
        .values_list("patient_id", "family", "instrument_id", "score")
    )
    series: dict[tuple[int, str, int], list[Decimal]] = {}
    for patient_id, family, instrument_id, score in answers:
        if (patient_id, family) in wanted:
            series.setdefault((patient_id, family, instrument_id), []).append(score)
    for (patient_id, family, instrument_id), scores in series.items():
        if len(scores) > 1:
            instrument = instruments[instrument_id]
            yield (patient_id, family), instrument.is_meaningful_improvement(first=scores[0], latest=scores[-1])


# --- Questionnaires -----------------------------------------------------------------------


@dataclass(frozen=True)
class QuestionnairePoint:
    day: date
    score: Decimal
    occasion: str


@dataclass(frozen=True)
class QuestionnaireTrend:
    """One patient's scores on one instrument, oldest first, against their first score."""

    instrument: Instrument
    points: list[QuestionnairePoint]

    @property
    def first(self) -> Decimal:
        return self.points[0].score

    @property
    def latest(self) -> Decimal:
        return self.points[-1].score

    @property
    def improvement(self) -> Decimal:
        """How much better the latest score is than the first (negative: worse)."""
        return self.instrument.improvement(first=self.first, latest=self.latest)

    @property
    def worsening(self) -> Decimal:
        return -self.improvement

    @property
    def is_meaningful(self) -> bool:
        return len(self.points) > 1 and self.instrument.is_meaningful_improvement(first=self.first, latest=self.latest)

    @property
    def meaningful_score(self) -> Decimal:
        """The score a meaningful improvement reaches (first score minus, or plus, the meaningful change)."""
        change = self.instrument.minimal_important_change
        bound = self.first - change if self.instrument.higher_is_worse else self.first + change
        return min(max(bound, Decimal(self.instrument.scale_min)), Decimal(self.instrument.scale_max))


def patient_questionnaire_trends(*, actor: User, patient: Patient) -> list[QuestionnaireTrend]:
    """The patient's answered questionnaires per instrument, for the chart and "My progress"."""
    _require_readable(actor=actor, patient=patient)
    trends: dict[int, QuestionnaireTrend] = {}
    answered = (
        QuestionnaireRequest.objects.answered()
        .filter(patient=patient)
        .select_related("instrument")
        .order_by("answered_at", "pk")
    )
    for answer in answered:
        trend = trends.setdefault(answer.instrument_id, QuestionnaireTrend(instrument=answer.instrument, points=[]))
        trend.points.append(
            QuestionnairePoint(day=timezone.localdate(answer.answered_at), score=answer.score, occasion=answer.occasion)
        )
    return sorted(trends.values(), key=lambda trend: trend.instrument.name)
