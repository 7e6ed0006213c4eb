"""The per-session clinical log, its adverse events and its amendments.

Shape of the record: one ``SessionLog`` row per attended appointment, with the
readings of every modality kind as nullable columns and a ``kind`` column copied
from the modality.  Why one table rather than a log plus one-to-one reading tables:

- a check constraint can only see one row, so keeping the kind and its readings
  in the same row lets the database itself insist that a whole-body session has a
  temperature, an exposure and a blood pressure, and that acupuncture readings
  are absent from it;
- reports and charts aggregate one table without joins;
- an amendment snapshots one row (plus its adverse events) as JSON.

The price is a few columns that are NULL for the other kinds, which the
per-kind constraints keep honest.

The limits in force when the session was logged (the modality's exposure bounds,
the device's temperature range, the clinic's blood-pressure ceiling) are copied
onto the row.  That records which limits applied, and lets a plain check
constraint refuse an implausible value even from a code path that skipped the
form.  The rules themselves are written once, in ``SessionLog.clean()``; forms
(through ModelForm validation) and services (through ``full_clean()``) both run it.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils import formats
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from clinic.clinic_time import format_when
from clinic.models import Modality, Patient, Practitioner, Resource, SingletonSettings
from screening.services import clearance_in_force

PAIN_SCORES = [(score, str(score)) for score in range(11)]
KIND_WBC = Modality.Kind.WHOLE_BODY_CRYO.value
KIND_LOCAL = Modality.Kind.LOCALIZED_CRYO.value
KIND_ACUPUNCTURE = Modality.Kind.ACUPUNCTURE.value


class ClinicalRecordDeletion(Exception):
    """Raised when code tries to delete a clinical record: they are kept for good."""


class SafetyThresholds(SingletonSettings):
    """Clinic-wide safety limits the admin may tune; a single row (pk 1)."""

    wbc_systolic_max = models.PositiveSmallIntegerField(
        _("highest systolic pressure for whole-body cryotherapy (mmHg)"),
        default=160,
        validators=[MinValueValidator(90), MaxValueValidator(220)],
        help_text=_("A pre-session systolic reading above this blocks the whole-body session."),
    )
    wbc_diastolic_max = models.PositiveSmallIntegerField(
        _("highest diastolic pressure for whole-body cryotherapy (mmHg)"),
        default=100,
        validators=[MinValueValidator(50), MaxValueValidator(140)],
        help_text=_("A pre-session diastolic reading above this blocks the whole-body session."),
    )
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))

    class Meta:
        verbose_name = _("safety thresholds")
        verbose_name_plural = _("safety thresholds")
        constraints = [models.CheckConstraint(condition=Q(pk=1), name="safety_thresholds_single_row")]

    def __str__(self) -> str:
        return f"Whole-body cryotherapy blood-pressure limit {self.wbc_systolic_max}/{self.wbc_diastolic_max}"


class ColdApplicationMethodQuerySet(models.QuerySet):
    def covering(self, temperature_c: Decimal) -> ColdApplicationMethod | None:
        """The active method whose temperature band holds this reading (bands should not overlap)."""
        return (
            self.filter(is_active=True, temperature_from_c__lte=temperature_c, temperature_to_c__gte=temperature_c)
            .order_by("temperature_from_c")
            .first()
        )


class ColdApplicationMethod(models.Model):
    """How cold is applied in localized cryotherapy, and the exposure that is safe at its temperature.

    A cryogenic spray or cold-air jet at -160 °C is applied for 1-3 minutes (seed 002); a pack
    or compress around 0 °C stays on longer.  The temperature the practitioner logs decides
    which method's bounds apply, so 15 minutes at -160 °C is refused.
    """

    name = models.CharField(
        max_length=100, unique=True, help_text=_("e.g. 'Cryogenic spray or cold air'."), verbose_name=_("name")
    )
    temperature_from_c = models.DecimalField(
        _("temperature from (°C)"),
        max_digits=5,
        decimal_places=1,
        help_text=_("Coldest reading (inclusive) this method covers."),
    )
    temperature_to_c = models.DecimalField(
        _("temperature up to (°C)"),
        max_digits=5,
        decimal_places=1,
        help_text=_("Warmest reading (inclusive) this method covers; bands of active methods should not overlap."),
    )
    exposure_min_seconds = models.PositiveIntegerField(
        _("shortest exposure (seconds)"), help_text=_("Shortest time the cold is applied with this method.")
    )
    exposure_max_seconds = models.PositiveIntegerField(
        _("longest exposure (seconds)"), help_text=_("Longest safe time the cold is applied with this method.")
    )
    source = models.CharField(
        max_length=200,
        blank=True,
        help_text=_("Where the bounds come from, e.g. 'Article 002' or 'common practice'."),
        verbose_name=_("source"),
    )
    is_active = models.BooleanField(
        default=True, help_text=_("Untick to stop using this method's bounds."), verbose_name=_("is active")
    )

    objects = ColdApplicationMethodQuerySet.as_manager()

    class Meta:
        verbose_name = _("cold application method")
        verbose_name_plural = _("cold application methods")
        ordering = ["temperature_from_c"]
        constraints = [
            models.CheckConstraint(
                condition=Q(temperature_to_c__gte=F("temperature_from_c")), name="cold_method_band_ordered"
            ),
            models.CheckConstraint(
                condition=Q(exposure_min_seconds__gte=1, exposure_max_seconds__gte=F("exposure_min_seconds")),
                name="cold_method_exposure_ordered",
            ),
        ]

    def __str__(self) -> str:
        return (
            f"{self.name} ({self.temperature_from_c} to {self.temperature_to_c} °C, "
            f"{self.exposure_min_seconds}-{self.exposure_max_seconds} s)"
        )


class SessionLogQuerySet(models.QuerySet):
    def delete(self) -> Any:
        raise ClinicalRecordDeletion("Session logs are clinical records and are never deleted; amend them instead.")

    def for_patient(self, patient: Patient) -> SessionLogQuerySet:
        return self.filter(patient=patient)

    def signed(self) -> SessionLogQuerySet:
        return self.filter(status=SessionLog.Status.SIGNED)


class SessionLog(models.Model):
    """What happened in one treatment session, as the practitioner recorded it."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        SIGNED = "signed", _("Signed")

    class PainLocation(models.TextChoices):
        LOWER_BACK = "lower_back", _("Lower back")
        MID_BACK = "mid_back", _("Mid back")
        UPPER_BACK = "upper_back", _("Upper back")
        NECK = "neck", _("Neck")
        OTHER = "other", _("Other")

    appointment = models.OneToOneField(
        "bookings.Appointment",
        on_delete=models.PROTECT,
        related_name="session_log",
        help_text=_("The appointment this session was delivered in; one log per appointment."),
        verbose_name=_("appointment"),
    )
    patient = models.ForeignKey(
        Patient, on_delete=models.PROTECT, related_name="session_logs", verbose_name=_("patient")
    )
    practitioner = models.ForeignKey(
        Practitioner, on_delete=models.PROTECT, related_name="session_logs", verbose_name=_("practitioner")
    )
    modality = models.ForeignKey(
        Modality, on_delete=models.PROTECT, related_name="session_logs", verbose_name=_("modality")
    )
    kind = models.CharField(
        max_length=20,
        choices=Modality.Kind.choices,
        editable=False,
        help_text=_("Copied from the modality so the database can check the readings this kind needs."),
        verbose_name=_("kind"),
    )
    resource = models.ForeignKey(
        Resource,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="session_logs",
        verbose_name=_("device"),
        help_text=_("Chamber or device used; its temperature range bounds the temperature reading."),
    )
    started_at = models.DateTimeField(
        db_index=True, help_text=_("When the session started."), verbose_name=_("started at")
    )
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.DRAFT, db_index=True, verbose_name=_("status")
    )

    # --- Common readings ---------------------------------------------------------
    pain_before = models.PositiveSmallIntegerField(
        _("pain before (0-10)"),
        choices=PAIN_SCORES,
        validators=[MinValueValidator(0), MaxValueValidator(10)],
        help_text=_("Patient's own rating before treatment: 0 no pain, 10 worst pain imaginable."),
    )
    pain_after = models.PositiveSmallIntegerField(
        _("pain after (0-10)"),
        choices=PAIN_SCORES,
        validators=[MinValueValidator(0), MaxValueValidator(10)],
        help_text=_("Patient's own rating straight after treatment."),
    )
    duration_minutes = models.PositiveSmallIntegerField(
        _("actual session length (minutes)"),
        validators=[MinValueValidator(1), MaxValueValidator(240)],
        help_text=_("From arrival in the room to the end of the session."),
    )
    pain_location = models.CharField(
        _("pain location"), max_length=20, choices=PainLocation.choices, default=PainLocation.LOWER_BACK
    )
    subjective = models.TextField(
        blank=True, help_text=_("S: what the patient reports (pain, sleep, function)."), verbose_name=_("subjective")
    )
    objective = models.TextField(
        blank=True, help_text=_("O: what you observed or measured."), verbose_name=_("objective")
    )
    assessment = models.TextField(
        blank=True, help_text=_("A: your clinical reading of progress."), verbose_name=_("assessment")
    )
    plan = models.TextField(
        blank=True, help_text=_("P: what happens next (next session, advice, referral)."), verbose_name=_("plan")
    )

    # --- Cryotherapy (whole-body and localized) ---------------------------------------
    temperature_c = models.DecimalField(
        _("temperature (°C)"),
        max_digits=5,
        decimal_places=1,
        null=True,
        blank=True,
        help_text=_("Chamber or device temperature during treatment."),
    )
    exposure_seconds = models.PositiveIntegerField(
        _("exposure (seconds)"),
        null=True,
        blank=True,
        help_text=_("Time in the chamber, cold applied to the area, or needles retained."),
    )
    # --- Whole-body cryotherapy ------------------------------------------------------
    bp_systolic = models.PositiveSmallIntegerField(
        _("blood pressure before, systolic (mmHg)"), null=True, blank=True, help_text=_("Measured just before entry.")
    )
    bp_diastolic = models.PositiveSmallIntegerField(_("blood pressure before, diastolic (mmHg)"), null=True, blank=True)
    unchanged_since_screening = models.BooleanField(
        _("nothing changed since screening"),
        null=True,
        blank=True,
        help_text=_("Patient confirms no new illness, medication, injury or pregnancy since their screening."),
    )
    # --- Localized cryotherapy ---------------------------------------------------------
    body_area = models.CharField(
        max_length=100, blank=True, help_text=_("Area treated, e.g. 'left lumbar, L4-L5'."), verbose_name=_("body area")
    )
    # --- Acupuncture ---------------------------------------------------------------
    points_used = models.TextField(
        blank=True, help_text=_("Acupuncture points needled, e.g. 'BL23, BL25, GB30'."), verbose_name=_("points used")
    )
    needle_count = models.PositiveSmallIntegerField(
        _("number of needles"), null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(60)]
    )
    electro_stimulation = models.BooleanField(_("electro-stimulation used"), null=True, blank=True)
    cold_method = models.ForeignKey(
        ColdApplicationMethod,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        editable=False,
        related_name="session_logs",
        verbose_name=_("cold application method"),
        help_text=_("Localized cryotherapy: the method whose exposure bounds applied, chosen by the temperature."),
    )

    # --- Limits in force when logged (copied, not edited) -------------------------------
    exposure_min_seconds = models.PositiveIntegerField(editable=False, verbose_name=_("exposure min seconds"))
    exposure_max_seconds = models.PositiveIntegerField(editable=False, verbose_name=_("exposure max seconds"))
    temperature_min_c = models.DecimalField(
        max_digits=5, decimal_places=1, null=True, editable=False, verbose_name=_("temperature min c")
    )
    temperature_max_c = models.DecimalField(
        max_digits=5, decimal_places=1, null=True, editable=False, verbose_name=_("temperature max c")
    )
    bp_systolic_max = models.PositiveSmallIntegerField(null=True, editable=False, verbose_name=_("bp systolic max"))
    bp_diastolic_max = models.PositiveSmallIntegerField(null=True, editable=False, verbose_name=_("bp diastolic max"))

    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("Staff member who entered the log."),
        verbose_name=_("recorded by"),
    )
    signed_at = models.DateTimeField(null=True, blank=True, verbose_name=_("signed at"))
    signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("signed by"),
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))

    objects = SessionLogQuerySet.as_manager()

    # The fields an amendment snapshots and a practitioner may change.
    CLINICAL_FIELDS = (
        "pain_before",
        "pain_after",
        "duration_minutes",
        "pain_location",
        "subjective",
        "objective",
        "assessment",
        "plan",
        "resource_id",
        "temperature_c",
        "exposure_seconds",
        "bp_systolic",
        "bp_diastolic",
        "unchanged_since_screening",
        "body_area",
        "points_used",
        "needle_count",
        "electro_stimulation",
    )
    KIND_FIELDS = {
        KIND_WBC: ("temperature_c", "exposure_seconds", "bp_systolic", "bp_diastolic", "unchanged_since_screening"),
        KIND_LOCAL: ("body_area", "resource", "temperature_c", "exposure_seconds"),
        KIND_ACUPUNCTURE: ("points_used", "needle_count", "exposure_seconds", "electro_stimulation"),
    }

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("session log")
        verbose_name_plural = _("session logs")
        ordering = ["-started_at"]
        indexes = [models.Index(fields=["patient", "started_at"])]
        constraints = [
            models.CheckConstraint(condition=Q(pain_before__gte=0, pain_before__lte=10), name="log_pain_before_0_10"),
            models.CheckConstraint(condition=Q(pain_after__gte=0, pain_after__lte=10), name="log_pain_after_0_10"),
            models.CheckConstraint(
                condition=Q(duration_minutes__gte=1, duration_minutes__lte=240), name="log_duration_plausible"
            ),
            models.CheckConstraint(
                condition=Q(exposure_seconds__isnull=True) | Q(exposure_seconds__lte=F("duration_minutes") * 60),
                name="log_session_not_shorter_than_exposure",
            ),
            models.CheckConstraint(
                condition=Q(exposure_seconds__isnull=True)
                | Q(exposure_seconds__gte=F("exposure_min_seconds"), exposure_seconds__lte=F("exposure_max_seconds")),
                name="log_exposure_within_modality_bounds",
            ),
            models.CheckConstraint(
                condition=Q(temperature_c__isnull=True)
                | (
                    (Q(temperature_min_c__isnull=True) | Q(temperature_c__gte=F("temperature_min_c")))
                    & (Q(temperature_max_c__isnull=True) | Q(temperature_c__lte=F("temperature_max_c")))
                ),
                name="log_temperature_within_device_range",
            ),
            models.CheckConstraint(
                condition=~Q(kind=KIND_WBC)
                | Q(
                    temperature_c__isnull=False,
                    exposure_seconds__isnull=False,
                    bp_systolic__isnull=False,
                    bp_diastolic__isnull=False,
                    bp_systolic__lte=F("bp_systolic_max"),
                    bp_diastolic__lte=F("bp_diastolic_max"),
                    bp_systolic__gt=F("bp_diastolic"),
                    unchanged_since_screening=True,
                    needle_count__isnull=True,
                    electro_stimulation__isnull=True,
                ),
                name="log_wbc_readings_complete_and_safe",
            ),
            models.CheckConstraint(
                condition=~Q(kind=KIND_LOCAL)
                | (
                    Q(temperature_c__isnull=False, exposure_seconds__isnull=False, needle_count__isnull=True)
                    & ~Q(body_area="")
                ),
                name="log_local_cryo_readings_complete",
            ),
            models.CheckConstraint(
                condition=~Q(kind=KIND_ACUPUNCTURE)
                | Q(
                    needle_count__gte=1,
                    exposure_seconds__isnull=False,
                    electro_stimulation__isnull=False,
                    temperature_c__isnull=True,
                    bp_systolic__isnull=True,
                ),
                name="log_acupuncture_readings_complete",
            ),
            models.CheckConstraint(
                condition=Q(status="draft", signed_at__isnull=True)
                | Q(status="signed", signed_at__isnull=False, signed_by__isnull=False),
                name="log_signed_has_signer",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.modality} for {self.patient} on {self.started_at:%Y-%m-%d}"

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        raise ClinicalRecordDeletion("Session logs are clinical records and are never deleted; amend them instead.")

    @property
    def is_signed(self) -> bool:
        return self.status == self.Status.SIGNED

    @property
    def retention_minutes(self) -> int | None:
        return None if self.exposure_seconds is None else self.exposure_seconds // 60

    def limits_apply(self, *, thresholds: SafetyThresholds | None = None) -> None:
        """Copy the limits in force now from the modality, device and clinic thresholds."""
        self.kind = self.modality.kind
        self.exposure_min_seconds = self.modality.exposure_min_seconds
        self.exposure_max_seconds = self.modality.exposure_max_seconds
        self.device_limits_apply()
        if self.kind == KIND_WBC:
            thresholds = thresholds or SafetyThresholds.load()
            self.bp_systolic_max = thresholds.wbc_systolic_max
            self.bp_diastolic_max = thresholds.wbc_diastolic_max
        else:
            self.bp_systolic_max = self.bp_diastolic_max = None

    def device_limits_apply(self) -> None:
        """Take the temperature range from the device actually used (it may be changed on the form)."""
        device = self.resource if self.resource_id and self.kind != KIND_ACUPUNCTURE else None
        self.temperature_min_c = device.temperature_min_c if device else None
        self.temperature_max_c = device.temperature_max_c if device else None

    def clean_fields(self, exclude: Any = None) -> None:
        """Refuse a fractional reading before Django's integer conversion would silently truncate it.

        ``IntegerField.to_python`` turns 4.5 into 4, so a caller that skipped the form (whose
        choice field refuses "4.5") would store a score the patient never gave.
        """
        errors: dict[str, list[str]] = {}
        for field in self._meta.concrete_fields:
            if not isinstance(field, models.IntegerField) or (exclude and field.name in exclude):
                continue
            value = getattr(self, field.attname)
            fractional = isinstance(value, float | Decimal) and value != int(value)
            if isinstance(value, bool) or fractional:
                message = (
                    gettext("Pain is scored as a whole number from 0 to 10.")
                    if field.name in ("pain_before", "pain_after")
                    else gettext("Enter the %(field)s as a whole number.") % {"field": field.verbose_name}
                )
                errors[field.name] = [message]
        try:
            super().clean_fields(exclude=[*(exclude or ()), *errors])
        except ValidationError as error:
            errors |= error.message_dict
        if errors:
            raise ValidationError(errors)

    def clean(self) -> None:
        """The plausibility rules of invariant 3, as field errors a practitioner can fix."""
        super().clean()
        self.device_limits_apply()
        errors: dict[str, list[str]] = {}

        def refuse(field: str, message: str) -> None:
            errors.setdefault(field, []).append(message)

        kind = self.kind
        needed = self.KIND_FIELDS.get(kind, ())
        for field in needed:
            value = getattr(self, field if field != "resource" else "resource_id")
            if value is None or value == "":
                label = self._meta.get_field(field).verbose_name
                refuse(field, gettext("Enter the %(field)s for this session.") % {"field": label})

        if kind == KIND_LOCAL and self.temperature_c is not None:
            self._cold_method_apply(refuse)
        if self.exposure_seconds is not None:
            low, high = self.exposure_min_seconds, self.exposure_max_seconds
            value = self.exposure_seconds
            if not low <= value <= high:
                if kind == KIND_LOCAL and self.cold_method is not None:
                    refuse(
                        "exposure_seconds",
                        gettext(
                            "%(method)s at %(temperature)s °C is applied for %(low)s-%(high)s seconds; "
                            "%(value)s seconds is outside that. Check the timer and the temperature."
                        )
                        % {
                            "method": self.cold_method.name,
                            "temperature": formats.localize(self.temperature_c),
                            "low": low,
                            "high": high,
                            "value": value,
                        },
                    )
                elif kind == KIND_ACUPUNCTURE:
                    refuse(
                        "exposure_seconds",
                        gettext(
                            "Needle retention of %(value)s minutes is outside this treatment's "
                            "%(low)s-%(high)s minutes."
                        )
                        % {"value": value // 60, "low": low // 60, "high": high // 60},
                    )
                else:
                    refuse(
                        "exposure_seconds",
                        gettext(
                            "An exposure of %(value)s seconds is outside this treatment's %(low)s-%(high)s seconds; "
                            "check the timer reading."
                        )
                        % {"value": value, "low": low, "high": high},
                    )
        if self.temperature_c is not None:
            low_c, high_c = self.temperature_min_c, self.temperature_max_c
            value_c = Decimal(self.temperature_c)
            if (low_c is not None and value_c < low_c) or (high_c is not None and value_c > high_c):
                refuse(
                    "temperature_c",
                    gettext("%(value)s °C is outside the device's range of %(low)s to %(high)s °C; check the reading.")
                    % {
                        "value": formats.localize(value_c),
                        "low": formats.localize(low_c),
                        "high": formats.localize(high_c),
                    },
                )
        exposure, duration = self.exposure_seconds, self.duration_minutes
        if exposure and duration and exposure > duration * 60:
            if kind == KIND_ACUPUNCTURE:
                refuse(
                    "duration_minutes",
                    gettext(
                        "A %(duration)s-minute session cannot be shorter than the %(retention)s minutes "
                        "the needles were retained; check both."
                    )
                    % {"duration": duration, "retention": exposure // 60},
                )
            else:
                refuse("duration_minutes", gettext("The session cannot be shorter than the exposure within it."))

        if kind == KIND_WBC:
            self._clean_blood_pressure(refuse)
            if self.unchanged_since_screening is False:
                refuse(
                    "unchanged_since_screening",
                    gettext(
                        "Something changed since screening: do not start the session; ask a practitioner "
                        "to review the screening first."
                    ),
                )
        if self.patient_id and self.modality_id:
            self._clearance_conditions_check(refuse)
        if kind == KIND_LOCAL and self.resource_id and self.resource.kind != Resource.Kind.DEVICE:
            refuse("resource", gettext("Choose the cryotherapy device that was used."))
        if errors:
            raise ValidationError(errors)

    def _clearance_conditions_check(self, refuse: Any) -> None:
        """The conditions a practitioner attached to this patient's clearance for the modality."""
        review = clearance_in_force(patient=self.patient, modality=self.modality)
        if review is None:
            return
        decided = f"{review.decided_by.get_full_name()}, {format_when(review.decided_on, 'date')}"
        for condition in review.conditions.all():
            given = gettext("Cleared on condition: %(condition)s (%(decided)s)") % {
                "condition": condition.name,
                "decided": decided,
            }
            if condition.forbids_electro_stimulation and self.electro_stimulation:
                refuse(
                    "electro_stimulation",
                    gettext("%(given)s: electro-stimulation is not allowed for this patient.") % {"given": given},
                )
            limit = condition.max_exposure_seconds
            if limit and self.exposure_seconds and self.exposure_seconds > limit:
                refuse(
                    "exposure_seconds",
                    gettext("%(given)s: an exposure of at most %(limit)s seconds (%(minutes)s min) for this patient.")
                    % {"given": given, "limit": limit, "minutes": limit // 60},
                )

    def _cold_method_apply(self, refuse: Any) -> None:
        """Localized cryotherapy: the logged temperature picks the method, whose exposure bounds are copied."""
        method = ColdApplicationMethod.objects.covering(Decimal(self.temperature_c))
        self.cold_method = method
        if method is None:
            refuse(
                "temperature_c",
                gettext(
                    "No cold application method is set up for %(temperature)s °C; check the reading "
                    "(an admin defines the methods and their temperatures)."
                )
                % {"temperature": formats.localize(self.temperature_c)},
            )
            return
        self.exposure_min_seconds = method.exposure_min_seconds
        self.exposure_max_seconds = method.exposure_max_seconds

    def _clean_blood_pressure(self, refuse: Any) -> None:
        systolic, diastolic = self.bp_systolic, self.bp_diastolic
        if systolic is None or diastolic is None:
            return
        if not 70 <= systolic <= 260:
            refuse(
                "bp_systolic",
                gettext("A systolic pressure of %(value)s mmHg is not plausible; measure again.") % {"value": systolic},
            )
            return
        if not 40 <= diastolic <= 160 or diastolic >= systolic:
            refuse(
                "bp_diastolic",
                gettext("A diastolic pressure of %(value)s mmHg is not plausible; measure again.")
                % {"value": diastolic},
            )
            return
        if systolic > (self.bp_systolic_max or 0) or diastolic > (self.bp_diastolic_max or 0):
            message = gettext(
                "Blood pressure %(systolic)s/%(diastolic)s is above the clinic's limit of "
                "%(systolic_max)s/%(diastolic_max)s for whole-body cryotherapy: "
                "do not start the session. Let the patient rest and measure again, or rebook."
            ) % {
                "systolic": systolic,
                "diastolic": diastolic,
                "systolic_max": self.bp_systolic_max,
                "diastolic_max": self.bp_diastolic_max,
            }
            refuse("bp_systolic" if systolic > (self.bp_systolic_max or 0) else "bp_diastolic", message)


class AdverseEventQuerySet(models.QuerySet):
    def delete(self) -> Any:
        raise ClinicalRecordDeletion("Adverse events are removed only by amending their session log.")


class AdverseEvent(models.Model):
    """Something unwanted that happened during or right after a session.

    A session without adverse events simply has none of these rows ("none").
    """

    class Kind(models.TextChoices):
        REDNESS = "redness", _("Redness")
        NUMBNESS = "numbness", _("Numbness")
        TINGLING = "tingling", _("Tingling")
        SKIN_IRRITATION = "skin_irritation", _("Skin irritation")
        FROSTBITE = "frostbite", _("Frostbite")
        NERVE_DAMAGE = "nerve_damage", _("Nerve damage")
        BRUISING = "bruising", _("Bruising")
        SORENESS = "soreness", _("Soreness")
        DIZZINESS = "dizziness", _("Dizziness or fainting")
        BLOOD_PRESSURE = "blood_pressure", _("Blood-pressure change")
        OTHER = "other", _("Other")

    class Severity(models.TextChoices):
        MILD = "mild", _("Mild")
        MODERATE = "moderate", _("Moderate")
        SEVERE = "severe", _("Severe")

    session_log = models.ForeignKey(
        SessionLog, on_delete=models.PROTECT, related_name="adverse_events", verbose_name=_("session log")
    )
    kind = models.CharField(_("event"), max_length=20, choices=Kind.choices)
    severity = models.CharField(max_length=10, choices=Severity.choices, verbose_name=_("severity"))
    description = models.CharField(
        max_length=255,
        blank=True,
        help_text=_("What exactly happened (required for 'Other')."),
        verbose_name=_("description"),
    )
    action_taken = models.CharField(
        max_length=255,
        help_text=_("e.g. 'Observed, resolved in 10 minutes', 'Session stopped, referred to GP'."),
        verbose_name=_("action taken"),
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    objects = AdverseEventQuerySet.as_manager()

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("adverse event")
        verbose_name_plural = _("adverse events")
        ordering = ["session_log", "pk"]
        constraints = [
            models.CheckConstraint(condition=~Q(action_taken=""), name="adverse_event_action_recorded"),
            models.CheckConstraint(
                condition=~Q(kind="other") | ~Q(description=""), name="adverse_event_other_described"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.get_severity_display()})"

    def clean(self) -> None:
        super().clean()
        if self.kind == self.Kind.OTHER and not self.description.strip():
            raise ValidationError({"description": gettext("Describe the event.")})

    def as_record(self) -> dict[str, str]:
        return {
            "kind": self.kind,
            "severity": self.severity,
            "description": self.description,
            "action_taken": self.action_taken,
        }


class AmendmentQuerySet(models.QuerySet):
    def delete(self) -> Any:
        raise ClinicalRecordDeletion("Amendments are the record's history and are never deleted.")


class Amendment(models.Model):
    """A change to a signed session log: the earlier version, who changed it, when and why."""

    session_log = models.ForeignKey(
        SessionLog, on_delete=models.PROTECT, related_name="amendments", verbose_name=_("session log")
    )
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("changed by")
    )
    changed_at = models.DateTimeField(auto_now_add=True, verbose_name=_("changed at"))
    reason = models.TextField(help_text=_("Why the signed record was changed."), verbose_name=_("reason"))
    previous_values = models.JSONField(
        help_text=_("The log's clinical fields and adverse events before this change."),
        verbose_name=_("previous values"),
    )
    changed_fields = models.JSONField(
        default=list, help_text=_("Names of the fields this amendment changed."), verbose_name=_("changed fields")
    )

    objects = AmendmentQuerySet.as_manager()

    class Meta:
        verbose_name = _("amendment")
        verbose_name_plural = _("amendments")
        ordering = ["session_log", "changed_at", "pk"]
        constraints = [models.CheckConstraint(condition=~Q(reason=""), name="amendment_reason_given")]

    def __str__(self) -> str:
        return f"Amendment to {self.session_log} at {self.changed_at:%Y-%m-%d %H:%M}"

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        raise ClinicalRecordDeletion("Amendments are the record's history and are never deleted.")


# Questionnaires, relief check-ins and the outcome settings live in their own module.
from treatments.outcome_models import *  # noqa: E402, F403
