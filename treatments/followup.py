"""Between sessions: questionnaires (PROMs) and relief check-ins, sent through the outbox and
answered from signed links without logging in.

Planning is idempotent (one ``QuestionnaireRequest`` per plan, instrument and occasion; one
``ReliefCheckIn`` per session and day; one outbox row per key), so the periodic planner may run
as often as it likes.  The link's signature is the credential: it names one row, it expires
(``OutcomeSettings.questionnaire_valid_days``), and a questionnaire accepts one answer.

Relief sets the cadence: after each cryotherapy session the patient is asked for their pain on
the chosen days.  Relief has worn off on the first check-in whose score is back within the margin
of the session's pre-session score; if it never came back, relief lasted at least until the last
answered check-in.  The estimate is the median over the most recent sessions with answers, and
``bookings`` keeps it on the care plan, where the next due date follows it within the clinician's
bounds unless they locked the cadence.  No answer changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from statistics import median_low
from typing import Any

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.db.models import Prefetch
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from bookings.models import CarePlan
from bookings.services.plans import care_plan_relief_record
from clinic.audit import audit_record
from clinic.clinic_time import clinic_datetime
from clinic.models import AuditEvent, Modality, Patient
from notifications.models import ReminderSettings
from notifications.services import due_outside_quiet_hours, reminder_plan
from treatments.models import Instrument, OutcomeSettings, QuestionnaireRequest, ReliefCheckIn, SessionLog

QUESTIONNAIRE_SALT = "treatments.questionnaire"
CHECKIN_SALT = "treatments.relief-checkin"
CRYOTHERAPY_KINDS = (Modality.Kind.WHOLE_BODY_CRYO.value, Modality.Kind.LOCALIZED_CRYO.value)
# Check-ins are asked at this clinic time on their day.
CHECKIN_TIME = time(9, 0)
# A plan ended longer ago than this gets no discharge questionnaire any more.
DISCHARGE_LOOKBACK = timedelta(days=14)


class FollowUpMessage(StrEnum):
    """The kinds of message treatments sends (``Reminder.kind``; written in ``treatments.notifications``)."""

    QUESTIONNAIRE = "questionnaire"
    RELIEF_CHECKIN = "relief_checkin"


class LinkRefused(Exception):
    """A questionnaire or check-in link that cannot be used; the message tells the patient why."""

    def __init__(self, message: str, *, gone: bool = False) -> None:
        super().__init__(message)
        self.gone = gone  # expired or already used (HTTP 410), rather than not a link of ours


def _absolute(path: str) -> str:
    return f"{settings.SITE_URL}{path}"


# --- Questionnaires --------------------------------------------------------------------------


def questionnaire_url(*, questionnaire: QuestionnaireRequest) -> str:
    token = signing.dumps({"q": questionnaire.pk}, salt=QUESTIONNAIRE_SALT)
    return _absolute(reverse("treatments:questionnaire_answer", kwargs={"token": token}))


def _questionnaire_send(
    *, plan: CarePlan, instrument: Instrument, occasion: str, occasion_key: str, now: datetime, rules: OutcomeSettings
) -> bool:
    questionnaire, created = QuestionnaireRequest.objects.get_or_create(
        care_plan=plan,
        instrument=instrument,
        occasion_key=occasion_key,
        defaults={
            "patient": plan.patient,
            "family": plan.family,
            "occasion": occasion,
            "created_at": now,
            "expires_at": now + timedelta(days=rules.questionnaire_valid_days),
        },
    )
    if created:
        reminder_plan(
            key=f"questionnaire:{questionnaire.pk}",
            kind=FollowUpMessage.QUESTIONNAIRE,
            patient=plan.patient,
            about=questionnaire,
            due_at=due_outside_quiet_hours(due_at=now, rules=ReminderSettings.load()),
        )
    return created


@transaction.atomic
def questionnaires_plan_due(*, now: datetime | None = None) -> int:
    """Send the questionnaires due now: at a plan's start, every few weeks during it, at its end.

    Returns how many were sent.  Idempotent (the occasion is part of the unique key).
    """
    now = now or timezone.now()
    today = timezone.localdate(now)  # "every 28 days" in local dates, across a daylight-saving change
    rules = OutcomeSettings.load()
    instruments = list(Instrument.objects.active().filter(items__isnull=False).distinct())
    if not instruments:
        return 0
    plans = CarePlan.objects.filter(status=CarePlan.Status.ACTIVE, start_date__lte=today) | CarePlan.objects.filter(
        status=CarePlan.Status.ENDED, ended_at__gte=now - DISCHARGE_LOOKBACK
    )
    plans = plans.select_related("patient__user").prefetch_related(
        Prefetch("patient__questionnaires", queryset=QuestionnaireRequest.objects.order_by("created_at"))
    )
    sent = 0
    for plan in plans:
        if not plan.patient.user.is_active:
            continue
        earlier = [request for request in plan.patient.questionnaires.all() if request.care_plan_id == plan.pk]
        for instrument in instruments:
            if not instrument.is_for(plan.family):
                continue
            own = [request for request in earlier if request.instrument_id == instrument.pk]
            if plan.status == CarePlan.Status.ENDED:
                if own and not any(request.occasion == QuestionnaireRequest.Occasion.DISCHARGE for request in own):
                    sent += _questionnaire_send(
                        plan=plan, instrument=instrument, occasion="discharge", occasion_key="discharge", now=now,
                        rules=rules,
                    )  # fmt: skip
            elif not own:
                sent += _questionnaire_send(
                    plan=plan, instrument=instrument, occasion="intake", occasion_key="intake", now=now, rules=rules
                )
            elif timezone.localdate(own[-1].created_at) + timedelta(days=rules.questionnaire_every_days) <= today:
                number = sum(request.occasion == QuestionnaireRequest.Occasion.DURING for request in own) + 1
                sent += _questionnaire_send(
                    plan=plan, instrument=instrument, occasion="during", occasion_key=f"during:{number}", now=now,
                    rules=rules,
                )  # fmt: skip
    return sent


def questionnaire_from_token(*, token: str) -> QuestionnaireRequest:
    """The questionnaire a link names, if it can still be answered (``LinkRefused`` otherwise)."""
    try:
        data = signing.loads(token, salt=QUESTIONNAIRE_SALT)
        questionnaire = (
            QuestionnaireRequest.objects.select_related("instrument", "patient__user")
            .prefetch_related("instrument__items")
            .get(pk=data["q"])
        )
    except (signing.BadSignature, QuestionnaireRequest.DoesNotExist, KeyError, TypeError):
        raise LinkRefused(_("This link is not valid. Please use the link in your latest message.")) from None
    if questionnaire.is_answered:
        raise LinkRefused(_("This questionnaire has already been answered. Thank you!"), gone=True)
    if questionnaire.expires_at <= timezone.now():
        raise LinkRefused(_("This link has expired. We will send you the next questionnaire in time."), gone=True)
    return questionnaire


@transaction.atomic
def questionnaire_answer(*, token: str, answers: list[int]) -> QuestionnaireRequest:
    """Record and score the patient's answers, once; the link's signature is the credential."""
    questionnaire = questionnaire_from_token(token=token)
    questionnaire = (
        QuestionnaireRequest.objects.select_for_update().select_related("instrument").get(pk=questionnaire.pk)
    )
    if questionnaire.is_answered:
        raise LinkRefused(_("This questionnaire has already been answered. Thank you!"), gone=True)
    instrument = questionnaire.instrument
    items = list(instrument.items.all())
    if len(answers) != len(items) or any(
        not isinstance(answer, int)
        or isinstance(answer, bool)
        or not instrument.scale_min <= answer <= instrument.scale_max
        for answer in answers
    ):
        raise ValueError(
            _("Give one whole number from %(low)s to %(high)s per question.")
            % {"low": instrument.scale_min, "high": instrument.scale_max}
        )
    questionnaire.answers = list(answers)
    questionnaire.score = instrument.score(answers)
    questionnaire.answered_at = timezone.now()
    questionnaire.save(update_fields=["answers", "score", "answered_at"])
    audit_record(
        request=None,
        actor=questionnaire.patient.user,
        patient=questionnaire.patient,
        action=AuditEvent.Action.CREATE,
        target=questionnaire,
        description=f"Questionnaire answered from its link: {instrument.code}",
    )
    return questionnaire


# --- Relief check-ins ------------------------------------------------------------------------


def checkin_answer_url(*, checkin: ReliefCheckIn, pain: int) -> str:
    token = signing.dumps({"c": checkin.pk, "p": pain}, salt=CHECKIN_SALT)
    return _absolute(reverse("treatments:checkin_answer", kwargs={"token": token}))


@transaction.atomic
def relief_checkins_plan_due(*, now: datetime | None = None) -> int:
    """Ask for check-ins after each signed cryotherapy session, on the clinic's chosen days.

    Returns how many were planned.  Each (session, day) gets one check-in and one outbox row
    (unique keys); a day already past when the session was signed is not asked any more.
    """
    now = now or timezone.now()
    rules = OutcomeSettings.load()
    days = rules.checkin_days
    if not days:
        return 0
    today = timezone.localdate(now)
    reminder_rules = ReminderSettings.load()
    logs = (
        SessionLog.objects.signed()
        .filter(kind__in=CRYOTHERAPY_KINDS, started_at__gte=now - timedelta(days=max(days) + 1))
        .select_related("patient__user")
        .prefetch_related("checkins")
    )
    planned = 0
    for log in logs:
        asked = {checkin.day for checkin in log.checkins.all()}
        session_day = timezone.localdate(log.started_at)
        for day in days:
            due_on = session_day + timedelta(days=day)
            if day in asked or due_on < today:
                continue
            due_at = clinic_datetime(due_on, CHECKIN_TIME)
            checkin = ReliefCheckIn.objects.create(
                session_log=log,
                patient=log.patient,
                day=day,
                due_on=due_on,
                expires_at=due_at + timedelta(days=rules.questionnaire_valid_days),
            )
            reminder_plan(
                key=f"relief:{log.pk}:{day}",
                kind=FollowUpMessage.RELIEF_CHECKIN,
                patient=log.patient,
                about=checkin,
                due_at=due_outside_quiet_hours(due_at=due_at, rules=reminder_rules),
            )
            planned += 1
    return planned


def checkin_from_token(*, token: str) -> tuple[ReliefCheckIn, int]:
    try:
        data = signing.loads(token, salt=CHECKIN_SALT)
        checkin = ReliefCheckIn.objects.select_related("patient__user", "session_log").get(pk=data["c"])
        pain = int(data["p"])
    except (signing.BadSignature, ReliefCheckIn.DoesNotExist, KeyError, TypeError, ValueError):
        raise LinkRefused(_("This link is not valid. Please use the link in your latest message.")) from None
    if not 0 <= pain <= 10:
        raise LinkRefused(_("This link is not valid. Please use the link in your latest message."))
    if checkin.expires_at <= timezone.now():
        raise LinkRefused(_("This check-in has closed. Thank you all the same."), gone=True)
    return checkin, pain


@transaction.atomic
def relief_checkin_answer(*, token: str) -> ReliefCheckIn:
    """Record the score the tapped link carries (a second tap corrects it until the link expires),
    then let the patient's relief update their plan's cadence."""
    checkin, pain = checkin_from_token(token=token)
    checkin = ReliefCheckIn.objects.select_for_update().select_related("patient", "session_log").get(pk=checkin.pk)
    if checkin.pain != pain:
        checkin.pain = pain
        checkin.answered_at = timezone.now()
        checkin.save(update_fields=["pain", "answered_at"])
        audit_record(
            request=None,
            actor=checkin.patient.user,
            patient=checkin.patient,
            action=AuditEvent.Action.CREATE,
            target=checkin,
            description=f"Relief check-in answered: day {checkin.day}, pain {pain}/10",
        )
    relief_cadence_update(patient=checkin.patient, family=checkin.session_log.kind)
    return checkin


@dataclass(frozen=True)
class SessionRelief:
    """How long relief lasted after one session, read from its check-ins."""

    session_on: date
    pain_before: int
    days: int
    at_least: bool  # pain was not back by the last answered check-in
    answers: tuple[tuple[int, int], ...]  # (day, pain)

    def as_evidence(self) -> dict[str, Any]:
        return {
            "session_on": self.session_on.isoformat(),
            "pain_before": self.pain_before,
            "relief_days": self.days,
            "at_least": self.at_least,
            "answers": [list(answer) for answer in self.answers],
        }


def session_relief(*, log: SessionLog, margin: int) -> SessionRelief | None:
    """None when no check-in of the session was answered (no answer changes nothing)."""
    answers = tuple(
        (checkin.day, checkin.pain)
        for checkin in sorted(log.checkins.all(), key=lambda checkin: checkin.day)
        if checkin.pain is not None
    )
    if not answers:
        return None
    back = next((day for day, pain in answers if pain >= log.pain_before - margin), None)
    return SessionRelief(
        session_on=timezone.localdate(log.started_at),
        pain_before=log.pain_before,
        days=back if back is not None else answers[-1][0],
        at_least=back is None,
        answers=answers,
    )


def relief_estimate(*, patient: Patient, family: str) -> tuple[int | None, list[SessionRelief]]:
    """(days relief lasts, the sessions it rests on): the median over the most recent sessions
    with answered check-ins; (None, []) before any answer."""
    rules = OutcomeSettings.load()
    logs = (
        SessionLog.objects.signed()
        .filter(patient=patient, kind=family, checkins__pain__isnull=False)
        .distinct()
        .prefetch_related("checkins")
        .order_by("-started_at")
    )
    reliefs: list[SessionRelief] = []
    for log in logs:
        relief = session_relief(log=log, margin=rules.relief_margin_points)
        if relief is not None:
            reliefs.append(relief)
        if len(reliefs) == rules.relief_sessions_considered:
            break
    if not reliefs:
        return None, []
    return median_low(relief.days for relief in reliefs), reliefs


def relief_cadence_update(*, patient: Patient, family: str) -> CarePlan | None:
    """Write the patient's relief estimate onto their active plan of ``family`` (if any)."""
    plan = CarePlan.objects.active().filter(patient=patient, family=family).first()
    if plan is None:
        return None
    days, reliefs = relief_estimate(patient=patient, family=family)
    return care_plan_relief_record(plan=plan, interval_days=days, evidence=[relief.as_evidence() for relief in reliefs])


def followups_plan_due(*, now: datetime | None = None) -> dict[str, int]:
    """The periodic planner: questionnaires and relief check-ins due now."""
    return {
        "questionnaires": questionnaires_plan_due(now=now),
        "relief_checkins": relief_checkins_plan_due(now=now),
    }
