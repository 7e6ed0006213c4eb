"""Screening pages.  Thin: forms check input, services write, selectors read."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.generic import FormView, TemplateView

from clinic.access import PatientRequiredMixin, PractitionerRequiredMixin
from clinic.audit import AuditedPatientDataMixin, audit_record
from clinic.models import AuditEvent, Modality, Patient
from screening.access import (
    patients_without_care_team,
    screening_patient_visible_to,
    screening_patients_readable_by,
)
from screening.eligibility import ADULT_AGE
from screening.forms import ConsentForm, QuestionnaireForm, ReviewForm
from screening.models import Consent, Submission
from screening.selectors import (
    answer_rows,
    consent_text_current,
    questionnaire_current,
    screening_current_submission,
    screening_decisions_today,
    screening_modalities_awaiting_review,
    screening_review_queue,
    submission_reviews,
)
from screening.services import consent_sign, review_record, submission_create


def _status_rows(*, patient: Patient) -> list[dict[str, Any]]:
    return [
        {"modality": decision.modality, "decision": decision} for decision in screening_decisions_today(patient=patient)
    ]


class _ScreenedPatientAccessMixin:
    """Loads the patient (and submission) a staff page is about, or answers 404.

    Listed after the access mixin, so only staff get here, and after
    ``AuditedPatientDataMixin``, so a refused id is in the audit trail.  Who may
    open whose screening is ``screening.access.screening_patient_visible_to``:
    the care team only (see that module for why there are no exceptions).
    """

    request: HttpRequest
    patient: Patient

    def load_screened_patient(self, **kwargs: Any) -> None:
        raise NotImplementedError

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        self.load_screened_patient(**kwargs)
        if not screening_patient_visible_to(request.user, self.patient):
            raise Http404(_("No such patient."))
        return super().dispatch(request, *args, **kwargs)  # type: ignore[misc]


class MyScreeningView(PatientRequiredMixin, TemplateView):
    """The patient's screening: per treatment, can they book, and if not why and what next."""

    template_name = "screening/submission_mine.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        submission = screening_current_submission(patient=self.patient)
        context.update(
            rows=_status_rows(patient=self.patient),
            submission=submission,
            reviews=submission_reviews(submission=submission) if submission else [],
            consents=Consent.objects.filter(patient=self.patient).select_related("consent_text__modality"),
        )
        return context


class _QuestionnaireFormMixin:
    """Shared by the patient's own form and the practitioner's fill-in-for-them form."""

    template_name = "screening/submission_form.html"
    request: HttpRequest

    def screened_patient(self) -> Patient:
        raise NotImplementedError

    def dispatch_questionnaire(self) -> None:
        self.questionnaire = questionnaire_current()
        if self.questionnaire is None:
            raise Http404(_("No health questionnaire is published yet."))

    def get_form_kwargs(self) -> dict[str, Any]:
        kwargs = super().get_form_kwargs()  # type: ignore[misc]
        patient = self.screened_patient()
        previous = screening_current_submission(patient=patient)
        kwargs["questionnaire"] = self.questionnaire
        kwargs["previous_answers"] = (
            {a.question.key: a.value for a in previous.answers.select_related("question")} if previous else {}
        )
        kwargs["initial"] = {"date_of_birth": patient.date_of_birth}
        return kwargs

    def form_valid(self, form: QuestionnaireForm) -> HttpResponse:
        try:
            submission_create(
                patient=self.screened_patient(),
                answers=form.answers(),
                date_of_birth=form.cleaned_data["date_of_birth"],
                notes=form.cleaned_data["notes"],
                submitted_by=self.request.user,
                questionnaire=self.questionnaire,
            )
        except ValidationError as error:
            form.add_error(None, error)
            return self.form_invalid(form)  # type: ignore[attr-defined]
        return redirect(self.get_success_url())  # type: ignore[attr-defined]


class QuestionnaireView(PatientRequiredMixin, _QuestionnaireFormMixin, FormView):
    form_class = QuestionnaireForm

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        self.dispatch_questionnaire()
        return super().dispatch(request, *args, **kwargs)

    def screened_patient(self) -> Patient:
        return self.patient

    def get_success_url(self) -> str:
        messages.success(
            self.request, _("Thank you, your answers are saved. Here is what they mean for each treatment.")
        )
        return reverse("screening:mine")


class SubmissionDetailView(PatientRequiredMixin, TemplateView):
    """One of the patient's own submissions, answers as given.  Anyone else's is a 404."""

    template_name = "screening/submission_detail.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        submission = get_object_or_404(
            Submission.objects.select_related("questionnaire", "submitted_by"), pk=kwargs["pk"], patient=self.patient
        )
        context.update(submission=submission, answers=submission.answers.select_related("question"))
        return context


class ConsentView(PatientRequiredMixin, FormView):
    template_name = "screening/consent_form.html"
    form_class = ConsentForm

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        self.modality = get_object_or_404(Modality.objects.active(), slug=kwargs["slug"])
        self.consent_text = consent_text_current(modality=self.modality)
        if self.consent_text is None:
            raise Http404(_("This treatment has no consent form yet."))
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        signed = Consent.objects.filter(patient=self.patient, consent_text=self.consent_text).first()
        context.update(
            modality=self.modality,
            consent_text=self.consent_text,
            signed=signed,
            guardian_missing=signed is not None
            and not signed.has_guardian
            and context["form"].fields.get("guardian_name"),
        )
        return context

    def get_form_kwargs(self) -> dict[str, Any]:
        # Under 18 (today): a parent or guardian signs too; the service checks the same rule.
        return super().get_form_kwargs() | {"minor": self.patient.age_on(timezone.localdate()) < ADULT_AGE}

    def form_valid(self, form: ConsentForm) -> HttpResponse:
        try:
            consent_sign(
                patient=self.patient,
                consent_text=self.consent_text,
                typed_name=form.cleaned_data["typed_name"],
                agreed=form.cleaned_data["agreed"],
                by=self.request.user,
                language=get_language(),
                guardian_name=form.cleaned_data.get("guardian_name", ""),
                guardian_relationship=form.cleaned_data.get("guardian_relationship", ""),
                guardian_signature=form.cleaned_data.get("guardian_signature", ""),
            )
        except ValidationError as error:
            field = {"name_mismatch": "typed_name", "guardian_signature_mismatch": "guardian_signature"}.get(error.code)
            form.add_error(field, error)
            return self.form_invalid(form)
        messages.success(
            self.request,
            _("Thank you, your consent for %(treatment)s is recorded.") % {"treatment": self.modality.name.lower()},
        )
        return redirect("screening:mine")


class ReviewQueueView(AuditedPatientDataMixin, PractitionerRequiredMixin, TemplateView):
    """Answers waiting for a clinician, of the patients on the viewer's care team (admins: all).

    Waiting patients with nobody on their care team are only counted, so the desk can assign someone.
    """

    template_name = "screening/review_list.html"
    audit_description = "Screening review queue"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["queue"] = screening_review_queue(patients=screening_patients_readable_by(self.request.user))
        context["unassigned_waiting"] = len(screening_review_queue(patients=patients_without_care_team()))
        return context


class _PatientScreeningContextMixin:
    def screening_context(self, *, patient: Patient, submission: Submission | None) -> dict[str, Any]:
        modalities = list(Modality.objects.active())
        return {
            "patient": patient,
            "submission": submission,
            "rows": _status_rows(patient=patient),
            "answer_rows": answer_rows(submission=submission, modalities=modalities) if submission else [],
            "reviews": submission_reviews(submission=submission) if submission else [],
        }


class ReviewView(
    AuditedPatientDataMixin,
    PractitionerRequiredMixin,
    _ScreenedPatientAccessMixin,
    _PatientScreeningContextMixin,
    TemplateView,
):
    """A submission's answers, highlighted by what they mean, with a clear/decline form per waiting modality."""

    template_name = "screening/review_form.html"
    audit_description = "Screening answers (review)"

    def load_screened_patient(self, **kwargs: Any) -> None:
        self.submission = get_object_or_404(
            Submission.objects.select_related("patient__user", "questionnaire", "submitted_by"), pk=kwargs["pk"]
        )
        self.object = self.submission
        self.patient = self.submission.patient

    def waiting_modalities(self) -> list[Modality]:
        latest = screening_current_submission(patient=self.submission.patient)
        if latest is None or latest.pk != self.submission.pk:
            return []
        return screening_modalities_awaiting_review(patient=self.submission.patient)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context.update(self.screening_context(patient=self.submission.patient, submission=self.submission))
        waiting = self.waiting_modalities()
        posted = kwargs.get("posted_form")
        context["review_forms"] = [
            (m, posted if posted is not None and posted.data.get("modality") == str(m.pk) else form)
            for m, form in ((m, ReviewForm(modalities=waiting, modality=m)) for m in waiting)
        ]
        context["is_latest"] = screening_current_submission(patient=self.submission.patient) == self.submission
        context["age"] = self.submission.patient.age_on(timezone.localdate())
        return context

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        waiting = self.waiting_modalities()
        form = ReviewForm(request.POST, modalities=waiting)
        if form.is_valid():
            try:
                review = review_record(
                    submission=self.submission,
                    modality=form.cleaned_data["modality"],
                    decision=form.cleaned_data["decision"],
                    note=form.cleaned_data["note"],
                    conditions=form.cleaned_data["conditions"],
                    by=request.user,
                )
            except ValidationError as error:
                form.add_error(None, error)
            else:
                audit_record(
                    request=request,
                    patient=self.patient,
                    action=AuditEvent.Action.CHANGE,
                    target=review,
                    description=f"Screening {review.get_decision_display().lower()} for {review.modality}",
                )
                messages.success(request, _("Decision recorded; the patient will get an email."))
                return redirect("screening:review", pk=self.submission.pk)
        if "modality" in form.errors:
            messages.error(request, _("That treatment is not waiting for a review on these answers."))
        return self.render_to_response(self.get_context_data(posted_form=form), status=400)


class PatientScreeningView(
    AuditedPatientDataMixin,
    PractitionerRequiredMixin,
    _ScreenedPatientAccessMixin,
    _PatientScreeningContextMixin,
    TemplateView,
):
    """A practitioner's view of one patient's screening, with links to review or fill it in with them."""

    template_name = "screening/patient_detail.html"
    audit_description = "Screening answers"

    def load_screened_patient(self, **kwargs: Any) -> None:
        self.patient = get_object_or_404(Patient.objects.select_related("user"), pk=kwargs["patient_id"])

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        patient = self.patient
        context.update(
            self.screening_context(patient=patient, submission=screening_current_submission(patient=patient)),
            # The signatures with the version and the language each was read and signed in.
            consents=Consent.objects.filter(patient=patient).select_related("consent_text__modality"),
        )
        return context


class PractitionerQuestionnaireView(
    AuditedPatientDataMixin,
    PractitionerRequiredMixin,
    _ScreenedPatientAccessMixin,
    _QuestionnaireFormMixin,
    FormView,
):
    """A practitioner fills in the questions with or for a patient (e.g. on the phone or at the desk)."""

    form_class = QuestionnaireForm
    audit_description = "Screening questions filled in by staff"

    def load_screened_patient(self, **kwargs: Any) -> None:
        self.patient = get_object_or_404(Patient.objects.select_related("user"), pk=kwargs["patient_id"])
        self.dispatch_questionnaire()

    def form_valid(self, form: QuestionnaireForm) -> HttpResponse:
        response = super().form_valid(form)
        if response.status_code == 302:
            audit_record(
                request=self.request,
                patient=self.patient,
                action=AuditEvent.Action.CREATE,
                target=screening_current_submission(patient=self.patient),
                description="Screening answers entered by staff",
            )
        return response

    def screened_patient(self) -> Patient:
        return self.patient

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["for_patient"] = self.patient
        return context

    def get_success_url(self) -> str:
        messages.success(self.request, _("Answers saved for %(name)s.") % {"name": self.patient.full_name})
        return reverse("screening:patient", kwargs={"patient_id": self.patient.pk})
