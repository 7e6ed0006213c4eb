"""The waitlist: patients who want an earlier or any time, and the freed slots offered to them.

An entry is a patient's standing wish (a modality, the weekdays and the local time window they
can make, a date range, perhaps a practitioner).  When a slot frees, it is offered to the
matching entries one at a time, in the order they joined; each offer holds for the booking
policy's ``waitlist_offer_hold_minutes`` before it passes to the next entry.  The services in
``bookings.services.waitlist`` write both; nothing else does.
"""

from __future__ import annotations

from datetime import date, datetime

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from bookings.models.appointments import Appointment
from bookings.models.schedules import Weekday
from clinic.models import Modality, Patient, Practitioner

__all__ = ["WaitlistEntry", "WaitlistEntryQuerySet", "WaitlistOffer", "WaitlistOfferQuerySet"]


class WaitlistEntryQuerySet(models.QuerySet):
    def waiting(self, today: date | None = None) -> WaitlistEntryQuerySet:
        """Entries still on the list whose date range has not ended."""
        return self.filter(status=WaitlistEntry.Status.WAITING, available_until__gte=today or timezone.localdate())

    def in_join_order(self) -> WaitlistEntryQuerySet:
        return self.order_by("created_at", "pk")


class WaitlistEntry(models.Model):
    """One patient's place on the waitlist for one modality."""

    class Status(models.TextChoices):
        WAITING = "waiting", _("Waiting")
        BOOKED = "booked", _("Booked from the waitlist")
        LEFT = "left", _("Left the list")
        LAPSED = "lapsed", _("Date range over")

    patient = models.ForeignKey(
        Patient, on_delete=models.CASCADE, related_name="waitlist_entries", verbose_name=_("patient")
    )
    modality = models.ForeignKey(
        Modality,
        on_delete=models.PROTECT,
        related_name="waitlist_entries",
        help_text=_("The treatment they wait for."),
        verbose_name=_("modality"),
    )
    practitioner = models.ForeignKey(
        Practitioner,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="waitlist_entries",
        help_text=_("Only offer times with this practitioner; empty for anyone who delivers the treatment."),
        verbose_name=_("practitioner"),
    )
    weekdays = models.JSONField(
        default=list,
        help_text=_("The weekdays they can come, as numbers (0 = Monday ... 6 = Sunday)."),
        verbose_name=_("weekdays"),
    )
    earliest_time = models.TimeField(
        help_text=_("Clinic time from which they can start, e.g. 08:00."), verbose_name=_("earliest time")
    )
    latest_time = models.TimeField(
        help_text=_("Clinic time by which the session must have ended, e.g. 13:00."), verbose_name=_("latest time")
    )
    available_from = models.DateField(help_text=_("First day they can come."), verbose_name=_("available from"))
    available_until = models.DateField(
        help_text=_("Last day they can come; the entry ends after it."), verbose_name=_("available until")
    )
    status = models.CharField(
        max_length=12,
        choices=Status.choices,
        default=Status.WAITING,
        db_index=True,
        help_text=_("Waiting, booked from an offer, left the list, or its last day passed."),
        verbose_name=_("status"),
    )
    note = models.CharField(
        max_length=300,
        blank=True,
        help_text=_("Anything the desk should know (seen by staff)."),
        verbose_name=_("note"),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("The patient (online) or the staff member who put them on the list."),
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(
        default=timezone.now,
        db_index=True,
        help_text=_("When they joined; offers go out in this order."),
        verbose_name=_("created at"),
    )
    ended_at = models.DateTimeField(
        null=True, blank=True, help_text=_("When they booked from an offer or left."), verbose_name=_("ended at")
    )

    objects = WaitlistEntryQuerySet.as_manager()

    class Meta:
        verbose_name = _("waitlist entry")
        verbose_name_plural = _("waitlist entries")
        ordering = ["created_at", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(latest_time__gt=F("earliest_time")), name="waitlist_entry_window_ordered"
            ),
            models.CheckConstraint(
                condition=Q(available_until__gte=F("available_from")), name="waitlist_entry_dates_ordered"
            ),
            # One place per treatment: a second join would only jump the patient ahead of themselves.
            models.UniqueConstraint(
                fields=["patient", "modality"],
                condition=Q(status="waiting"),
                name="waitlist_entry_one_waiting_per_modality",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.patient} waiting for {self.modality}"

    def is_waiting(self, today: date) -> bool:
        """Still on the list: waiting, and its last day has not passed."""
        return self.status == self.Status.WAITING and self.available_until >= today

    @property
    def weekday_names(self) -> list[str]:
        return [Weekday(day).label for day in sorted(self.weekdays)]

    def can_make(self, *, starts_at: datetime, ends_at: datetime) -> bool:
        """Whether a slot from ``starts_at`` to ``ends_at`` fits this entry's days, window and date range."""
        start = timezone.localtime(starts_at)
        end = timezone.localtime(ends_at)
        return (
            self.available_from <= start.date() <= self.available_until
            and start.weekday() in self.weekdays
            and start.time() >= self.earliest_time
            and end.date() == start.date()
            and end.time() <= self.latest_time
        )


class WaitlistOfferQuerySet(models.QuerySet):
    def of_slot(self, *, modality: Modality, practitioner: Practitioner, starts_at: datetime) -> WaitlistOfferQuerySet:
        return self.filter(modality=modality, practitioner=practitioner, starts_at=starts_at)

    def expired(self, now: datetime) -> WaitlistOfferQuerySet:
        """Open offers whose hold has run out: time to pass the slot to the next patient."""
        return self.filter(status=WaitlistOffer.Status.OPEN, expires_at__lte=now)


class WaitlistOffer(models.Model):
    """A freed slot offered to one waitlist entry.  The slot is the practitioner's time that freed."""

    class Status(models.TextChoices):
        OPEN = "open", _("Open (holding)")
        PASSED = "passed", _("Passed to the next patient")
        ACCEPTED = "accepted", _("Accepted and booked")
        DECLINED = "declined", _("Declined")
        GONE = "gone", _("Slot gone to someone else")
        WITHDRAWN = "withdrawn", _("Withdrawn (patient left the list)")

    entry = models.ForeignKey(WaitlistEntry, on_delete=models.CASCADE, related_name="offers", verbose_name=_("entry"))
    patient = models.ForeignKey(
        Patient,
        on_delete=models.CASCADE,
        related_name="waitlist_offers",
        help_text=_("The entry's patient, kept here so the database refuses a second offer of one slot to them."),
        verbose_name=_("patient"),
    )
    modality = models.ForeignKey(Modality, on_delete=models.PROTECT, related_name="+", verbose_name=_("modality"))
    practitioner = models.ForeignKey(
        Practitioner,
        on_delete=models.CASCADE,
        related_name="+",
        help_text=_("Whose freed time this is."),
        verbose_name=_("practitioner"),
    )
    starts_at = models.DateTimeField(help_text=_("Start of the freed slot."), verbose_name=_("starts at"))
    ends_at = models.DateTimeField(
        help_text=_("End of the freed slot as the patient sees it."), verbose_name=_("ends at")
    )
    offered_at = models.DateTimeField(
        default=timezone.now,
        help_text=_("When the offer was made (and its email queued)."),
        verbose_name=_("offered at"),
    )
    expires_at = models.DateTimeField(
        help_text=_("Until when it is held for this patient alone; then it passes on."), verbose_name=_("expires at")
    )
    status = models.CharField(
        max_length=12, choices=Status.choices, default=Status.OPEN, db_index=True, verbose_name=_("status")
    )
    answered_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text=_("When it was accepted, declined or passed on."),
        verbose_name=_("answered at"),
    )
    appointment = models.ForeignKey(
        Appointment,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("The appointment booked when the patient accepted."),
        verbose_name=_("appointment"),
    )

    objects = WaitlistOfferQuerySet.as_manager()

    class Meta:
        verbose_name = _("waitlist offer")
        verbose_name_plural = _("waitlist offers")
        ordering = ["-offered_at", "-pk"]
        indexes = [models.Index(fields=["modality", "practitioner", "starts_at"], name="waitlist_offer_slot_idx")]
        constraints = [
            models.CheckConstraint(condition=Q(expires_at__gt=F("offered_at")), name="waitlist_offer_expires_later"),
            models.UniqueConstraint(
                fields=["patient", "modality", "practitioner", "starts_at"], name="waitlist_offer_once_per_patient"
            ),
            # Held for one patient at a time: that is what "in the order they joined" means.
            models.UniqueConstraint(
                fields=["modality", "practitioner", "starts_at"],
                condition=Q(status="open"),
                name="waitlist_offer_one_open_per_slot",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.modality} at {timezone.localtime(self.starts_at):%Y-%m-%d %H:%M} offered to {self.patient}"

    @property
    def may_be_accepted(self) -> bool:
        """Open, or passed on but not yet taken: a late answer still wins if the slot is free."""
        return self.status in {self.Status.OPEN, self.Status.PASSED}
