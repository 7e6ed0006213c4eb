"""Screening forms: they check the shape of input; services check the rules."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Submit
from django import forms
from django.utils.translation import gettext_lazy as _

from clinic.forms import DateOfBirthField
from clinic.models import Modality
from screening.models import ClearanceCondition, GuardianRelationship, Question, Questionnaire, Review

YES_NO = [("yes", _("Yes")), ("no", _("No"))]
QUESTION_PREFIX = "question_"


class QuestionnaireForm(forms.Form):
    """One yes/no field per question of ``questionnaire``, plus the date of birth age rules use."""

    date_of_birth = DateOfBirthField(
        label=_("Your date of birth"),
        help_text=_("Some treatments have an age limit on the day of treatment."),
    )

    def __init__(
        self,
        *args: Any,
        questionnaire: Questionnaire,
        previous_answers: Mapping[str, bool] | None = None,
        submit_label: str = _("Send my answers"),
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.questionnaire = questionnaire
        self.questions: list[Question] = list(questionnaire.questions.all())
        previous_answers = previous_answers or {}
        for question in self.questions:
            initial = previous_answers.get(question.key)
            self.fields[f"{QUESTION_PREFIX}{question.pk}"] = forms.ChoiceField(
                label=question.text,
                help_text=question.help_text,
                choices=YES_NO,
                widget=forms.RadioSelect,
                initial=None if initial is None else ("yes" if initial else "no"),
                error_messages={"required": _("Please answer yes or no.")},
            )
        self.fields["notes"] = forms.CharField(
            label=_("Anything else we should know? (optional)"),
            required=False,
            max_length=2000,
            widget=forms.Textarea(attrs={"rows": 3}),
            help_text=_("For example a recent operation, or medicines you take."),
        )
        self.helper = FormHelper()
        self.helper.add_input(Submit("submit", submit_label, css_class="btn-lg w-100 w-md-auto"))

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        known = {f"{QUESTION_PREFIX}{q.pk}" for q in self.questions}
        unexpected = [name for name in self.data if name.startswith(QUESTION_PREFIX) and name not in known]
        if unexpected:
            raise forms.ValidationError(
                _("The form was changed since the page loaded; please answer the questions again."), code="tampered"
            )
        return cleaned

    def answers(self) -> dict[int, bool]:
        """question id -> yes/no, once valid."""
        return {q.pk: self.cleaned_data[f"{QUESTION_PREFIX}{q.pk}"] == "yes" for q in self.questions}


class ConsentForm(forms.Form):
    typed_name = forms.CharField(
        label=_("Type your full name to sign"),
        max_length=150,
        help_text=_("Your name as it is on your account."),
    )
    agreed = forms.BooleanField(
        label=_("I have read this consent form, I understand the risks, and I agree to the treatment."),
        error_messages={"required": _("Tick the box to say you agree.")},
    )

    def __init__(self, *args: Any, minor: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if minor:  # under 18: a parent or guardian consents too
            self.fields["guardian_name"] = forms.CharField(
                label=_("Parent or guardian's full name"),
                max_length=150,
                help_text=_("The adult who consents with you."),
            )
            self.fields["guardian_relationship"] = forms.ChoiceField(
                label=_("Their relationship to you"), choices=GuardianRelationship.choices, widget=forms.RadioSelect
            )
            self.fields["guardian_signature"] = forms.CharField(
                label=_("Parent or guardian: type your full name to sign"),
                max_length=150,
                help_text=_("By signing you consent to this treatment for the patient."),
            )
        self.helper = FormHelper()
        self.helper.add_input(Submit("submit", _("Sign the consent form"), css_class="btn-lg"))


class ReviewForm(forms.Form):
    modality = forms.ModelChoiceField(
        queryset=Modality.objects.none(), widget=forms.HiddenInput, error_messages={"invalid_choice": "no review due"}
    )
    decision = forms.ChoiceField(
        label=_("Decision"),
        choices=Review.Decision.choices,
        widget=forms.RadioSelect,
        help_text=_("Clear: the patient may book it. Decline: they may not."),
    )
    note = forms.CharField(
        label=_("Note"),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=2000,
        help_text=_("Why; the patient reads this in their email and on their screening page."),
    )
    conditions = forms.ModelMultipleChoiceField(
        label=_("Conditions of the clearance (optional)"),
        queryset=ClearanceCondition.objects.filter(is_active=True),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Enforced when a session is logged, e.g. manual needling only for a patient with a pacemaker."),
    )

    def __init__(self, *args: Any, modalities: list[Modality], modality: Modality | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["modality"].queryset = Modality.objects.filter(pk__in=[m.pk for m in modalities])
        if modality is not None:
            self.fields["modality"].initial = modality.pk
            self.auto_id = f"id_{modality.slug}_%s"  # one form per modality on the page
        self.helper = FormHelper()
        self.helper.add_input(Submit("submit", _("Record decision")))
