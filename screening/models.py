"""Intake screening: what a patient told us about their health, and what it means per modality.

The clinical rules are data (``ContraindicationRule``) so the clinic can tune them in the
admin.  A submission keeps the exact questionnaire version and answers it was given on;
whether it clears a modality is worked out from those answers, the rules and any
practitioner review by ``screening.services.screening_gate``.
"""

from __future__ import annotations

import calendar
from datetime import date

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from modeltranslation.utils import build_localized_fieldname
from simple_history.models import HistoricalRecords

from clinic.clinic_time import format_when
from clinic.models import Modality, Patient
from screening.querysets import ConsentTextQuerySet, QuestionnaireQuerySet, SubmissionQuerySet


def add_months(day: date, months: int) -> date:
    """``day`` moved on by whole calendar months; 31 January + 1 month is 28/29 February."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


class Severity(models.TextChoices):
    ABSOLUTE = "absolute", _("Absolute: not eligible")
    RELATIVE = "relative", _("Relative: a practitioner must review")
    NONE = "none", _("None: no effect")


class Contraindication(models.Model):
    """A condition that may rule out or hold back a treatment, e.g. Raynaud's syndrome."""

    code = models.SlugField(
        unique=True, help_text=_("Stable name used by the seed data and tests."), verbose_name=_("code")
    )
    name = models.CharField(
        max_length=150, unique=True, help_text=_("Clinical name, shown to practitioners."), verbose_name=_("name")
    )
    patient_reason = models.CharField(
        max_length=200,
        help_text=_(
            "The reason in the patient's words, completing 'because …', e.g. 'you told us you have Raynaud's syndrome'."
        ),
        verbose_name=_("patient reason"),
    )
    applies_under_age = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        help_text=_(
            "If set, applies to every patient younger than this on the treatment date "
            "(worked out from the date of birth, no question asked)."
        ),
        verbose_name=_("applies under age"),
    )

    class Meta:
        verbose_name = _("contraindication")
        verbose_name_plural = _("contraindications")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class ContraindicationRule(models.Model):
    """How one contraindication affects one modality.  No row means no effect."""

    contraindication = models.ForeignKey(
        Contraindication, on_delete=models.CASCADE, related_name="rules", verbose_name=_("contraindication")
    )
    modality = models.ForeignKey(
        Modality, on_delete=models.CASCADE, related_name="contraindication_rules", verbose_name=_("modality")
    )
    severity = models.CharField(
        max_length=10,
        choices=Severity.choices,
        help_text=_(
            "Absolute: the patient cannot have this modality. Relative: a practitioner must "
            "review and clear it first. None: no effect."
        ),
        verbose_name=_("severity"),
    )
    rationale = models.TextField(
        blank=True, help_text=_("Why this severity; for the clinical team, not patients."), verbose_name=_("rationale")
    )

    class Meta:
        verbose_name = _("contraindication rule")
        verbose_name_plural = _("contraindication rules")
        ordering = ["contraindication__name", "modality__display_order"]
        constraints = [
            models.UniqueConstraint(
                fields=["contraindication", "modality"], name="one_rule_per_contraindication_modality"
            ),
            models.CheckConstraint(
                condition=Q(severity__in=["absolute", "relative", "none"]), name="rule_severity_known"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.contraindication} → {self.modality}: {self.get_severity_display()}"


class Questionnaire(models.Model):
    """One version of the health questions.  Exactly one version is current at a time."""

    version = models.PositiveIntegerField(unique=True, verbose_name=_("version"))
    title = models.CharField(max_length=150, default="Health questions", verbose_name=_("title"))
    introduction = models.TextField(
        blank=True, help_text=_("Shown above the questions."), verbose_name=_("introduction")
    )
    is_current = models.BooleanField(
        default=False,
        help_text=_("The version patients fill in now. Submissions on older versions must be re-confirmed."),
        verbose_name=_("is current"),
    )
    valid_months = models.PositiveSmallIntegerField(
        default=12,
        help_text=_("How many months a completed screening stays valid before the patient re-confirms it."),
        verbose_name=_("valid months"),
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    objects = QuestionnaireQuerySet.as_manager()

    class Meta:
        verbose_name = _("questionnaire")
        verbose_name_plural = _("questionnaires")
        ordering = ["-version"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_current"], condition=Q(is_current=True), name="one_current_questionnaire"
            ),
            models.CheckConstraint(condition=Q(valid_months__gte=1), name="questionnaire_valid_at_least_a_month"),
        ]

    def __str__(self) -> str:
        return f"{self.title} v{self.version}"


class Question(models.Model):
    """A yes/no health question; 'yes' means the patient has the linked contraindications."""

    questionnaire = models.ForeignKey(
        Questionnaire, on_delete=models.CASCADE, related_name="questions", verbose_name=_("questionnaire")
    )
    key = models.SlugField(
        help_text=_("Stable name across versions, so answers can be carried forward."), verbose_name=_("key")
    )
    text = models.CharField(
        max_length=300, help_text=_("The question in plain words, answered yes or no."), verbose_name=_("text")
    )
    help_text = models.CharField(
        max_length=300,
        blank=True,
        help_text=_("Extra explanation shown under the question."),
        verbose_name=_("help text"),
    )
    position = models.PositiveSmallIntegerField(default=0, verbose_name=_("position"))
    contraindications = models.ManyToManyField(
        Contraindication,
        related_name="questions",
        help_text=_("What a 'yes' to this question means clinically."),
        verbose_name=_("contraindications"),
    )

    class Meta:
        verbose_name = _("question")
        verbose_name_plural = _("questions")
        ordering = ["questionnaire", "position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["questionnaire", "key"], name="question_key_unique_per_version"),
        ]

    def __str__(self) -> str:
        return self.text


class Submission(models.Model):
    """A patient's answers to one questionnaire version.  Never edited: new answers, new row."""

    patient = models.ForeignKey(
        Patient, on_delete=models.PROTECT, related_name="screening_submissions", verbose_name=_("patient")
    )
    questionnaire = models.ForeignKey(
        Questionnaire, on_delete=models.PROTECT, related_name="submissions", verbose_name=_("questionnaire")
    )
    submitted_at = models.DateTimeField(default=timezone.now, verbose_name=_("submitted at"))
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("The patient, or the practitioner who filled it in with or for them."),
        verbose_name=_("submitted by"),
    )
    date_of_birth = models.DateField(
        help_text=_("The date of birth confirmed with these answers (age rules use it)."),
        verbose_name=_("date of birth"),
    )
    notes = models.TextField(
        blank=True, help_text=_("Anything else the patient wanted the clinic to know."), verbose_name=_("notes")
    )

    objects = SubmissionQuerySet.as_manager()

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("submission")
        verbose_name_plural = _("submissions")
        ordering = ["-submitted_at", "-id"]
        indexes = [models.Index(fields=["patient", "-submitted_at"])]

    def __str__(self) -> str:
        return _("Screening of %(patient)s on %(day)s") % {
            "patient": self.patient,
            "day": format_when(self.submitted_at, "date"),
        }

    @property
    def submitted_on(self) -> date:
        return timezone.localdate(self.submitted_at)

    @property
    def expires_on(self) -> date:
        """The first day on which this screening is no longer valid."""
        return add_months(self.submitted_on, self.questionnaire.valid_months)


class Answer(models.Model):
    """One yes/no answer, with the question's wording as the patient saw it."""

    submission = models.ForeignKey(
        Submission, on_delete=models.CASCADE, related_name="answers", verbose_name=_("submission")
    )
    question = models.ForeignKey(Question, on_delete=models.PROTECT, related_name="answers", verbose_name=_("question"))
    question_text = models.CharField(
        max_length=300, help_text=_("The wording the patient answered."), verbose_name=_("question text")
    )
    value = models.BooleanField(help_text=_("True for 'yes'."), verbose_name=_("value"))

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("answer")
        verbose_name_plural = _("answers")
        ordering = ["question__position", "question_id"]
        constraints = [
            models.UniqueConstraint(fields=["submission", "question"], name="one_answer_per_question"),
        ]

    def __str__(self) -> str:
        return f"{self.question_text}: {_('yes') if self.value else _('no')}"


class ClearanceCondition(models.Model):
    """A structured condition a practitioner may attach to a clearance, e.g. "manual needling only".

    Unlike the review's note, a condition is enforced: the session log refuses a reading that
    breaks it (``treatments.SessionLog.clean``), with the condition as the reason.
    """

    name = models.CharField(
        max_length=120,
        unique=True,
        help_text=_("Shown to the practitioner, e.g. 'Manual needling only'."),
        verbose_name=_("name"),
    )
    description = models.CharField(
        max_length=300,
        blank=True,
        help_text=_("Why the condition exists, for the clinical team."),
        verbose_name=_("description"),
    )
    forbids_electro_stimulation = models.BooleanField(
        default=False,
        help_text=_("Acupuncture: a session with electro-stimulation is refused (e.g. pacemaker)."),
        verbose_name=_("forbids electro stimulation"),
    )
    max_exposure_seconds = models.PositiveIntegerField(
        _("longest exposure (seconds)"),
        null=True,
        blank=True,
        help_text=_("If set, a session whose exposure (cold or needle retention) is longer is refused."),
    )
    is_active = models.BooleanField(
        default=True, help_text=_("Untick to stop offering it on new reviews."), verbose_name=_("is active")
    )

    class Meta:
        verbose_name = _("clearance condition")
        verbose_name_plural = _("clearance conditions")
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(max_exposure_seconds__isnull=True) | Q(max_exposure_seconds__gte=1),
                name="clearance_condition_exposure_positive",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Review(models.Model):
    """A practitioner's decision on a relative contraindication for one modality.

    It covers exactly the contraindications it lists: a later 'yes' to anything else for
    this modality re-opens review.  It lapses with the screening's validity period.
    """

    class Decision(models.TextChoices):
        CLEAR = "clear", _("Cleared")
        DECLINE = "decline", _("Declined")

    submission = models.ForeignKey(
        Submission, on_delete=models.PROTECT, related_name="reviews", verbose_name=_("submission")
    )
    modality = models.ForeignKey(
        Modality, on_delete=models.PROTECT, related_name="screening_reviews", verbose_name=_("modality")
    )
    decision = models.CharField(max_length=10, choices=Decision.choices, verbose_name=_("decision"))
    note = models.TextField(help_text=_("Why; the patient sees this note."), verbose_name=_("note"))
    contraindications = models.ManyToManyField(
        Contraindication,
        related_name="reviews",
        help_text=_("The relative contraindications this decision covers."),
        verbose_name=_("contraindications"),
    )
    conditions = models.ManyToManyField(
        ClearanceCondition,
        blank=True,
        related_name="reviews",
        help_text=_("Conditions of a clearance, enforced when a session is logged (e.g. manual needling only)."),
        verbose_name=_("conditions"),
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("decided by")
    )
    decided_at = models.DateTimeField(default=timezone.now, verbose_name=_("decided at"))

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("review")
        verbose_name_plural = _("reviews")
        ordering = ["-decided_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(decision__in=["clear", "decline"]), name="review_decision_known"),
            models.CheckConstraint(condition=~Q(note=""), name="review_note_required"),
        ]

    def __str__(self) -> str:
        return _("%(decision)s %(treatment)s for %(patient)s") % {
            "decision": self.get_decision_display(),
            "treatment": self.modality,
            "patient": self.submission.patient,
        }

    @property
    def decided_on(self) -> date:
        return timezone.localdate(self.decided_at)


class ConsentText(models.Model):
    """One version of a modality's consent wording.  One current version per modality."""

    modality = models.ForeignKey(
        Modality, on_delete=models.PROTECT, related_name="consent_texts", verbose_name=_("modality")
    )
    version = models.PositiveIntegerField(verbose_name=_("version"))
    body = models.TextField(
        help_text=_("What the patient reads: what happens, risks and side effects."), verbose_name=_("body")
    )
    is_current = models.BooleanField(
        default=False,
        help_text=_("The wording patients sign now; publishing a new one asks everyone to sign again."),
        verbose_name=_("is current"),
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    objects = ConsentTextQuerySet.as_manager()

    class Meta:
        verbose_name = _("consent text")
        verbose_name_plural = _("consent texts")
        ordering = ["modality__display_order", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["modality", "version"], name="consent_version_unique_per_modality"),
            models.UniqueConstraint(
                fields=["modality"], condition=Q(is_current=True), name="one_current_consent_per_modality"
            ),
        ]

    def __str__(self) -> str:
        return _("%(treatment)s consent v%(version)s") % {"treatment": self.modality, "version": self.version}

    def language_read(self, language: str | None) -> str:
        """The language a patient reading this version in ``language`` actually read: English where the
        version has no wording in ``language`` yet (the page fell back to it)."""
        language = (language or settings.LANGUAGE_CODE).lower()  # no active language: the default one
        code = next((code for code, _name in settings.LANGUAGES if code == language), None)
        if code is None:  # "es-mx" read the Spanish, "en" the English
            base = language.split("-")[0]
            code = next((code for code, _name in settings.LANGUAGES if code.split("-")[0] == base), None)
        if code is None or not getattr(self, build_localized_fieldname("body", code), ""):
            return settings.LANGUAGE_CODE
        return code


class GuardianRelationship(models.TextChoices):
    PARENT = "parent", _("Parent")
    LEGAL_GUARDIAN = "legal_guardian", _("Legal guardian")


class Consent(models.Model):
    """A patient's signature (typed name and tick) on one consent text version."""

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="consents", verbose_name=_("patient"))
    consent_text = models.ForeignKey(
        ConsentText, on_delete=models.PROTECT, related_name="consents", verbose_name=_("consent text")
    )
    typed_name = models.CharField(
        max_length=150, help_text=_("The name the patient typed as a signature."), verbose_name=_("typed name")
    )
    guardian_name = models.CharField(
        max_length=150,
        blank=True,
        help_text=_("Under-18s: the full name of the parent or legal guardian who consents with the patient."),
        verbose_name=_("guardian name"),
    )
    guardian_relationship = models.CharField(
        max_length=20,
        choices=GuardianRelationship.choices,
        blank=True,
        help_text=_("Under-18s: how the guardian is related to the patient."),
        verbose_name=_("guardian relationship"),
    )
    guardian_signature = models.CharField(
        max_length=150,
        blank=True,
        help_text=_("Under-18s: the name the guardian typed as their signature."),
        verbose_name=_("guardian signature"),
    )
    language = models.CharField(
        max_length=10,
        choices=settings.LANGUAGES,
        default="en-gb",
        help_text=_("The language of the consent wording the patient read and signed."),
        verbose_name=_("language"),
    )
    signed_at = models.DateTimeField(default=timezone.now, verbose_name=_("signed at"))
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("Who entered the signature."),
        verbose_name=_("recorded by"),
    )

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("consent")
        verbose_name_plural = _("consents")
        ordering = ["-signed_at"]
        constraints = [
            models.UniqueConstraint(fields=["patient", "consent_text"], name="one_signature_per_consent_version"),
            models.CheckConstraint(condition=~Q(typed_name=""), name="consent_typed_name_required"),
            models.CheckConstraint(
                condition=Q(guardian_name="", guardian_relationship="", guardian_signature="")
                | (~Q(guardian_name="") & ~Q(guardian_relationship="") & ~Q(guardian_signature="")),
                name="consent_guardian_complete_or_absent",
            ),
        ]

    def __str__(self) -> str:
        return _("%(patient)s signed %(consent)s") % {"patient": self.patient, "consent": self.consent_text}

    @property
    def has_guardian(self) -> bool:
        return bool(self.guardian_name)


class TreatmentHoldQuerySet(models.QuerySet):
    def open(self) -> TreatmentHoldQuerySet:
        return self.filter(lifted_at__isnull=True)


class TreatmentHold(models.Model):
    """A stop on further sessions of one kind of treatment for one patient, until a clinician reviews it.

    Placed when a severe adverse event is logged (article 000: stop the treatment and seek
    care); the screening gate refuses the treatment while it is open, so booking, joining a
    waitlist and moving all respect it.  A practitioner's clearance of the treatment lifts it.
    """

    patient = models.ForeignKey(
        Patient, on_delete=models.PROTECT, related_name="treatment_holds", verbose_name=_("patient")
    )
    family = models.CharField(
        _("treatment"),
        max_length=20,
        choices=Modality.Kind.choices,
        help_text=_("The kind of treatment held (every modality of this kind, e.g. both acupuncture visit types)."),
    )
    reason = models.CharField(
        max_length=300,
        help_text=_("What happened, e.g. 'Frostbite (severe) after the session on 3 May 2026'."),
        verbose_name=_("reason"),
    )
    source = models.CharField(
        max_length=100,
        help_text=_("What placed the hold, e.g. 'session log 42'; one hold per source."),
        verbose_name=_("source"),
    )
    placed_at = models.DateTimeField(default=timezone.now, verbose_name=_("placed at"))
    placed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("The practitioner whose log placed the hold."),
        verbose_name=_("placed by"),
    )
    lifted_at = models.DateTimeField(
        null=True, blank=True, help_text=_("When a clinician's review lifted the hold."), verbose_name=_("lifted at")
    )
    lifted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("lifted by"),
    )
    lifted_by_review = models.ForeignKey(
        Review,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="lifted_holds",
        help_text=_("The clearance that lifted the hold (its note says why)."),
        verbose_name=_("lifted by review"),
    )

    objects = TreatmentHoldQuerySet.as_manager()

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("treatment hold")
        verbose_name_plural = _("treatment holds")
        ordering = ["-placed_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["patient", "family", "source"], name="one_hold_per_source"),
            models.CheckConstraint(
                condition=Q(lifted_at__isnull=True, lifted_by__isnull=True)
                | Q(lifted_at__isnull=False, lifted_by__isnull=False),
                name="hold_lifted_by_someone",
            ),
        ]

    def __str__(self) -> str:
        return _("%(treatment)s held for %(patient)s: %(reason)s") % {
            "treatment": self.get_family_display(),
            "patient": self.patient,
            "reason": self.reason,
        }

    @property
    def is_open(self) -> bool:
        return self.lifted_at is None
