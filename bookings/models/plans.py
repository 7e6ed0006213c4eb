"""Care plans: templates, assignment, cadence and series booking.

A plan's cadence is never stored: it is computed from what really happened (the
patient's attended appointments of the plan's modality family), so a no-show or a
session booked outside the plan moves the next due date without anyone updating it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Count, DateField, F, IntegerField, OuterRef, Prefetch, Q, Subquery, Value
from django.db.models.functions import Coalesce, TruncDate
from django.utils import timezone
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from bookings.models.appointments import Appointment
from clinic.clinic_time import clinic_zone, format_when, local_midnight
from clinic.models import Modality, Patient, Practitioner

__all__ = [
    "CarePlan",
    "CarePlanQuerySet",
    "ImprovementBasis",
    "PlanCadence",
    "PlanPhase",
    "PlanSeries",
    "PlanTemplate",
    "PlanTemplateQuerySet",
    "SeriesOccurrence",
]


class PlanTemplateQuerySet(models.QuerySet):
    def active(self) -> PlanTemplateQuerySet:
        return self.filter(is_active=True)


class PlanTemplate(models.Model):
    """A course of treatment the clinic recommends, e.g. "Cryotherapy — every 3 weeks"."""

    name = models.CharField(max_length=120, unique=True, verbose_name=_("name"))
    family = models.CharField(
        _("modality family"),
        max_length=20,
        choices=Modality.Kind.choices,
        help_text=_(
            "Every attended session of this kind of treatment counts towards the plan "
            "(e.g. an acupuncture initial consultation counts as the first acupuncture visit)."
        ),
    )
    description = models.TextField(
        blank=True, help_text=_("Shown to the patient on their care plan page."), verbose_name=_("description")
    )
    is_active = models.BooleanField(
        default=True, help_text=_("Untick to stop offering it for new plans."), verbose_name=_("is active")
    )

    objects = PlanTemplateQuerySet.as_manager()

    class Meta:
        verbose_name = _("plan template")
        verbose_name_plural = _("plan templates")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class PlanPhase(models.Model):
    """One stretch of a plan with its own rhythm, e.g. weekly for six sessions."""

    template = models.ForeignKey(
        PlanTemplate, on_delete=models.CASCADE, related_name="phases", verbose_name=_("template")
    )
    position = models.PositiveSmallIntegerField(
        help_text=_("Phases run in this order, lowest first."), verbose_name=_("position")
    )
    label = models.CharField(
        max_length=80, help_text=_("e.g. 'Initial phase' or 'Maintenance'."), verbose_name=_("label")
    )
    modality = models.ForeignKey(
        Modality,
        on_delete=models.PROTECT,
        related_name="plan_phases",
        help_text=_("What is booked for a session of this phase."),
        verbose_name=_("modality"),
    )
    sessions = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        help_text=_("Sessions in this phase; leave empty for an open-ended phase (only the last phase may be)."),
        verbose_name=_("sessions"),
    )
    interval_min_days = models.PositiveSmallIntegerField(
        _("interval from (days)"),
        help_text=_("Days from one attended session to the next one being due (7 = weekly)."),
    )
    interval_max_days = models.PositiveSmallIntegerField(
        _("interval up to (days)"),
        help_text=_(
            "Latest clinically sensible gap; equal to 'interval from' for a fixed rhythm "
            "(e.g. 14 to 28 for maintenance every 2-4 weeks)."
        ),
    )
    ends_on_improvement = models.BooleanField(
        _("ends when pain decreases"),
        default=False,
        help_text=_(
            "The plan moves on from this phase once the patient's pain has decreased (sustained, as set "
            "below) or a clinician decides, not after a number of sessions; 'sessions' then only says when to "
            "review a patient who has not improved (acupuncture's initial phase, article 004)."
        ),
    )
    improvement_percent = models.PositiveSmallIntegerField(
        _("decrease that counts (%)"),
        default=30,
        validators=[MinValueValidator(1), MaxValueValidator(100)],
        help_text=_("How far pain before a session must be below the course's first score (e.g. 30%)."),
    )
    improvement_sessions = models.PositiveSmallIntegerField(
        _("sustained over (sessions)"),
        default=2,
        validators=[MinValueValidator(1), MaxValueValidator(10)],
        help_text=_("For how many consecutive signed sessions the decrease must hold."),
    )

    class Meta:
        verbose_name = _("plan phase")
        verbose_name_plural = _("plan phases")
        ordering = ["template", "position"]
        constraints = [
            models.UniqueConstraint(fields=["template", "position"], name="plan_phase_position_unique"),
            models.CheckConstraint(condition=Q(interval_min_days__gte=1), name="plan_phase_interval_positive"),
            models.CheckConstraint(
                condition=Q(interval_max_days__gte=F("interval_min_days")), name="plan_phase_interval_ordered"
            ),
            models.CheckConstraint(
                condition=Q(sessions__isnull=True) | Q(sessions__gte=1), name="plan_phase_sessions_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.label} ({self.describe()})"

    def clean(self) -> None:
        super().clean()
        errors = {}
        if self.interval_min_days and self.interval_max_days and self.interval_max_days < self.interval_min_days:
            errors["interval_max_days"] = _("Must not be shorter than 'interval from'.")
        if self.template_id and self.modality_id and self.modality.kind != self.template.family:
            errors["modality"] = _("The plan is for %(family)s; choose a modality of it.") % {
                "family": self.template.get_family_display()
            }
        if errors:
            raise ValidationError(errors)

    @property
    def is_open_ended(self) -> bool:
        return self.sessions is None

    def describe(self) -> str:
        """ "Cryotherapy, weekly, 6 sessions" in the active language (the plan pages and the admin show it)."""
        low, high = self.interval_min_days, self.interval_max_days
        if low == high == 7:
            rhythm = gettext("weekly")
        elif low == high:
            rhythm = ngettext("every %(days)d day", "every %(days)d days", low) % {"days": low}
        else:
            rhythm = gettext("every %(low)d-%(high)d days") % {"low": low, "high": high}
        if self.is_open_ended:
            count = gettext("open-ended")
        else:
            count = ngettext("%(count)d session", "%(count)d sessions", self.sessions) % {"count": self.sessions}
        return gettext("%(modality)s, %(rhythm)s, %(count)s") % {
            "modality": self.modality.name,
            "rhythm": rhythm,
            "count": count,
        }


@dataclass(frozen=True)
class PlanCadence:
    """Where a plan stands on a given day; what the plan page and the rebooking nudges show."""

    as_of: date
    sessions_attended: int
    last_attended_on: date | None
    phase: PlanPhase | None  # None once every phase of a finite plan is done
    phase_session_number: int | None  # 1-based number of the next session within its phase
    next_due_on: date | None  # earliest day the next session is due; None when complete
    latest_due_on: date | None  # end of the clinically sensible window (equal for a fixed rhythm)
    next_booked_at: datetime | None
    # The interval came from the patient's own relief (treatments' check-ins), within the plan's bounds.
    interval_learned: bool = False
    # The current phase ends on improvement, and its planned sessions are done without one: review.
    improvement_awaited: bool = False

    @property
    def is_complete(self) -> bool:
        return self.phase is None

    @property
    def is_overdue(self) -> bool:
        return self.latest_due_on is not None and self.latest_due_on < self.as_of


def _cadence_compute(
    *,
    phases: list[PlanPhase],
    start_date: date,
    today: date,
    attended: int,
    last_attended_on: date | None,
    next_booked_at: datetime | None,
    learned_interval_days: int | None = None,
    attended_by_improvement: int | None = None,
) -> PlanCadence:
    """``attended_by_improvement``: sessions attended up to the day improvement was recorded (None: not yet)."""
    phase, number, done, awaited = None, None, 0, False
    for candidate in phases:
        if candidate.ends_on_improvement:
            if attended_by_improvement is None:  # stays in this phase until pain decreases or a clinician decides
                phase, number = candidate, attended - done + 1
                awaited = candidate.sessions is not None and attended - done >= candidate.sessions
                break
            length = max(attended_by_improvement - done, 0)
            if attended < done + length:
                phase, number = candidate, attended - done + 1
                break
            done += length
            continue
        if candidate.is_open_ended or attended < done + candidate.sessions:
            phase, number = candidate, attended - done + 1
            break
        done += candidate.sessions
    if phase is None:
        earliest = latest = None
    elif last_attended_on is None:
        earliest = latest = start_date
    elif learned_interval_days is not None:
        earliest = latest = last_attended_on + timedelta(days=learned_interval_days)
    else:
        earliest = last_attended_on + timedelta(days=phase.interval_min_days)
        latest = last_attended_on + timedelta(days=phase.interval_max_days)
    return PlanCadence(
        as_of=today,
        sessions_attended=attended,
        last_attended_on=last_attended_on,
        phase=phase,
        phase_session_number=number,
        next_due_on=earliest,
        latest_due_on=latest,
        next_booked_at=next_booked_at,
        interval_learned=phase is not None and last_attended_on is not None and learned_interval_days is not None,
        improvement_awaited=awaited,
    )


class CarePlanQuerySet(models.QuerySet):
    def bulk_create(self, objs: Any, *args: Any, **kwargs: Any) -> list[CarePlan]:
        """As ``save`` does, copy each plan's family from its template (bulk creation skips ``save``)."""
        objs = list(objs)
        for plan in objs:
            plan.family = plan.template.family
        return super().bulk_create(objs, *args, **kwargs)

    def active(self) -> CarePlanQuerySet:
        return self.filter(status=CarePlan.Status.ACTIVE)

    def for_patient(self, patient: Patient) -> CarePlanQuerySet:
        return self.filter(patient=patient)

    def with_cadence(self, *, today: date | None = None) -> CarePlanQuerySet:
        """Everything ``CarePlan.cadence(today)`` needs, fetched in a fixed number of queries.

        Counts attended appointments of the plan's modality family from the plan's start
        date (in local dates) up to and including ``today``; a no-show is not attended.
        """
        today = today or timezone.localdate()
        zone = clinic_zone()
        attended = Appointment.objects.filter(
            patient=OuterRef("patient"),
            modality__kind=OuterRef("template__family"),
            status=Appointment.Status.ATTENDED,
            starts_at__lt=local_midnight(today + timedelta(days=1)),
        )
        attended = attended.annotate(local_day=TruncDate("starts_at", tzinfo=zone)).filter(
            local_day__gte=OuterRef("start_date")
        )
        booked = Appointment.objects.upcoming().filter(
            patient=OuterRef("patient"), modality__kind=OuterRef("template__family")
        )
        return (
            self.select_related("patient__user", "template", "practitioner__user")
            .prefetch_related(
                Prefetch("template__phases", queryset=PlanPhase.objects.select_related("modality").order_by("position"))
            )
            .annotate(
                cadence_as_of=Value(today, output_field=DateField()),
                cadence_attended=Coalesce(
                    Subquery(
                        attended.order_by().values("patient").annotate(n=Count("pk")).values("n"),
                        output_field=IntegerField(),
                    ),
                    0,
                ),
                cadence_last_attended_at=Subquery(attended.order_by("-starts_at").values("starts_at")[:1]),
                cadence_next_booked_at=Subquery(booked.order_by("starts_at").values("starts_at")[:1]),
                cadence_attended_by_improvement=Coalesce(
                    Subquery(
                        attended.filter(local_day__lte=OuterRef("improved_on"))
                        .order_by()
                        .values("patient")
                        .annotate(n=Count("pk"))
                        .values("n"),
                        output_field=IntegerField(),
                    ),
                    0,
                ),
            )
        )

    def due_between(self, start: date, end: date, *, today: date | None = None) -> list[CarePlan]:
        """Active plans whose next session falls due between ``start`` and ``end`` (inclusive).

        Two queries whatever the number of plans or appointments.  Each returned plan's
        ``cadence(today)`` is already computed (no further queries); plans that already have
        a session booked are included: look at ``cadence.next_booked_at`` to leave them out.
        """
        today = today or timezone.localdate()
        due = []
        for plan in self.active().with_cadence(today=today):
            cadence = plan.cadence(today)
            if cadence.next_due_on is not None and start <= cadence.next_due_on <= end:
                due.append(plan)
        return due


class ImprovementBasis(models.TextChoices):
    SUSTAINED_DECREASE = "sustained_decrease", _("Sustained decrease in pain")
    CLINICIAN = "clinician", _("Clinician's decision")


class CarePlan(models.Model):
    """A patient's course of treatment on a template, assigned by a practitioner."""

    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        ENDED = "ended", _("Ended")

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="care_plans", verbose_name=_("patient"))
    template = models.ForeignKey(
        PlanTemplate, on_delete=models.PROTECT, related_name="care_plans", verbose_name=_("template")
    )
    family = models.CharField(
        _("modality family"),
        max_length=20,
        choices=Modality.Kind.choices,
        editable=False,
        help_text=_("Copied from the template when saved, so the database can hold one active plan per family."),
    )
    practitioner = models.ForeignKey(
        Practitioner,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="care_plans",
        help_text=_("The clinician responsible for the plan."),
        verbose_name=_("practitioner"),
    )
    start_date = models.DateField(
        help_text=_("The first session is due on this day (clinic's local date)."), verbose_name=_("start date")
    )
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.ACTIVE, db_index=True, verbose_name=_("status")
    )
    notes = models.TextField(
        blank=True, help_text=_("Clinical reasons for the plan; visible to staff only."), verbose_name=_("notes")
    )
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("assigned by")
    )
    ended_at = models.DateTimeField(null=True, blank=True, verbose_name=_("ended at"))
    ended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("ended by"),
    )
    # --- Cadence learned from the patient's relief (written by treatments' check-ins) ---------------
    relief_min_days = models.PositiveSmallIntegerField(
        _("shortest interval from relief (days)"),
        default=14,
        help_text=_(
            "The next session is never due sooner than this after the last one, whatever the relief check-ins suggest."
        ),
    )
    relief_max_days = models.PositiveSmallIntegerField(
        _("longest interval from relief (days)"),
        default=28,
        help_text=_(
            "The next session is never due later than this after the last one, whatever the relief check-ins suggest."
        ),
    )
    cadence_locked = models.BooleanField(
        _("keep the plan's own interval"),
        default=False,
        help_text=_("Ticked: the plan's phases set the next due date and the relief check-ins only inform."),
    )
    learned_interval_days = models.PositiveSmallIntegerField(
        _("relief lasts (days)"),
        null=True,
        blank=True,
        help_text=_(
            "How long relief lasts for this patient, estimated from their check-in answers; "
            "empty until they have answered."
        ),
    )
    learned_interval_evidence = models.JSONField(
        default=list,
        blank=True,
        help_text=_("The sessions the estimate rests on: date, pre-session score, days of relief."),
        verbose_name=_("learned interval evidence"),
    )
    learned_interval_at = models.DateTimeField(
        null=True, blank=True, help_text=_("When the estimate was last updated."), verbose_name=_("learned interval at")
    )
    improved_on = models.DateField(
        null=True,
        blank=True,
        help_text=_(
            "The day the patient's pain decreased enough (or a clinician decided) to move past a phase "
            "that ends on improvement, e.g. acupuncture's initial phase to maintenance."
        ),
        verbose_name=_("improved on"),
    )
    improvement_basis = models.CharField(
        max_length=20,
        choices=ImprovementBasis.choices,
        blank=True,
        help_text=_(
            "Why the plan moved on: a sustained decrease in the logged pain scores, or a clinician's decision."
        ),
        verbose_name=_("improvement basis"),
    )
    improvement_evidence = models.CharField(
        max_length=300,
        blank=True,
        help_text=_("The scores or the clinician's reason, as shown on the plan."),
        verbose_name=_("improvement evidence"),
    )
    improvement_recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("improvement recorded by"),
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))

    objects = CarePlanQuerySet.as_manager()

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("care plan")
        verbose_name_plural = _("care plans")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["patient", "family"],
                condition=Q(status="active"),
                name="care_plan_one_active_per_family",
                violation_error_message=_(
                    "This patient already has an active plan for this kind of treatment; end it first."
                ),
            ),
            models.CheckConstraint(
                condition=Q(status="active", ended_at__isnull=True) | Q(status="ended", ended_at__isnull=False),
                name="care_plan_ended_has_time",
            ),
            models.CheckConstraint(
                condition=Q(relief_min_days__gte=1, relief_max_days__gte=F("relief_min_days")),
                name="care_plan_relief_bounds_ordered",
            ),
            models.CheckConstraint(
                condition=Q(improved_on__isnull=True, improvement_basis="")
                | (Q(improved_on__isnull=False) & ~Q(improvement_basis="")),
                name="care_plan_improvement_has_basis",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.template} for {self.patient}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        # The family is the template's: copied here so that no way of saving can leave it out.
        self.family = self.template.family
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and "template" in update_fields:
            kwargs["update_fields"] = {*update_fields, "family"}
        super().save(*args, **kwargs)

    @property
    def is_active(self) -> bool:
        return self.status == self.Status.ACTIVE

    @property
    def relief_interval_days(self) -> int | None:
        """The learned interval within the clinician's bounds; None when locked or not learned yet."""
        if self.cadence_locked or self.learned_interval_days is None:
            return None
        return min(max(self.learned_interval_days, self.relief_min_days), self.relief_max_days)

    def clean(self) -> None:
        super().clean()
        if self.relief_min_days and self.relief_max_days and self.relief_max_days < self.relief_min_days:
            raise ValidationError({"relief_max_days": _("Must not be shorter than the shortest interval.")})

    def cadence(self, today: date | None = None) -> PlanCadence:
        """Current phase and next due date as of ``today`` (the clinic's local date)."""
        today = today or timezone.localdate()
        if getattr(self, "cadence_as_of", None) != today:
            # Not fetched through with_cadence() for this day: fetch it now (three queries).
            fresh = CarePlan.objects.with_cadence(today=today).get(pk=self.pk)
            self.cadence_as_of = today
            self.cadence_attended = fresh.cadence_attended
            self.cadence_last_attended_at = fresh.cadence_last_attended_at
            self.cadence_next_booked_at = fresh.cadence_next_booked_at
            self.cadence_attended_by_improvement = fresh.cadence_attended_by_improvement
            phases = list(fresh.template.phases.all())
        else:
            phases = list(self.template.phases.all())
        last = self.cadence_last_attended_at
        return _cadence_compute(
            phases=phases,
            start_date=self.start_date,
            today=today,
            attended=self.cadence_attended,
            last_attended_on=timezone.localdate(last) if last else None,
            next_booked_at=self.cadence_next_booked_at,
            learned_interval_days=self.relief_interval_days,
            attended_by_improvement=None if self.improved_on is None else self.cadence_attended_by_improvement,
        )

    def next_due_date(self, today: date | None = None) -> date | None:
        """The day the next session is due; the start date before any session; None when complete."""
        return self.cadence(today).next_due_on

    def family_appointments(self) -> models.QuerySet[Appointment]:
        """The patient's appointments that count towards this plan, from its start date."""
        return Appointment.objects.filter(
            patient_id=self.patient_id,
            modality__kind=self.template.family,
            starts_at__gte=local_midnight(self.start_date),
        )


class PlanSeries(models.Model):
    """A request to book several sessions of one phase at the same local time."""

    plan = models.ForeignKey(CarePlan, on_delete=models.PROTECT, related_name="series", verbose_name=_("plan"))
    phase = models.ForeignKey(PlanPhase, on_delete=models.PROTECT, related_name="series", verbose_name=_("phase"))
    first_date = models.DateField(
        help_text=_("The first session is on or after this day."), verbose_name=_("first date")
    )
    local_time = models.TimeField(
        help_text=_("Wall-clock time in the clinic's zone; kept across daylight saving."), verbose_name=_("local time")
    )
    interval_days = models.PositiveSmallIntegerField(
        help_text=_("Days between sessions (7 = weekly)."), verbose_name=_("interval days")
    )
    practitioner = models.ForeignKey(
        Practitioner,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("Asked-for practitioner; empty means whoever is free."),
        verbose_name=_("practitioner"),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("created by")
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("plan series")
        verbose_name_plural = _("plan series")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=Q(interval_days__gte=1), name="plan_series_interval_positive"),
        ]

    def __str__(self) -> str:
        return gettext("%(phase)s series for %(patient)s from %(date)s") % {
            "phase": self.phase.label,
            "patient": self.plan.patient,
            "date": format_when(self.first_date, "date"),
        }


class SeriesOccurrence(models.Model):
    """One asked-for date of a series: the appointment it got, or why it could not be booked.

    This table is how an appointment knows its care plan (``appointment.plan_occurrence``),
    so the Appointment model stays the booking engineer's alone.
    """

    series = models.ForeignKey(
        PlanSeries, on_delete=models.CASCADE, related_name="occurrences", verbose_name=_("series")
    )
    sequence = models.PositiveSmallIntegerField(
        help_text=_("1 for the first asked-for session of the series."), verbose_name=_("sequence")
    )
    requested_starts_at = models.DateTimeField(
        help_text=_("The time asked for."), verbose_name=_("requested starts at")
    )
    appointment = models.OneToOneField(
        Appointment,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="plan_occurrence",
        help_text=_("The appointment booked for this occurrence (possibly at an alternative time)."),
        verbose_name=_("appointment"),
    )
    refusal_reason = models.TextField(
        blank=True, help_text=_("Why the asked-for time could not be booked."), verbose_name=_("refusal reason")
    )
    alternatives = models.JSONField(
        default=list,
        blank=True,
        help_text=_("Nearest free start times offered instead (ISO 8601, nearest first)."),
        verbose_name=_("alternatives"),
    )

    class Meta:
        verbose_name = _("series occurrence")
        verbose_name_plural = _("series occurrences")
        ordering = ["series", "sequence"]
        constraints = [
            models.UniqueConstraint(fields=["series", "sequence"], name="series_occurrence_sequence_unique"),
        ]

    def __str__(self) -> str:
        return f"#{self.sequence} of {self.series}"

    @property
    def alternative_times(self) -> list[datetime]:
        return [datetime.fromisoformat(value) for value in self.alternatives]

    @property
    def nearest_alternative(self) -> datetime | None:
        times = self.alternative_times
        return times[0] if times else None

    @property
    def is_booked(self) -> bool:
        return self.appointment_id is not None

    @property
    def can_cancel(self) -> bool:
        return self.appointment is not None and self.appointment.is_upcoming()
