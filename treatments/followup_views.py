"""Pages between sessions: a questionnaire and a relief check-in answered from their links
(no login: the signed link is the credential), and the clinician's cadence settings."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views import View

from bookings.models import CarePlan
from bookings.services.plans import CarePlanRefused, care_plan_relief_settings_set
from clinic.access import PractitionerRequiredMixin
from clinic.care_team import patients_visible_to
from treatments.followup import (
    LinkRefused,
    checkin_from_token,
    questionnaire_answer,
    questionnaire_from_token,
    relief_checkin_answer,
)
from treatments.followup_forms import QuestionnaireAnswerForm, ReliefCadenceForm

REFUSED_TEMPLATE = "treatments/link_refused.html"


def _refused(request: HttpRequest, refusal: LinkRefused) -> HttpResponse:
    return render(request, REFUSED_TEMPLATE, {"message": str(refusal)}, status=410 if refusal.gone else 404)


class QuestionnaireAnswerView(View):
    """The questionnaire on a phone: one question per block, big radio buttons, one send."""

    template_name = "treatments/questionnaire_answer.html"

    def get(self, request: HttpRequest, token: str) -> HttpResponse:
        try:
            questionnaire = questionnaire_from_token(token=token)
        except LinkRefused as refusal:
            return _refused(request, refusal)
        form = QuestionnaireAnswerForm(instrument=questionnaire.instrument)
        return render(request, self.template_name, {"questionnaire": questionnaire, "form": form})

    def post(self, request: HttpRequest, token: str) -> HttpResponse:
        try:
            questionnaire = questionnaire_from_token(token=token)
        except LinkRefused as refusal:
            return _refused(request, refusal)
        form = QuestionnaireAnswerForm(request.POST, instrument=questionnaire.instrument)
        if form.is_valid():
            try:
                questionnaire = questionnaire_answer(token=token, answers=form.answers())
            except LinkRefused as refusal:
                return _refused(request, refusal)
            except ValueError as error:
                form.add_error(None, str(error))
            else:
                return render(request, "treatments/questionnaire_thanks.html", {"questionnaire": questionnaire})
        context = {"questionnaire": questionnaire, "form": form}
        return render(request, self.template_name, context, status=400)


class ReliefCheckInView(View):
    """GET shows the score the link carries and records it only on the button (mail scanners
    follow links, so a GET alone must not change anything)."""

    template_name = "treatments/checkin_answer.html"

    def get(self, request: HttpRequest, token: str) -> HttpResponse:
        try:
            checkin, pain = checkin_from_token(token=token)
        except LinkRefused as refusal:
            return _refused(request, refusal)
        return render(request, self.template_name, {"checkin": checkin, "pain": pain, "done": checkin.pain == pain})

    def post(self, request: HttpRequest, token: str) -> HttpResponse:
        try:
            checkin = relief_checkin_answer(token=token)
        except LinkRefused as refusal:
            return _refused(request, refusal)
        return render(request, self.template_name, {"checkin": checkin, "pain": checkin.pain, "done": True})


class ReliefCadenceView(PractitionerRequiredMixin, View):
    """The clinician's bounds for the relief-led cadence of one plan, and the lock (POST only)."""

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        plan = get_object_or_404(CarePlan, pk=pk, patient__in=patients_visible_to(request.user))
        form = ReliefCadenceForm(request.POST)
        if not form.is_valid():
            problems = " ".join(error for errors in form.errors.values() for error in errors)
            messages.error(request, _("Cadence not saved: %(problems)s") % {"problems": problems})
            return redirect("treatments:patient_chart", pk=plan.patient_id)
        try:
            care_plan_relief_settings_set(
                plan=plan,
                by=request.user,
                min_days=form.cleaned_data["min_days"],
                max_days=form.cleaned_data["max_days"],
                locked=form.cleaned_data["locked"],
            )
        except CarePlanRefused as refusal:
            messages.error(request, str(refusal))
        else:
            messages.success(request, _("Cadence saved."))
        return redirect("treatments:patient_chart", pk=plan.patient_id)


def relief_cadence_form(plan: CarePlan) -> ReliefCadenceForm:
    form = ReliefCadenceForm(
        initial={"min_days": plan.relief_min_days, "max_days": plan.relief_max_days, "locked": plan.cadence_locked}
    )
    form.helper.form_action = reverse("treatments:relief_cadence", args=[plan.pk])
    return form
