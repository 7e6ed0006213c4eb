"""Admin for the screening rules and records.

Rules, questions and consent texts are edited here.  Submissions, answers, reviews and
consents are records of what a patient said or signed and a practitioner decided: they
are read-only here, so the history the gate relied on cannot be rewritten.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import admin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from modeltranslation.admin import TranslationAdmin, TranslationStackedInline
from modeltranslation.utils import build_localized_fieldname
from simple_history.admin import SimpleHistoryAdmin

from clinic.audit import AuditedClinicalAdminMixin
from clinic.clinic_time import format_when
from notifications.models import Reminder
from screening.models import (
    Answer,
    ClearanceCondition,
    Consent,
    ConsentText,
    Contraindication,
    ContraindicationRule,
    Question,
    Questionnaire,
    Review,
    Submission,
)
from screening.services import consent_text_publish, questionnaire_copy, questionnaire_publish


class ReadOnlyAdminMixin:
    """Records, not settings: viewable and searchable, never edited or deleted in the admin."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ContraindicationRuleInline(admin.TabularInline):
    model = ContraindicationRule
    extra = 0
    fields = ["modality", "severity", "rationale"]


@admin.register(Contraindication)
class ContraindicationAdmin(TranslationAdmin):
    admin_section = "Screening"
    list_display = ["name", "code", "patient_reason", "applies_under_age"]
    search_fields = ["name", "code", "patient_reason"]
    prepopulated_fields = {"code": ["name"]}
    inlines = [ContraindicationRuleInline]


@admin.register(ContraindicationRule)
class ContraindicationRuleAdmin(admin.ModelAdmin):
    admin_section = "Screening"
    list_display = ["contraindication", "modality", "severity"]
    list_editable = ["severity"]
    list_filter = ["severity", "modality"]
    search_fields = ["contraindication__name", "modality__name"]
    list_select_related = ["contraindication", "modality"]


class QuestionInline(TranslationStackedInline):
    model = Question
    extra = 0
    fields = ["position", "key", "text", "help_text", "contraindications"]
    filter_horizontal = ["contraindications"]


@admin.register(Questionnaire)
class QuestionnaireAdmin(TranslationAdmin):
    """A version that has submissions is frozen: publish a new version to change the questions."""

    admin_section = "Screening"

    list_display = ["__str__", "version", "is_current", "valid_months", "created_at"]
    list_filter = ["is_current"]
    inlines = [QuestionInline]
    actions = ["copy_as_new_version"]

    @admin.action(description=_("Copy as a new draft version (to change the questions)"))
    def copy_as_new_version(self, request: HttpRequest, queryset: Any) -> None:
        for questionnaire in queryset:
            copy = questionnaire_copy(questionnaire=questionnaire)
            self.message_user(
                request, _("Created %(copy)s; edit it, then tick 'is current' to publish it.") % {"copy": copy}
            )

    def save_model(self, request: HttpRequest, obj: Questionnaire, form: Any, change: bool) -> None:
        # Saved as not current first, then published: only one version may be current.
        publish, obj.is_current = obj.is_current, False
        super().save_model(request, obj, form, change)
        if publish:
            questionnaire_publish(questionnaire=obj)

    def get_readonly_fields(self, request: HttpRequest, obj: Questionnaire | None = None) -> list[str]:
        if obj is not None and obj.submissions.exists():
            return self.replace_orig_field(["version", "title", "introduction"])
        return []

    def get_inlines(self, request: HttpRequest, obj: Questionnaire | None) -> list:
        if obj is not None and obj.submissions.exists():
            return [FrozenQuestionInline]
        return self.inlines


class FrozenQuestionInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = Question
    extra = 0
    fields = ["position", "key", "text"]
    readonly_fields = fields
    verbose_name_plural = _("questions (answered already, so frozen: publish a new version to change them)")


class AnswerInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = Answer
    fields = ["question_text", "value"]
    readonly_fields = fields
    extra = 0


class ReviewInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = Review
    fields = ["modality", "decision", "note", "decided_by", "decided_at"]
    readonly_fields = fields
    extra = 0


@admin.register(Submission)
class SubmissionAdmin(AuditedClinicalAdminMixin, ReadOnlyAdminMixin, SimpleHistoryAdmin):
    admin_section = "Screening"
    list_display = ["patient", "submitted_at", "questionnaire", "submitted_by"]
    list_filter = ["questionnaire", "submitted_at"]
    search_fields = ["patient__user__email", "patient__user__first_name", "patient__user__last_name"]
    date_hierarchy = "submitted_at"
    list_select_related = ["patient__user", "questionnaire", "submitted_by"]
    readonly_fields = ["patient", "questionnaire", "submitted_at", "submitted_by", "date_of_birth", "notes"]
    inlines = [AnswerInline, ReviewInline]


@admin.register(Review)
class ReviewAdmin(AuditedClinicalAdminMixin, ReadOnlyAdminMixin, SimpleHistoryAdmin):
    admin_section = "Screening"
    audit_patient_path = "submission__patient"
    list_display = ["submission", "modality", "decision", "decided_by", "decided_at"]
    list_filter = ["decision", "modality", "decided_at"]
    search_fields = ["submission__patient__user__email", "submission__patient__user__last_name", "note"]
    list_select_related = ["submission__patient__user", "modality", "decided_by"]
    readonly_fields = [
        "submission",
        "modality",
        "decision",
        "note",
        "contraindications",
        "decided_by",
        "decided_at",
        "outcome_email",
    ]

    @admin.display(description=_("outcome email"))
    def outcome_email(self, obj: Review) -> str:
        """The state of the patient's outcome email in the outbox (its row is in the message log)."""
        row = Reminder.objects.about(obj).first()
        if row is None:
            return _("not written")
        if row.sent_at:
            return _("%(state)s at %(when)s") % {
                "state": row.get_state_display(),
                "when": format_when(row.sent_at, "date_time"),
            }
        return str(row.get_state_display())


@admin.register(ConsentText)
class ConsentTextAdmin(TranslationAdmin):
    """A signed version is frozen: add a new version (and make it current) to change the wording."""

    admin_section = "Screening"

    list_display = ["modality", "version", "is_current", "created_at"]
    list_filter = ["modality", "is_current"]
    search_fields = ["body"]

    def save_model(self, request: HttpRequest, obj: ConsentText, form: Any, change: bool) -> None:
        publish, obj.is_current = obj.is_current, False
        super().save_model(request, obj, form, change)
        if publish:
            consent_text_publish(consent_text=obj)

    def get_readonly_fields(self, request: HttpRequest, obj: ConsentText | None = None) -> list[str]:
        """A signed version is frozen; its wording in a language nobody has signed yet may still be added."""
        if obj is None or not obj.consents.exists():
            return []
        signed_languages = set(obj.consents.values_list("language", flat=True))
        return ["modality", "version"] + [
            build_localized_fieldname("body", code) for code, _name in settings.LANGUAGES if code in signed_languages
        ]


@admin.register(Consent)
class ConsentAdmin(AuditedClinicalAdminMixin, ReadOnlyAdminMixin, SimpleHistoryAdmin):
    admin_section = "Screening"
    list_display = ["patient", "consent_text", "language", "typed_name", "signed_at", "recorded_by"]
    list_filter = ["consent_text__modality", "language", "signed_at"]
    search_fields = ["patient__user__email", "patient__user__last_name", "typed_name"]
    list_select_related = ["patient__user", "consent_text__modality", "recorded_by"]
    readonly_fields = ["patient", "consent_text", "language", "typed_name", "signed_at", "recorded_by"]


@admin.register(ClearanceCondition)
class ClearanceConditionAdmin(TranslationAdmin):
    admin_section = "Screening"
    list_display = ["name", "forbids_electro_stimulation", "max_exposure_seconds", "is_active"]
    search_fields = ["name", "description"]
