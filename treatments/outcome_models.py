"""What the clinic measures between sessions: questionnaires (PROMs) and relief check-ins.

Imported by ``treatments.models`` (so Django finds these models); kept in their own module
because the session log's module is about one thing, the log.

- ``OutcomeSettings``: the clinic's outcome rules (the baseline floor, the relief check-in
  days and margin, how often a questionnaire goes out during a plan).
- ``Instrument`` and ``InstrumentItem``: a patient-reported outcome questionnaire as data
  (items, scale, scoring, the change that counts, the licence).  A clinic adds another
  instrument in the admin without code.
- ``QuestionnaireRequest``: one questionnaire sent to one patient on one occasion (intake,
  during a plan, discharge), answered once from a signed link, scored when answered.
- ``ReliefCheckIn``: "How is your back pain today, 0-10?" on a chosen day after a
  cryotherapy session, answered with one tap from the message.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, validate_comma_separated_integer_list
from django.db import models
from django.db.models import F, Q
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from clinic.models import Modality, Patient, SingletonSettings

__all__ = [
    "Instrument",
    "InstrumentItem",
    "OutcomeSettings",
    "QuestionnaireRequest",
    "ReliefCheckIn",
]


class OutcomeSettings(SingletonSettings):
    """The clinic's outcome rules, one row the admin edits (``OutcomeSettings.load()``)."""

    baseline_floor = models.PositiveSmallIntegerField(
        _("lowest baseline that can show a response (0-10)"),
        default=4,
        validators=[MinValueValidator(1), MaxValueValidator(10)],
        help_text=_(
            "A course whose first pre-session pain score is below this cannot show a meaningful "
            "response; reports count it apart, not as a non-responder."
        ),
    )
    relief_checkin_days = models.CharField(
        _("relief check-in days after a cryotherapy session"),
        max_length=60,
        default="7,14,21",
        validators=[validate_comma_separated_integer_list],
        help_text=_(
            "Days after each cryotherapy session on which the patient is asked for their pain score, e.g. '7,14,21'."
        ),
    )
    relief_margin_points = models.PositiveSmallIntegerField(
        _("relief margin (points)"),
        default=1,
        validators=[MaxValueValidator(5)],
        help_text=_(
            "Relief has worn off once the check-in score is within this many points of the "
            "session's pre-session score (e.g. 1: a 7 before the session, 6 or more at check-in)."
        ),
    )
    relief_sessions_considered = models.PositiveSmallIntegerField(
        _("sessions the relief estimate looks at"),
        default=3,
        validators=[MinValueValidator(1), MaxValueValidator(10)],
        help_text=_("The estimate is the median relief of this many most recent sessions with check-in answers."),
    )
    questionnaire_every_days = models.PositiveSmallIntegerField(
        _("questionnaire during a plan, every (days)"),
        default=28,
        validators=[MinValueValidator(7), MaxValueValidator(365)],
        help_text=_(
            "While a care plan is active, its questionnaires are sent again this many days after "
            "the previous one (besides intake and discharge)."
        ),
    )
    questionnaire_valid_days = models.PositiveSmallIntegerField(
        _("questionnaire link valid for (days)"),
        default=14,
        validators=[MinValueValidator(1), MaxValueValidator(60)],
        help_text=_("How long the link in a questionnaire or check-in message can be used."),
    )

    class Meta:
        verbose_name = _("outcome settings")
        verbose_name_plural = _("outcome settings")
        constraints = [models.CheckConstraint(condition=Q(pk=1), name="outcome_settings_single_row")]

    def __str__(self) -> str:
        return str(_("Outcome settings"))

    @property
    def checkin_days(self) -> list[int]:
        return sorted({int(day) for day in self.relief_checkin_days.split(",") if day.strip()})

    def clean(self) -> None:
        super().clean()
        if self.relief_checkin_days and any(day < 1 or day > 90 for day in self.checkin_days):
            raise ValidationError({"relief_checkin_days": _("Each day must be between 1 and 90.")})


class InstrumentQuerySet(models.QuerySet):
    def active(self) -> InstrumentQuerySet:
        return self.filter(is_active=True)


class Instrument(models.Model):
    """A patient-reported outcome questionnaire, e.g. the PEG scale."""

    class Scoring(models.TextChoices):
        MEAN = "mean", _("Mean of the items")
        SUM = "sum", _("Sum of the items")
        PERCENT = "percent", _("Sum as a percentage of the highest possible sum")

    code = models.SlugField(
        max_length=40, unique=True, help_text=_("Short unique name, e.g. 'peg'."), verbose_name=_("code")
    )
    name = models.CharField(
        max_length=120, help_text=_("Shown to patients and staff, e.g. 'PEG pain scale'."), verbose_name=_("name")
    )
    instructions = models.TextField(
        blank=True,
        help_text=_("Shown to the patient above the questions, e.g. 'Think about the past week.'"),
        verbose_name=_("instructions"),
    )
    scale_min = models.SmallIntegerField(
        default=0, help_text=_("Lowest answer of every item."), verbose_name=_("scale min")
    )
    scale_max = models.SmallIntegerField(
        default=10, help_text=_("Highest answer of every item."), verbose_name=_("scale max")
    )
    scoring = models.CharField(
        max_length=10,
        choices=Scoring.choices,
        default=Scoring.MEAN,
        help_text=_("How the answers become one score."),
        verbose_name=_("scoring"),
    )
    score_decimals = models.PositiveSmallIntegerField(
        default=1,
        validators=[MaxValueValidator(3)],
        help_text=_("Decimal places the score is rounded to."),
        verbose_name=_("score decimals"),
    )
    higher_is_worse = models.BooleanField(
        default=True,
        help_text=_("Ticked when a higher score means more pain or disability (an improvement is a fall)."),
        verbose_name=_("higher is worse"),
    )
    minimal_important_change = models.DecimalField(
        max_digits=6,
        decimal_places=2,
        help_text=_(
            "The smallest change of the score from the patient's first answer that counts as meaningful "
            "(in score units), as published for the instrument."
        ),
        verbose_name=_("minimal important change"),
    )
    licence = models.TextField(
        help_text=_("Under what terms the clinic uses it (free to use, licensed from ...)."), verbose_name=_("licence")
    )
    citation = models.TextField(
        blank=True, help_text=_("Where the instrument and its scoring are published."), verbose_name=_("citation")
    )
    families = models.CharField(
        _("treatments"),
        max_length=100,
        blank=True,
        help_text=format_lazy(
            _(
                "Send it to patients on care plans of these treatment kinds (comma-separated: {kinds}); "
                "empty for every plan."
            ),
            kinds=", ".join(Modality.Kind.values),
        ),
    )
    is_active = models.BooleanField(
        default=True,
        help_text=_("Untick to stop sending it (answers already given stay)."),
        verbose_name=_("is active"),
    )

    objects = InstrumentQuerySet.as_manager()

    class Meta:
        verbose_name = _("instrument")
        verbose_name_plural = _("instruments")
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(condition=Q(scale_max__gt=F("scale_min")), name="instrument_scale_ordered"),
            models.CheckConstraint(condition=Q(minimal_important_change__gt=0), name="instrument_mic_positive"),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        super().clean()
        unknown = set(self.family_list) - set(Modality.Kind.values)
        if unknown:
            raise ValidationError(
                {"families": _("Unknown treatment kind: %(kinds)s.") % {"kinds": ", ".join(sorted(unknown))}}
            )

    @property
    def family_list(self) -> list[str]:
        return [family.strip() for family in self.families.split(",") if family.strip()]

    def is_for(self, family: str) -> bool:
        return not self.family_list or family in self.family_list

    def score(self, answers: list[int]) -> Decimal:
        """The score of a complete set of answers, one per item in order."""
        total = Decimal(sum(answers))
        if self.scoring == self.Scoring.SUM:
            value = total
        elif self.scoring == self.Scoring.PERCENT:
            value = total * 100 / (Decimal(self.scale_max) * len(answers))
        else:
            value = total / len(answers)
        return value.quantize(Decimal(1).scaleb(-self.score_decimals), ROUND_HALF_UP)

    def improvement(self, *, first: Decimal, latest: Decimal) -> Decimal:
        """How much better ``latest`` is than ``first`` (negative: worse), whatever the scale's direction."""
        return first - latest if self.higher_is_worse else latest - first

    def is_meaningful_improvement(self, *, first: Decimal, latest: Decimal) -> bool:
        return self.improvement(first=first, latest=latest) >= self.minimal_important_change

    @property
    def meaningful_threshold_from(self) -> str:
        return "fall" if self.higher_is_worse else "rise"


class InstrumentItem(models.Model):
    """One question of an instrument, answered on the instrument's scale."""

    instrument = models.ForeignKey(
        Instrument, on_delete=models.CASCADE, related_name="items", verbose_name=_("instrument")
    )
    position = models.PositiveSmallIntegerField(
        help_text=_("Items are asked in this order, lowest first."), verbose_name=_("position")
    )
    text = models.TextField(help_text=_("The question exactly as the instrument words it."), verbose_name=_("text"))
    min_label = models.CharField(
        max_length=80, help_text=_("What the lowest answer means, e.g. 'No pain'."), verbose_name=_("min label")
    )
    max_label = models.CharField(
        max_length=80,
        help_text=_("What the highest answer means, e.g. 'As bad as imaginable'."),
        verbose_name=_("max label"),
    )

    class Meta:
        verbose_name = _("instrument item")
        verbose_name_plural = _("instrument items")
        ordering = ["instrument", "position"]
        constraints = [models.UniqueConstraint(fields=["instrument", "position"], name="instrument_item_position")]

    def __str__(self) -> str:
        return f"{self.instrument.code} #{self.position}"


class QuestionnaireRequestQuerySet(models.QuerySet):
    def answered(self) -> QuestionnaireRequestQuerySet:
        return self.filter(answered_at__isnull=False)


class QuestionnaireRequest(models.Model):
    """One questionnaire sent to a patient on one occasion; answered once, then scored."""

    class Occasion(models.TextChoices):
        INTAKE = "intake", _("Start of the plan")
        DURING = "during", _("During the plan")
        DISCHARGE = "discharge", _("End of the plan")

    patient = models.ForeignKey(
        Patient, on_delete=models.PROTECT, related_name="questionnaires", verbose_name=_("patient")
    )
    instrument = models.ForeignKey(
        Instrument, on_delete=models.PROTECT, related_name="requests", verbose_name=_("instrument")
    )
    care_plan = models.ForeignKey(
        "bookings.CarePlan",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("The care plan it was sent for."),
        verbose_name=_("care plan"),
    )
    family = models.CharField(
        _("treatment"),
        max_length=20,
        choices=Modality.Kind.choices,
        help_text=_("The kind of treatment the plan is for."),
    )
    occasion = models.CharField(max_length=10, choices=Occasion.choices, verbose_name=_("occasion"))
    occasion_key = models.CharField(
        max_length=40,
        help_text=_("Which occasion of the plan, e.g. 'intake', 'during:2', 'discharge'."),
        verbose_name=_("occasion key"),
    )
    created_at = models.DateTimeField(
        help_text=_("When it was sent (planned in the outbox)."), verbose_name=_("created at")
    )
    expires_at = models.DateTimeField(help_text=_("The link cannot be used after this."), verbose_name=_("expires at"))
    answered_at = models.DateTimeField(null=True, blank=True, verbose_name=_("answered at"))
    answers = models.JSONField(
        default=list, blank=True, help_text=_("One answer per item, in item order."), verbose_name=_("answers")
    )
    score = models.DecimalField(max_digits=7, decimal_places=3, null=True, blank=True, verbose_name=_("score"))

    objects = QuestionnaireRequestQuerySet.as_manager()

    class Meta:
        verbose_name = _("questionnaire request")
        verbose_name_plural = _("questionnaire requests")
        ordering = ["patient", "created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["care_plan", "instrument", "occasion_key"], name="questionnaire_once_per_occasion"
            ),
            models.CheckConstraint(
                condition=Q(answered_at__isnull=True, score__isnull=True)
                | Q(answered_at__isnull=False, score__isnull=False),
                name="questionnaire_answered_is_scored",
            ),
        ]
        indexes = [models.Index(fields=["patient", "instrument", "answered_at"])]

    def __str__(self) -> str:
        return f"{self.instrument} for {self.patient} ({self.get_occasion_display()})"

    @property
    def is_answered(self) -> bool:
        return self.answered_at is not None


class ReliefCheckIn(models.Model):
    """A pain score asked for on a chosen day after a cryotherapy session."""

    session_log = models.ForeignKey(
        "treatments.SessionLog", on_delete=models.PROTECT, related_name="checkins", verbose_name=_("session log")
    )
    patient = models.ForeignKey(
        Patient, on_delete=models.PROTECT, related_name="relief_checkins", verbose_name=_("patient")
    )
    day = models.PositiveSmallIntegerField(
        help_text=_("Days after the session (e.g. 7, 14, 21)."), verbose_name=_("day")
    )
    due_on = models.DateField(help_text=_("The clinic's local date the question is asked."), verbose_name=_("due on"))
    pain = models.PositiveSmallIntegerField(
        _("pain (0-10)"),
        null=True,
        blank=True,
        validators=[MaxValueValidator(10)],
        help_text=_("The patient's answer."),
    )
    answered_at = models.DateTimeField(null=True, blank=True, verbose_name=_("answered at"))
    expires_at = models.DateTimeField(
        help_text=_("The answer links cannot be used after this."), verbose_name=_("expires at")
    )

    class Meta:
        verbose_name = _("relief check-in")
        verbose_name_plural = _("relief check-ins")
        ordering = ["session_log", "day"]
        constraints = [
            models.UniqueConstraint(fields=["session_log", "day"], name="relief_checkin_once_per_day"),
            models.CheckConstraint(condition=Q(pain__isnull=True) | Q(pain__lte=10), name="relief_checkin_pain_0_10"),
            models.CheckConstraint(
                condition=Q(pain__isnull=True, answered_at__isnull=True)
                | Q(pain__isnull=False, answered_at__isnull=False),
                name="relief_checkin_answered_has_time",
            ),
        ]

    def __str__(self) -> str:
        return f"Day {self.day} check-in after {self.session_log}"
