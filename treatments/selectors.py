"""Reads over session logs: a patient's outcomes and the staff reports.

Definitions (DESIGN.md, "Outcome"):
- immediate change: pain before minus pain after in one session (positive = better);
- change from baseline: the first session's pre-session score minus the latest
  session's pre-session score, in points and as a percentage of the baseline;
- a clinically meaningful response: a reduction of at least 30 % or at least 2 points.

Outcomes are grouped by treatment kind (whole-body cryotherapy, localized
cryotherapy, acupuncture) rather than by bookable modality, so an acupuncture
course's baseline is its initial consultation and its follow-ups count against it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.core.exceptions import PermissionDenied
from django.db.models import Avg, Count, Exists, F, Max, OuterRef, Q, QuerySet, Value
from django.db.models.functions import Concat
from django.utils import timezone

from clinic.care_team import patient_is_visible_to
from clinic.clinic_time import local_midnight
from clinic.models import Modality, Patient, User
from treatments.models import AdverseEvent, SessionLog

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

    @property
    def baseline(self) -> int:
        return self.sessions[0].pain_before

    @property
    def latest(self) -> int:
        return self.sessions[-1].pain_before

    @property
    def change_points(self) -> int:
        return self.baseline - self.latest

    @property
    def change_percent(self) -> Decimal | None:
        return pain_reduction_percent(baseline=self.baseline, current=self.latest)

    @property
    def is_responder(self) -> bool:
        return len(self.sessions) > 1 and is_meaningful_response(baseline=self.baseline, current=self.latest)

    @property
    def mean_immediate_change(self) -> Decimal:
        total = sum(point.immediate_change for point in self.sessions)
        return (Decimal(total) / len(self.sessions)).quantize(Decimal("0.1"), ROUND_HALF_UP)


def _require_readable(*, actor: User, patient: Patient) -> None:
    """Chart reads answer to the one access rule (the patient themselves, or their care team)."""
    if not patient_is_visible_to(actor, patient):
        raise PermissionDenied("You may not read this patient's treatment records.")


def patient_outcomes(*, actor: User, patient: Patient) -> list[TreatmentOutcome]:
    """The patient's pain per session and change from baseline, per treatment kind (two queries)."""
    _require_readable(actor=actor, patient=patient)
    logs = (
        SessionLog.objects.for_patient(patient)
        .select_related("modality")
        .annotate(adverse_event_count=Count("adverse_events"))
        .order_by("started_at", "pk")
    )
    labels = dict(Modality.Kind.choices)
    outcomes: dict[str, TreatmentOutcome] = {}
    for log in logs:
        outcome = outcomes.setdefault(log.kind, TreatmentOutcome(kind=log.kind, label=labels[log.kind]))
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

    @property
    def adverse_event_rate(self) -> Decimal | None:
        return _percent(self.sessions_with_adverse_events, self.sessions)

    @property
    def responder_rate(self) -> Decimal | None:
        return _percent(self.responders, self.patients_assessed)


REPORT_GROUPS = {
    "modality": ("modality_id", Max("modality__name")),
    "practitioner": (
        "practitioner_id",
        Max(Concat("practitioner__user__first_name", Value(" "), "practitioner__user__last_name")),
    ),
}


def _percent(part: int, whole: int) -> Decimal | None:
    if not whole:
        return None
    return (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.1"), ROUND_HALF_UP)


def _local_day_bounds(date_from: date, date_to: date) -> tuple[datetime, datetime]:
    return local_midnight(date_from), local_midnight(date_to + timedelta(days=1))


def session_report(*, date_from: date, date_to: date, group_by: str = "modality") -> list[ReportRow]:
    """Per modality or per practitioner, sessions between two local dates (inclusive).

    - sessions, mean immediate change and sessions with an adverse event: aggregated in SQL;
    - responder rate: patients with at least two sessions in the group and period whose last
      pre-session score meets the meaningful-response rule against their first, computed in one
      pass over a single ordered query of (group, patient, kind, pain before).
    Two queries whatever the number of sessions.
    """
    if group_by not in REPORT_GROUPS:
        raise ValueError(f"Unknown report grouping {group_by!r}")
    key, label = REPORT_GROUPS[group_by]
    starts, ends = _local_day_bounds(date_from, date_to)
    logs = SessionLog.objects.filter(started_at__gte=starts, started_at__lt=ends)
    aggregates = (
        logs.annotate(had_event=Exists(AdverseEvent.objects.filter(session_log=OuterRef("pk"))))
        .values(key)
        .annotate(
            sessions=Count("pk"),
            mean_change=Avg(F("pain_before") - F("pain_after")),
            with_events=Count("pk", filter=Q(had_event=True)),
            label=label,
        )
        .order_by("label")
    )
    responders = _responders_by_group(
        logs.order_by(key, "patient_id", "kind", "started_at", "pk")
        .values_list(key, "patient_id", "kind", "pain_before")
        .iterator(chunk_size=2000)
    )
    rows = []
    for row in aggregates:
        assessed, responded = responders.get(row[key], (0, 0))
        mean = row["mean_change"]
        rows.append(
            ReportRow(
                label=row["label"],
                sessions=row["sessions"],
                mean_immediate_change=None
                if mean is None
                else Decimal(str(mean)).quantize(Decimal("0.01"), ROUND_HALF_UP),
                sessions_with_adverse_events=row["with_events"],
                patients_assessed=assessed,
                responders=responded,
            )
        )
    return rows


def _responders_by_group(rows: Iterable[tuple[int, int, str, int]]) -> dict[int, tuple[int, int]]:
    """{group: (patients assessed, responders)} from rows ordered by group, patient, kind, time."""
    result: dict[int, list[int]] = {}
    for (group, _patient, _kind), scores in _courses(rows):
        if len(scores) < 2:
            continue
        counts = result.setdefault(group, [0, 0])
        counts[0] += 1
        counts[1] += is_meaningful_response(baseline=scores[0], current=scores[-1])
    return {group: (assessed, responded) for group, (assessed, responded) in result.items()}


def _courses(rows: Iterable[tuple[int, int, str, int]]) -> Iterator[tuple[tuple[int, int, str], list[int]]]:
    current: tuple[int, int, str] | None = None
    scores: list[int] = []
    for group, patient_id, kind, pain_before in rows:
        course = (group, patient_id, kind)
        if course != current:
            if current is not None:
                yield current, scores
            current, scores = course, []
        scores.append(pain_before)
    if current is not None:
        yield current, scores
