"""Writes on session logs.  Views and admin call these; nothing else saves a SessionLog.

Every write runs the same rules as the form (``SessionLog.clean()`` via
``full_clean()``), so a caller that skips the form still cannot store an
implausible reading; the database constraints are the last backstop.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from bookings.models import Appointment, CarePlan, ImprovementBasis
from bookings.services.appointments import appointment_mark_attended
from bookings.services.plans import care_plan_improvement_record
from clinic.audit import audit_record
from clinic.care_team import care_team_require_member
from clinic.clinic_time import format_when
from clinic.models import AuditEvent, User
from screening.services import treatment_hold_place
from treatments.events import session_log_signed_publish
from treatments.models import AdverseEvent, Amendment, SessionLog


class SessionLogRefused(Exception):
    """The log cannot be written for a reason the practitioner should read."""


def session_log_prepare(*, appointment: Appointment) -> SessionLog:
    """An unsaved log pre-filled from the appointment, with today's limits applied."""
    modality = appointment.modality
    log = SessionLog(
        appointment=appointment,
        patient=appointment.patient,
        practitioner=appointment.practitioner,
        modality=modality,
        resource=appointment.resource or modality.resource,
        started_at=appointment.starts_at,
        duration_minutes=modality.slot_minutes,
    )
    log.limits_apply()
    return log


def _refuse_unless_loggable(appointment: Appointment) -> None:
    if appointment.status == Appointment.Status.CANCELLED:
        raise SessionLogRefused(_("This appointment was cancelled, so there is no session to log."))
    if SessionLog.objects.filter(appointment=appointment).exists():
        raise SessionLogRefused(_("This session is already logged; open the log to amend it."))
    if timezone.localdate(appointment.starts_at) > timezone.localdate():
        raise SessionLogRefused(_("This appointment is on a later day; log the session when it happens."))
    if appointment.starts_at > timezone.now():
        raise SessionLogRefused(
            _("This session has not started yet (it starts at %(time)s); log it once it has begun.")
            % {"time": format_when(appointment.starts_at, "time")}
        )


@transaction.atomic
def session_log_create(
    *,
    appointment: Appointment,
    by: User,
    values: Mapping[str, Any],
    adverse_events: Sequence[Mapping[str, Any]] = (),
    sign: bool = False,
) -> SessionLog:
    """Log a session and mark its appointment attended, both or neither (only by the patient's care team)."""
    care_team_require_member(actor=by, patient=appointment.patient, doing="log their sessions")
    appointment = (
        Appointment.objects.select_for_update(of=("self",))
        .select_related("modality", "resource")
        .get(pk=appointment.pk)
    )
    _refuse_unless_loggable(appointment)
    log = session_log_prepare(appointment=appointment)
    _assign(log, values)
    log.recorded_by = by
    if sign:
        log.status = SessionLog.Status.SIGNED
        log.signed_at = timezone.now()
        log.signed_by = by
    log.full_clean(exclude=["appointment"])  # the locked appointment above is the uniqueness check
    log.save()
    _adverse_events_replace(log, adverse_events)
    _hold_after_severe_event(log=log, by=by)
    appointment_mark_attended(appointment=appointment, by=by)
    if log.is_signed:
        session_log_signed_publish(log=log)
        care_plan_progress_check(log=log, by=by)
    return log


@transaction.atomic
def session_log_sign(*, log: SessionLog, by: User) -> SessionLog:
    """Sign a draft; from then on changes are amendments.  Signing twice changes nothing.

    Only the log's author signs it (or an admin, recorded as such).
    """
    log = SessionLog.objects.select_for_update().get(pk=log.pk)
    _require_author(log=log, actor=by, doing="sign")
    if not log.is_signed:
        log.status = SessionLog.Status.SIGNED
        log.signed_at = timezone.now()
        log.signed_by = by
        log.save(update_fields=["status", "signed_at", "signed_by", "updated_at"])
        session_log_signed_publish(log=log)
        care_plan_progress_check(log=log, by=by)
    return log


@transaction.atomic
def session_log_update(
    *,
    log: SessionLog,
    by: User,
    values: Mapping[str, Any],
    adverse_events: Sequence[Mapping[str, Any]],
    reason: str = "",
) -> SessionLog:
    """Change a log.  A draft is simply corrected; a signed log keeps its earlier
    version in an Amendment (who, when, why), and the reason is required."""
    log = SessionLog.objects.select_for_update(of=("self",)).select_related("modality", "resource").get(pk=log.pk)
    _require_author(log=log, actor=by, doing="change")
    before = session_log_snapshot(log)
    reason = reason.strip()
    if log.is_signed and not reason:
        raise SessionLogRefused(_("Give a reason for amending a signed record."))
    _assign(log, values)
    log.full_clean(exclude=["appointment"])
    after_fields = {field: _json_value(getattr(log, field)) for field in SessionLog.CLINICAL_FIELDS}
    new_events = [_event_record(values) for values in adverse_events]
    changed = [field for field, value in after_fields.items() if before["fields"][field] != value]
    if new_events != before["adverse_events"]:
        changed.append("adverse_events")
    if not changed:
        return log
    log.save()
    _adverse_events_replace(log, adverse_events)
    _hold_after_severe_event(log=log, by=by)
    if log.is_signed:
        Amendment.objects.create(
            session_log=log, changed_by=by, reason=reason, previous_values=before, changed_fields=changed
        )
    return log


def _require_author(*, log: SessionLog, actor: User, doing: str) -> None:
    """A log is changed or signed by the person who recorded it; an admin may, and is audited as admin."""
    if actor.is_active and actor.pk == log.recorded_by_id:
        care_team_require_member(actor=actor, patient=log.patient, doing=f"{doing} their session logs")
        return
    if actor.is_active and actor.is_clinic_admin:
        audit_record(
            request=None,
            actor=actor,
            patient=log.patient,
            action=AuditEvent.Action.CHANGE,
            target=log,
            description=f"Session log: {doing} by an admin, not its author",
        )
        return
    if doing == "sign":
        raise SessionLogRefused(_("Only the practitioner who recorded this session may sign the log."))
    raise SessionLogRefused(_("Only the practitioner who recorded this session may change the log."))


def session_log_snapshot(log: SessionLog) -> dict[str, Any]:
    """The log's clinical content as JSON: what an amendment keeps."""
    return {
        "fields": {field: _json_value(getattr(log, field)) for field in SessionLog.CLINICAL_FIELDS},
        "adverse_events": [event.as_record() for event in log.adverse_events.order_by("pk")],
    }


def _assign(log: SessionLog, values: Mapping[str, Any]) -> None:
    editable = set(SessionLog.CLINICAL_FIELDS) | {"resource"}
    for field, value in values.items():
        if field not in editable:
            raise SessionLogRefused(f"{field!r} is not something a session log records.")
        setattr(log, field, value)


def _event_record(values: Mapping[str, Any]) -> dict[str, str]:
    return {
        "kind": values["kind"],
        "severity": values["severity"],
        "description": values.get("description", "") or "",
        "action_taken": values["action_taken"],
    }


def _adverse_events_replace(log: SessionLog, adverse_events: Sequence[Mapping[str, Any]]) -> None:
    # The earlier list survives in the amendment's JSON; rows here are the current version.
    for old in log.adverse_events.all():
        models.Model.delete(old)
    for values in adverse_events:
        event = AdverseEvent(session_log=log, **_event_record(values))
        event.full_clean()
        event.save()


def care_plan_progress_check(*, log: SessionLog, by: User) -> CarePlan | None:
    """Move the patient's plan past a phase that ends on improvement once the decrease is sustained.

    The course's baseline is the pain before its first signed session of this treatment; the decrease
    counts when the pain before each of the last ``improvement_sessions`` signed sessions is at least
    ``improvement_percent`` below it (pain at the start of a session shows relief that lasted, not the
    session's immediate effect).  Seed 004: maintenance begins once pain levels decrease.
    """
    plan = CarePlan.objects.active().filter(patient=log.patient, family=log.kind).first()
    if plan is None or plan.improved_on is not None:
        return None
    phase = plan.cadence().phase
    if phase is None or not phase.ends_on_improvement:
        return None
    scores = list(
        SessionLog.objects.signed()
        .filter(patient=log.patient, kind=log.kind)
        .order_by("started_at", "pk")
        .values_list("pain_before", "started_at")
    )
    needed = phase.improvement_sessions
    if len(scores) < needed + 1:
        return None
    baseline = scores[0][0]
    recent = [score for score, _started in scores[-needed:]]
    ceiling = baseline * (100 - phase.improvement_percent) / 100
    if baseline == 0 or any(score > ceiling for score in recent):
        return None
    drop = round(100 * (baseline - max(recent)) / baseline)
    evidence = _(
        "Pain before sessions %(baseline)s at the start, then %(recent)s in the last %(needed)s signed sessions "
        "(at least %(drop)s%% lower; %(percent)s%% needed)"
    ) % {
        "baseline": baseline,
        "recent": ", ".join(map(str, recent)),
        "needed": needed,
        "drop": drop,
        "percent": phase.improvement_percent,
    }
    return care_plan_improvement_record(
        plan=plan,
        basis=ImprovementBasis.SUSTAINED_DECREASE,
        evidence=evidence,
        by=by,
        on_date=timezone.localdate(scores[-1][1]),
    )


def _hold_after_severe_event(*, log: SessionLog, by: User) -> None:
    """A severe adverse event stops further sessions of this treatment until a clinician reviews it (000)."""
    severe = [event for event in log.adverse_events.all() if event.severity == AdverseEvent.Severity.SEVERE]
    if not severe:
        return
    what = ", ".join(event.get_kind_display() for event in severe)
    treatment_hold_place(
        patient=log.patient,
        family=log.kind,
        reason=_("%(events)s (severe) after the session on %(day)s")
        % {"events": what, "day": format_when(timezone.localdate(log.started_at), "long_date")},
        source=f"session_log:{log.pk}",
        by=by,
    )


def _json_value(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    return value
