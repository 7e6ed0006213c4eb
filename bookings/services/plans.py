"""Writes on care plans: assigning a plan, ending it, booking a phase as a series, cancelling.

Every appointment a plan makes goes through ``appointment_book`` and every cancellation
through ``appointment_cancel``, so the screening gate, notice, horizon and capacity rules
are the booking service's alone.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from bookings.models import (
    Appointment,
    CarePlan,
    ImprovementBasis,
    PlanPhase,
    PlanSeries,
    PlanTemplate,
    SeriesOccurrence,
)
from bookings.services.appointments import BookingRefused, appointment_book, appointment_cancel
from clinic.audit import audit_record
from clinic.care_team import care_team_require_member
from clinic.clinic_time import clinic_datetime, format_when
from clinic.models import AuditEvent, Patient, Practitioner, User

MAX_SERIES_SESSIONS = 26
ALTERNATIVES_OFFERED = 3


class CarePlanRefused(ValueError):
    """A plan change that the clinic's rules do not allow; the message says why."""


@transaction.atomic
def care_plan_assign(
    *,
    patient: Patient,
    template: PlanTemplate,
    start_date: date,
    assigned_by: User,
    practitioner: Practitioner | None = None,
    notes: str = "",
) -> CarePlan:
    """Put ``patient`` on ``template`` from ``start_date``; one active plan per modality family.

    The page, the admin and the API all come here; the database holds the one-plan rule as a backstop.
    Only the patient's care team (or an admin) plans their care: a plan grants no access itself.
    """
    care_team_require_member(actor=assigned_by, patient=patient, doing="put them on a care plan")
    if not patient.user.is_active:
        raise CarePlanRefused(_("This patient's account is closed."))
    # Lock the patient so two practitioners assigning at once cannot both pass the check below.
    Patient.objects.select_for_update().get(pk=patient.pk)
    care_plan_assignable_check(patient=patient, template=template)
    plan = CarePlan(
        patient=patient,
        template=template,
        start_date=start_date,
        practitioner=practitioner,
        notes=notes,
        assigned_by=assigned_by,
    )
    plan.full_clean()
    plan.save()
    audit_record(
            request=None,
        actor=assigned_by, patient=patient, action=AuditEvent.Action.CREATE, target=plan,
        description=f"Care plan started: {template}",
    )  # fmt: skip
    return plan


def care_plan_assignable_check(*, patient: Patient, template: PlanTemplate) -> None:
    """Raise ``CarePlanRefused`` unless ``template`` is offered and ``patient`` has no active plan of its family."""
    if not template.is_active:
        raise CarePlanRefused(_("“%(plan)s” is no longer offered.") % {"plan": template})
    if not template.phases.exists():
        raise CarePlanRefused(_("“%(plan)s” has no phases yet; an admin must add them first.") % {"plan": template})
    current = CarePlan.objects.active().filter(patient=patient, template__family=template.family).first()
    if current is not None:
        raise CarePlanRefused(
            _("%(patient)s is already on “%(plan)s” (since %(day)s); end that plan first.")
            % {"patient": patient.full_name, "plan": current.template, "day": format_when(current.start_date, "date")}
        )


@transaction.atomic
def care_plan_end(*, plan: CarePlan, by: User) -> CarePlan:
    """Stop the plan (no more due dates or nudges).  Booked appointments stay booked."""
    plan = CarePlan.objects.select_for_update().select_related("patient").get(pk=plan.pk)
    if by.pk != plan.patient.user_id:  # the patient may end their own plan (e.g. deleting their account)
        care_team_require_member(actor=by, patient=plan.patient, doing="end their care plan")
    if plan.status == CarePlan.Status.ACTIVE:
        plan.status = CarePlan.Status.ENDED
        plan.ended_at = timezone.now()
        plan.ended_by = by
        plan.save(update_fields=["status", "ended_at", "ended_by", "updated_at"])
        audit_record(
            request=None,
            actor=by,
            patient=plan.patient,
            action=AuditEvent.Action.CHANGE,
            target=plan,
            description="Care plan ended",
        )
    return plan


@transaction.atomic
def care_plan_improvement_record(
    *, plan: CarePlan, basis: str, evidence: str, by: User, on_date: date | None = None
) -> CarePlan:
    """Move the plan past its phase that ends on improvement (e.g. acupuncture's initial phase to maintenance).

    ``basis`` is a sustained decrease in pain (treatments decides from the signed logs and calls this)
    or a clinician's decision (from the plan page, with their reason as ``evidence``).  Recorded once:
    a later call changes nothing.  Only the patient's care team (or an admin) moves their plan.
    """
    plan = CarePlan.objects.select_for_update().select_related("patient").get(pk=plan.pk)
    care_team_require_member(actor=by, patient=plan.patient, doing="move their care plan on")
    if basis not in ImprovementBasis.values:
        raise CarePlanRefused(_("Say why the plan moves on: a sustained decrease or a clinician's decision."))
    evidence = " ".join(evidence.split())
    if not evidence:
        raise CarePlanRefused(_("Give the reason the plan moves on; it is shown on the plan."))
    if not plan.is_active or plan.improved_on is not None:
        return plan
    if not plan.template.phases.filter(ends_on_improvement=True).exists():
        raise CarePlanRefused(_("“%(plan)s” has no phase that ends when pain decreases.") % {"plan": plan.template})
    plan.improved_on = on_date or timezone.localdate()
    plan.improvement_basis = basis
    plan.improvement_evidence = evidence[:300]
    plan.improvement_recorded_by = by
    plan.save(
        update_fields=[
            "improved_on",
            "improvement_basis",
            "improvement_evidence",
            "improvement_recorded_by",
            "updated_at",
        ]
    )
    audit_record(
        request=None,
        actor=by,
        patient=plan.patient,
        action=AuditEvent.Action.CHANGE,
        target=plan,
        description=f"Care plan moved on ({plan.get_improvement_basis_display()}): {plan.improvement_evidence}",
    )
    return plan


def plan_series_starts(
    *, first_date: date, weekday: int, local_time: time, count: int, interval_days: int
) -> list[datetime]:
    """Start instants of a series: the first ``weekday`` on or after ``first_date``, then every
    ``interval_days`` local days, each at the same local wall-clock time (so 09:00 stays 09:00
    across a daylight-saving change)."""
    first_day = first_date + timedelta(days=(weekday - first_date.weekday()) % 7)
    return [clinic_datetime(first_day + timedelta(days=interval_days * index), local_time) for index in range(count)]


def _alternatives_for(*, refusal: BookingRefused, around: datetime, taken: set[datetime]) -> list[str]:
    """The refusal's offered times, nearest to the asked-for time first, minus the series' own."""
    times = [moment for moment in refusal.alternatives if moment not in taken]
    times.sort(key=lambda moment: (abs((moment - around).total_seconds()), moment))
    return [timezone.localtime(moment).isoformat() for moment in times[:ALTERNATIVES_OFFERED]]


def plan_series_book(
    *,
    plan: CarePlan,
    phase: PlanPhase,
    first_date: date,
    weekday: int,
    local_time: time,
    count: int,
    interval_days: int,
    booked_by: User,
    practitioner: Practitioner | None = None,
) -> PlanSeries:
    """Book ``count`` sessions of ``phase`` every ``interval_days`` at ``local_time`` on ``weekday``.

    Each occurrence is booked on its own through ``appointment_book`` (screening gate, notice,
    horizon, hours and capacity all apply) and commits on its own, exactly as if booked one by
    one: a taken date does not undo the others, and no lock is held across the whole series
    (which would serialise the clinic's bookings behind one long transaction).  Occurrences that
    could not be booked keep the reason and the nearest free alternatives.
    """
    if not plan.is_active:
        raise CarePlanRefused(_("This plan has ended; start a new plan to book more sessions."))
    if phase.template_id != plan.template_id:
        raise CarePlanRefused(_("That phase belongs to another plan."))
    if not 1 <= count <= MAX_SERIES_SESSIONS:
        raise CarePlanRefused(_("A series has 1 to %(most)d sessions.") % {"most": MAX_SERIES_SESSIONS})
    if not phase.interval_min_days <= interval_days <= phase.interval_max_days:
        words = {"phase": phase.label, "min": phase.interval_min_days, "max": phase.interval_max_days}
        words["days"] = interval_days
        if phase.interval_min_days == phase.interval_max_days:
            message = ngettext(
                "%(phase)s sessions are %(min)d day apart; %(days)d days does not fit.",
                "%(phase)s sessions are %(min)d days apart; %(days)d days does not fit.",
                phase.interval_min_days,
            )
        else:
            message = _("%(phase)s sessions are %(min)d to %(max)d days apart; %(days)d days does not fit.")
        raise CarePlanRefused(message % words)
    series = PlanSeries.objects.create(
        plan=plan,
        phase=phase,
        first_date=first_date,
        local_time=local_time,
        interval_days=interval_days,
        practitioner=practitioner,
        created_by=booked_by,
    )
    starts = plan_series_starts(
        first_date=first_date, weekday=weekday, local_time=local_time, count=count, interval_days=interval_days
    )
    booked: set[datetime] = set()
    for sequence, starts_at in enumerate(starts, start=1):
        occurrence = SeriesOccurrence(series=series, sequence=sequence, requested_starts_at=starts_at)
        if starts_at.astimezone(UTC).astimezone(starts_at.tzinfo).time() != local_time:
            # The wall-clock time does not exist that day (clocks go forward through it).
            occurrence.refusal_reason = _("%(time)s does not exist on %(day)s: the clocks change.") % {
                "time": format_when(local_time, "time"),
                "day": format_when(starts_at, "day"),
            }
            occurrence.save()
            continue
        try:
            with transaction.atomic():
                appointment = appointment_book(
                    patient=plan.patient,
                    modality=phase.modality,
                    starts_at=starts_at,
                    booked_by=booked_by,
                    practitioner=practitioner,
                )
                occurrence.appointment = appointment
                occurrence.save()
            booked.add(appointment.starts_at)
        except BookingRefused as refusal:
            occurrence.appointment = None
            occurrence.refusal_reason = refusal.message
            occurrence.alternatives = _alternatives_for(refusal=refusal, around=starts_at, taken=booked)
            occurrence.save()
    return series


def plan_occurrence_book_alternative(
    *, occurrence: SeriesOccurrence, starts_at: datetime, booked_by: User
) -> Appointment:
    """Book an unavailable occurrence at another time (usually one of the offered alternatives).

    On refusal the occurrence's reason and alternatives are refreshed and the refusal re-raised.
    """
    try:
        with transaction.atomic():
            occurrence = (
                SeriesOccurrence.objects.select_for_update(of=("self",))
                .select_related("series__plan__patient", "series__phase__modality", "series__practitioner")
                .get(pk=occurrence.pk)
            )
            series = occurrence.series
            if occurrence.appointment_id is not None:
                raise CarePlanRefused(_("This session is already booked."))
            if not series.plan.is_active:
                raise CarePlanRefused(_("This plan has ended; start a new plan to book more sessions."))
            appointment = appointment_book(
                patient=series.plan.patient,
                modality=series.phase.modality,
                starts_at=starts_at,
                booked_by=booked_by,
                practitioner=series.practitioner,
            )
            occurrence.appointment = appointment
            occurrence.save(update_fields=["appointment"])
            return appointment
    except BookingRefused as refusal:
        occurrence.refusal_reason = refusal.message
        occurrence.alternatives = _alternatives_for(refusal=refusal, around=occurrence.requested_starts_at, taken=set())
        occurrence.save(update_fields=["refusal_reason", "alternatives"])
        raise


@transaction.atomic
def plan_occurrence_cancel(*, occurrence: SeriesOccurrence, by: User, reason: str = "") -> Appointment:
    """Cancel one booked session of a series (the booking service's rules and records apply)."""
    if occurrence.appointment_id is None:
        raise CarePlanRefused(_("This session was never booked."))
    return appointment_cancel(appointment=occurrence.appointment, by=by, reason=reason)


def plan_remaining_appointments(*, plan: CarePlan) -> models.QuerySet[Appointment]:
    """The plan's booked sessions that have not started yet."""
    return Appointment.objects.upcoming().filter(plan_occurrence__series__plan=plan).order_by("starts_at")


@transaction.atomic
def plan_cancel_remaining(*, plan: CarePlan, by: User, reason: str = "") -> list[Appointment]:
    """Cancel every session the plan has booked that has not started yet: all of them or none."""
    return [
        appointment_cancel(appointment=appointment, by=by, reason=reason)
        for appointment in plan_remaining_appointments(plan=plan)
    ]


@transaction.atomic
def care_plan_relief_record(*, plan: CarePlan, interval_days: int | None, evidence: list[dict]) -> CarePlan:
    """Store how long relief lasts for the plan's patient (estimated by treatments from check-ins).

    The next due date follows it within the plan's bounds unless the clinician locked the cadence
    (``CarePlan.relief_interval_days``).  ``None`` means "no estimate": nothing changes.
    """
    plan = CarePlan.objects.select_for_update().get(pk=plan.pk)
    if interval_days is None or not plan.is_active:
        return plan
    if plan.learned_interval_days == interval_days and plan.learned_interval_evidence == evidence:
        return plan
    plan.learned_interval_days = interval_days
    plan.learned_interval_evidence = evidence
    plan.learned_interval_at = timezone.now()
    plan.save(update_fields=["learned_interval_days", "learned_interval_evidence", "learned_interval_at", "updated_at"])
    return plan


@transaction.atomic
def care_plan_relief_settings_set(*, plan: CarePlan, by: User, min_days: int, max_days: int, locked: bool) -> CarePlan:
    """The clinician's bounds for a relief-led cadence, and whether the plan's own interval is kept."""
    plan = CarePlan.objects.select_for_update().select_related("patient").get(pk=plan.pk)
    care_team_require_member(actor=by, patient=plan.patient, doing="change their care plan's cadence")
    if not 1 <= min_days <= max_days <= 365:
        raise CarePlanRefused(_("Give a shortest interval of at least 1 day and a longest one no shorter than it."))
    plan.relief_min_days, plan.relief_max_days, plan.cadence_locked = min_days, max_days, locked
    plan.save(update_fields=["relief_min_days", "relief_max_days", "cadence_locked", "updated_at"])
    audit_record(
        request=None,
        actor=by,
        patient=plan.patient,
        action=AuditEvent.Action.CHANGE,
        target=plan,
        description=f"Care plan cadence: relief-led within {min_days}-{max_days} days"
        + (", locked to the plan's interval" if locked else ""),
    )
    return plan
