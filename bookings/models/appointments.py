"""Appointments and everything that decides when they can happen."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.contenttypes.fields import GenericRelation
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from clinic.models import MAX_APPOINTMENT_MINUTES, Modality, Patient, Practitioner, Resource

__all__ = ["Appointment", "AppointmentQuerySet"]


class AppointmentQuerySet(models.QuerySet):
    def active(self) -> AppointmentQuerySet:
        """Appointments that hold their slot: anything not cancelled."""
        return self.exclude(status=Appointment.Status.CANCELLED)

    def upcoming(self, now: datetime | None = None) -> AppointmentQuerySet:
        """Booked appointments that have not started (see ``Appointment.has_started``)."""
        return self.filter(status=Appointment.Status.BOOKED, starts_at__gt=now or timezone.now())

    def overlapping(self, starts_at: datetime, ends_at: datetime) -> AppointmentQuerySet:
        """Appointments whose blocked time (start up to ``blocked_until``) meets ``[starts_at, ends_at)``.

        No appointment holds its slot longer than MAX_APPOINTMENT_MINUTES (a Modality constraint),
        so a lower bound on ``starts_at`` lets the index skip the whole history before the range.
        """
        earliest_start = starts_at - timedelta(minutes=MAX_APPOINTMENT_MINUTES)
        return self.filter(starts_at__gt=earliest_start, starts_at__lt=ends_at, blocked_until__gt=starts_at)


class Appointment(models.Model):
    class Status(models.TextChoices):
        BOOKED = "booked", _("Booked")
        ATTENDED = "attended", _("Attended")
        NO_SHOW = "no_show", _("No-show")
        CANCELLED = "cancelled", _("Cancelled")

    patient = models.ForeignKey(
        Patient, on_delete=models.PROTECT, related_name="appointments", verbose_name=_("patient")
    )
    practitioner = models.ForeignKey(
        Practitioner, on_delete=models.PROTECT, related_name="appointments", verbose_name=_("practitioner")
    )
    modality = models.ForeignKey(
        Modality, on_delete=models.PROTECT, related_name="appointments", verbose_name=_("modality")
    )
    resource = models.ForeignKey(
        Resource,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="appointments",
        help_text=_("Room or device held for this appointment, copied from the modality when booked."),
        verbose_name=_("resource"),
    )
    starts_at = models.DateTimeField(db_index=True, verbose_name=_("starts at"))
    ends_at = models.DateTimeField(
        help_text=_("End of the treatment slot as the patient sees it."), verbose_name=_("ends at")
    )
    blocked_until = models.DateTimeField(
        help_text=_("End of the slot plus the modality's buffer; nothing else may start before this."),
        verbose_name=_("blocked until"),
    )
    holds_resource_exclusively = models.BooleanField(
        default=False,
        help_text=_(
            "Set when booked if the room or device holds one session at a time (capacity 1); "
            "the database then refuses any overlapping active appointment on the same resource."
        ),
        verbose_name=_("holds resource exclusively"),
    )
    status = models.CharField(
        max_length=12, choices=Status.choices, default=Status.BOOKED, db_index=True, verbose_name=_("status")
    )
    cancelled_at = models.DateTimeField(null=True, blank=True, verbose_name=_("cancelled at"))
    cancelled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("cancelled by"),
    )
    cancelled_late = models.BooleanField(
        default=False,
        help_text=_("Cancelled after the cancellation cut-off (counts like a no-show for reports)."),
        verbose_name=_("cancelled late"),
    )
    cancellation_reason = models.CharField(
        max_length=300,
        blank=True,
        help_text=_("Why it was cancelled, as given by the patient or the staff member."),
        verbose_name=_("cancellation reason"),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("The patient (online booking) or the staff member (phone booking)."),
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))
    # The outbox rows about this appointment (deleted with it); ``Reminder.objects.filter(appointment=...)``.
    reminders = GenericRelation(
        "notifications.Reminder",
        content_type_field="about_type",
        object_id_field="about_id",
        related_query_name="appointment",
    )

    objects = AppointmentQuerySet.as_manager()

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("appointment")
        verbose_name_plural = _("appointments")
        ordering = ["starts_at"]
        indexes = [
            models.Index(fields=["practitioner", "starts_at"]),
            models.Index(fields=["patient", "starts_at"]),
            # Availability reads a room or device's week of bookings (a range, not its whole history).
            models.Index(fields=["resource", "starts_at"]),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(ends_at__gt=F("starts_at")), name="appointment_ends_after_start"),
            models.CheckConstraint(
                condition=Q(blocked_until__gte=F("ends_at")), name="appointment_blocked_until_after_end"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.modality} for {self.patient} at {self.starts_at:%Y-%m-%d %H:%M}"

    def place(self, *, modality: Modality, starts_at: datetime) -> None:
        """Put this appointment in ``modality``'s slot at ``starts_at``: its times, buffer and room or device.

        The one place that derives ``ends_at``, ``blocked_until``, the resource and whether it is held
        exclusively; booking, moving, demo data and test factories all call it.  Checks no rule: that
        is the booking service's work.
        """
        self.modality = modality
        self.resource = modality.resource
        self.holds_resource_exclusively = bool(modality.resource and modality.resource.capacity == 1)
        self.starts_at = starts_at
        self.ends_at = modality.slot_end(starts_at)
        self.blocked_until = modality.occupies_until(starts_at)

    def has_started(self, now: datetime | None = None) -> bool:
        """An appointment has started at its start instant: from then on it is past, not upcoming."""
        return self.starts_at <= (now or timezone.now())

    def is_upcoming(self, now: datetime | None = None) -> bool:
        return self.status == self.Status.BOOKED and not self.has_started(now)

    @property
    def is_active(self) -> bool:
        return self.status != self.Status.CANCELLED

    @property
    def duration_minutes(self) -> int:
        return int((self.ends_at - self.starts_at).total_seconds() // 60)
