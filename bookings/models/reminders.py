"""When appointment reminders go out: offsets before the appointment, per modality, each with its channel.

Admin data: "48 hours before by email, 2 hours before by SMS" for whole-body cryotherapy, one row
each.  A modality without rows uses the clinic-wide "appointment reminder (hours before)" of the
reminder settings, by the patient's chosen channels (what every modality did before).
"""

from __future__ import annotations

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from clinic.models import Modality

__all__ = ["AppointmentReminderOffset"]

# Two weeks: longer ahead and the reminder is not a reminder any more.
MAX_REMINDER_HOURS_BEFORE = 14 * 24


class AppointmentReminderOffset(models.Model):
    class Channel(models.TextChoices):
        # The values match notifications.models.Channel; "" leaves the choice to the patient.
        PATIENT_CHOICE = "", _("The patient's choice (email, SMS or both)")
        EMAIL = "email", _("Email only")
        SMS = "sms", _("Text message (SMS) only")

    modality = models.ForeignKey(
        Modality,
        on_delete=models.CASCADE,
        related_name="reminder_offsets",
        help_text=_("The treatment whose appointments get this reminder."),
        verbose_name=_("modality"),
    )
    hours_before = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(1), MaxValueValidator(MAX_REMINDER_HOURS_BEFORE)],
        help_text=_(
            "How long before the appointment the reminder goes out, on the clinic's wall clock "
            "(24 hours before 09:00 is 09:00 the day before), moved out of the quiet hours."
        ),
        verbose_name=_("hours before"),
    )
    channel = models.CharField(
        max_length=8,
        choices=Channel.choices,
        default=Channel.PATIENT_CHOICE,
        blank=True,
        help_text=_(
            "How this reminder travels.  A fixed channel reaches only patients who chose it "
            "(a patient who chose email only gets no SMS-only reminder)."
        ),
        verbose_name=_("channel"),
    )

    class Meta:
        verbose_name = _("appointment reminder time")
        verbose_name_plural = _("appointment reminder times")
        ordering = ["modality", "-hours_before", "channel"]
        constraints = [
            models.UniqueConstraint(
                fields=["modality", "hours_before", "channel"], name="reminder_offset_unique_per_modality"
            ),
            models.CheckConstraint(
                condition=models.Q(hours_before__gte=1, hours_before__lte=MAX_REMINDER_HOURS_BEFORE),
                name="reminder_offset_hours_in_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.modality}: {self.hours_before} h before, {self.get_channel_display()}"
