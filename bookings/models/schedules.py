"""When bookings can happen: working hours, time off, extra hours, closures and the booking policy.

All of it is edited in the Django admin.  Weekly hours and extra hours are local wall-clock
times (09:00 stays 09:00 across a daylight-saving change); time off is an aware range.
"""

from __future__ import annotations

import secrets
from datetime import datetime, time, timedelta

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from clinic.clinic_time import format_when
from clinic.models import Patient, Practitioner, SingletonSettings

__all__ = ["BookingPolicy", "CalendarFeed", "ClinicClosure", "ExtraHours", "TimeOff", "WorkingHours"]


class Weekday(models.IntegerChoices):
    MONDAY = 0, _("Monday")
    TUESDAY = 1, _("Tuesday")
    WEDNESDAY = 2, _("Wednesday")
    THURSDAY = 3, _("Thursday")
    FRIDAY = 4, _("Friday")
    SATURDAY = 5, _("Saturday")
    SUNDAY = 6, _("Sunday")


class WorkingHours(models.Model):
    """One interval of a practitioner's regular week; several per weekday are allowed (e.g. a lunch break)."""

    Weekday = Weekday

    practitioner = models.ForeignKey(
        Practitioner, on_delete=models.CASCADE, related_name="working_hours", verbose_name=_("practitioner")
    )
    weekday = models.PositiveSmallIntegerField(choices=Weekday.choices, verbose_name=_("weekday"))
    start_time = models.TimeField(
        help_text=_("Local clinic time the interval starts, e.g. 09:00."), verbose_name=_("start time")
    )
    end_time = models.TimeField(
        help_text=_("Local clinic time the interval ends; the last session must end by then."),
        verbose_name=_("end time"),
    )

    class Meta:
        verbose_name = _("working hours")
        verbose_name_plural = _("working hours")
        ordering = ["practitioner", "weekday", "start_time"]
        constraints = [
            models.CheckConstraint(condition=Q(end_time__gt=F("start_time")), name="working_hours_end_after_start"),
            models.CheckConstraint(condition=Q(weekday__gte=0, weekday__lte=6), name="working_hours_weekday_valid"),
            models.UniqueConstraint(
                fields=["practitioner", "weekday", "start_time"],
                name="working_hours_one_interval_per_start",
                violation_error_message=_("These working hours are already there."),
            ),
        ]

    def __str__(self) -> str:
        start, end = format_when(self.start_time, "time"), format_when(self.end_time, "time")
        return f"{self.practitioner}: {self.get_weekday_display()} {start}-{end}"

    def clean(self) -> None:
        super().clean()
        if self.practitioner_id is None or None in (self.start_time, self.end_time, self.weekday):
            return
        same_day = WorkingHours.objects.filter(practitioner_id=self.practitioner_id, weekday=self.weekday)
        _refuse_overlap(same_day.exclude(pk=self.pk), self.start_time, self.end_time)


class ExtraHours(models.Model):
    """A one-off change: hours worked on a given date in addition to the regular week."""

    practitioner = models.ForeignKey(
        Practitioner, on_delete=models.CASCADE, related_name="extra_hours", verbose_name=_("practitioner")
    )
    date = models.DateField(help_text=_("The local date of the extra session."), verbose_name=_("date"))
    start_time = models.TimeField(help_text=_("Local clinic time the extra hours start."), verbose_name=_("start time"))
    end_time = models.TimeField(help_text=_("Local clinic time the extra hours end."), verbose_name=_("end time"))
    note = models.CharField(max_length=200, blank=True, verbose_name=_("note"))

    class Meta:
        verbose_name = _("extra hours")
        verbose_name_plural = _("extra hours")
        ordering = ["date", "start_time"]
        constraints = [
            models.CheckConstraint(condition=Q(end_time__gt=F("start_time")), name="extra_hours_end_after_start"),
            models.UniqueConstraint(
                fields=["practitioner", "date", "start_time"],
                name="extra_hours_one_interval_per_start",
                violation_error_message=_("These extra hours are already there."),
            ),
        ]

    def __str__(self) -> str:
        start, end = format_when(self.start_time, "time"), format_when(self.end_time, "time")
        return f"{self.practitioner}: {format_when(self.date, 'date')} {start}-{end}"

    def clean(self) -> None:
        super().clean()
        if self.practitioner_id is None or None in (self.start_time, self.end_time, self.date):
            return
        same_date = ExtraHours.objects.filter(practitioner_id=self.practitioner_id, date=self.date)
        _refuse_overlap(same_date.exclude(pk=self.pk), self.start_time, self.end_time)


def _refuse_overlap(others: models.QuerySet, start: time, end: time) -> None:
    """Two intervals of one practitioner's hours on one day may touch but not overlap."""
    clash = others.filter(start_time__lt=end, end_time__gt=start).order_by("start_time").first()
    if clash is not None:
        raise ValidationError(
            _("These hours overlap %(start)s-%(end)s already set for that day.")
            % {"start": format_when(clash.start_time, "time"), "end": format_when(clash.end_time, "time")},
            code="overlap",
        )


class TimeOff(models.Model):
    """A practitioner is unavailable (leave, training, blocked time)."""

    practitioner = models.ForeignKey(
        Practitioner, on_delete=models.CASCADE, related_name="time_off", verbose_name=_("practitioner")
    )
    starts_at = models.DateTimeField(verbose_name=_("starts at"))
    ends_at = models.DateTimeField(verbose_name=_("ends at"))
    reason = models.CharField(max_length=200, blank=True, help_text=_("Seen by staff only."), verbose_name=_("reason"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("time off")
        verbose_name_plural = _("time off")
        ordering = ["starts_at"]
        constraints = [
            models.CheckConstraint(condition=Q(ends_at__gt=F("starts_at")), name="time_off_ends_after_start"),
        ]

    def __str__(self) -> str:
        return f"{self.practitioner}: off {self.starts_at:%Y-%m-%d %H:%M} to {self.ends_at:%Y-%m-%d %H:%M}"


class ClinicClosure(models.Model):
    """Whole days the clinic is closed (bank holidays, refurbishment)."""

    start_date = models.DateField(verbose_name=_("start date"))
    end_date = models.DateField(
        help_text=_("Last closed day (inclusive); same as the start for a single day."), verbose_name=_("end date")
    )
    reason = models.CharField(
        max_length=200, help_text=_("Shown to patients, e.g. 'Christmas Day'."), verbose_name=_("reason")
    )

    class Meta:
        verbose_name = _("clinic closure")
        verbose_name_plural = _("clinic closures")
        ordering = ["start_date"]
        constraints = [
            models.CheckConstraint(condition=Q(end_date__gte=F("start_date")), name="clinic_closure_dates_ordered"),
        ]

    def __str__(self) -> str:
        return f"{self.reason} ({self.start_date} to {self.end_date})"


class BookingPolicy(SingletonSettings):
    """The clinic's booking rules; one row (``BookingPolicy.load()``)."""

    minimum_notice_minutes = models.PositiveIntegerField(
        default=120,
        help_text=_("Online and phone bookings must start at least this long from now."),
        verbose_name=_("minimum notice minutes"),
    )
    horizon_days = models.PositiveIntegerField(
        default=56, help_text=_("How far ahead bookings are open (56 = 8 weeks)."), verbose_name=_("horizon days")
    )
    cancellation_cutoff_hours = models.PositiveIntegerField(
        default=24,
        help_text=_(
            "Patients may cancel or move a booking up to this long before it starts; later they call the clinic."
        ),
        verbose_name=_("cancellation cutoff hours"),
    )
    slot_step_minutes = models.PositiveSmallIntegerField(
        default=15, help_text=_("Start times offered are this many minutes apart."), verbose_name=_("slot step minutes")
    )
    waitlist_offer_hold_minutes = models.PositiveIntegerField(
        default=30,
        help_text=_(
            "A freed time offered to a patient on the waitlist is held for them alone this long; "
            "unanswered, it is offered to the next patient."
        ),
        verbose_name=_("waitlist offer hold minutes"),
    )

    class Meta:
        verbose_name = _("booking policy")
        verbose_name_plural = _("booking policy")
        constraints = [
            models.CheckConstraint(condition=Q(slot_step_minutes__gte=5), name="booking_policy_step_at_least_5"),
            models.CheckConstraint(condition=Q(pk=1), name="booking_policy_single_row"),
            models.CheckConstraint(
                condition=Q(waitlist_offer_hold_minutes__gte=5), name="booking_policy_waitlist_hold_at_least_5"
            ),
        ]

    def __str__(self) -> str:
        return str(_("Booking policy"))

    @property
    def minimum_notice(self) -> timedelta:
        return timedelta(minutes=self.minimum_notice_minutes)

    @property
    def horizon(self) -> timedelta:
        return timedelta(days=self.horizon_days)

    @property
    def cancellation_cutoff(self) -> timedelta:
        return timedelta(hours=self.cancellation_cutoff_hours)

    @property
    def waitlist_offer_hold(self) -> timedelta:
        return timedelta(minutes=self.waitlist_offer_hold_minutes)

    @property
    def slot_step(self) -> timedelta:
        return timedelta(minutes=self.slot_step_minutes)

    def earliest_start(self, now: datetime) -> datetime:
        """The first instant a booking made at ``now`` may start (the minimum notice); that instant is allowed."""
        return now + self.minimum_notice

    def latest_start(self, now: datetime) -> datetime:
        """The last instant a booking made at ``now`` may start (the horizon); that instant is allowed."""
        return now + self.horizon

    def allows_online_change(self, *, starts_at: datetime, now: datetime) -> bool:
        """Whether at ``now`` a patient may still cancel or move, themselves, what starts at ``starts_at``.

        Up to and including the cut-off instant; after it the patient calls and a staff cancellation is late.
        """
        return now <= starts_at - self.cancellation_cutoff


def _new_feed_token() -> str:
    return secrets.token_urlsafe(32)


class CalendarFeed(models.Model):
    """A private iCal feed of one practitioner's or one patient's appointments.

    The token in the URL is the only secret; regenerating it revokes the old URL.
    """

    practitioner = models.OneToOneField(
        Practitioner,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="calendar_feed",
        verbose_name=_("practitioner"),
    )
    patient = models.OneToOneField(
        Patient,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="calendar_feed",
        verbose_name=_("patient"),
    )
    token = models.CharField(
        max_length=64, unique=True, default=_new_feed_token, editable=False, verbose_name=_("token")
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    regenerated_at = models.DateTimeField(null=True, blank=True, verbose_name=_("regenerated at"))

    class Meta:
        verbose_name = _("calendar feed")
        verbose_name_plural = _("calendar feeds")
        constraints = [
            models.CheckConstraint(
                condition=Q(practitioner__isnull=False, patient__isnull=True)
                | Q(practitioner__isnull=True, patient__isnull=False),
                name="calendar_feed_has_one_owner",
            ),
        ]

    def __str__(self) -> str:
        return f"Calendar feed of {self.practitioner or self.patient}"
