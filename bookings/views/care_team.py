"""Care-team pages: the desk assigns, a member refers, anyone on staff sees who is on the team;
a practitioner outside it may break the glass in an emergency; the desk registers patients.

The rules are ``clinic.care_team``'s; these pages only collect input and show results.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.generic import FormView, TemplateView

from bookings.forms_care_team import BreakGlassForm, CareTeamAssignForm, CareTeamReferForm, DeskPatientForm
from clinic.access import ClinicStaffRequiredMixin, FrontDeskRequiredMixin, PractitionerRequiredMixin
from clinic.audit import AuditedPatientDataMixin
from clinic.care_team import (
    CareTeamRefused,
    care_team_assign,
    care_team_break_glass,
    care_team_end,
    care_team_is_member,
    care_team_refer,
    patients_bookable_by,
    patients_visible_to,
)
from clinic.clinic_time import format_when
from clinic.models import CareTeamMembership, Modality, Patient
from clinic.services import account_claim_link_create, patient_register_at_desk
from screening.access import screening_status_word
from screening.selectors import screening_statuses

ACCOUNT_LINK_SESSION_KEY = "bookings_account_claim_link"


def _patients_for_care_team_page(request: HttpRequest) -> QuerySet[Patient]:
    """The desk: active patients; admins: all; a practitioner: their care team's patients."""
    user = request.user
    if user.is_clinic_admin:
        return Patient.objects.all()
    if user.is_front_desk:
        return patients_bookable_by(user)
    return patients_visible_to(user)


class CareTeamView(AuditedPatientDataMixin, ClinicStaffRequiredMixin, TemplateView):
    """Who is on a patient's care team, since when and why; screening as words; assign, refer, end."""

    template_name = "bookings/care_team/patient.html"
    audit_description = "Care team"

    def _load_patient(self) -> Patient:
        self.patient = get_object_or_404(
            _patients_for_care_team_page(self.request).select_related("user"), pk=self.kwargs["pk"]
        )
        return self.patient

    def get_audit_target(self) -> None:
        return None

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        patient = self._load_patient()
        user = self.request.user
        modalities = list(Modality.objects.active())
        decisions = screening_statuses(patients=[patient], modalities=modalities, on_date=timezone.localdate())
        words = [
            (modality, screening_status_word(decisions[patient.pk][modality.pk].status)) for modality in modalities
        ]
        memberships = CareTeamMembership.objects.filter(patient=patient).select_related(
            "member", "granted_by", "ended_by"
        )
        context.update(
            patient=patient,
            screening_words=words,
            memberships=memberships,
            may_assign=user.is_front_desk or user.is_clinic_admin,
            may_refer=user.is_clinic_admin
            or (user.is_practitioner and care_team_is_member(user=user, patient=patient, include_emergency=False)),
            assign_form=kwargs.get("assign_form") or CareTeamAssignForm(),
            refer_form=kwargs.get("refer_form") or CareTeamReferForm(),
        )
        return context

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        patient = self._load_patient()
        action = request.POST.get("action")
        try:
            if action == "assign":
                form = CareTeamAssignForm(request.POST)
                if not form.is_valid():
                    return self.render_to_response(self.get_context_data(assign_form=form), status=400)
                care_team_assign(
                    patient=patient,
                    practitioner=form.cleaned_data["practitioner"],
                    actor=request.user,
                    reason=form.cleaned_data["reason"],
                )
                messages.success(
                    request, _("%(person)s is on the care team.") % {"person": form.cleaned_data["practitioner"]}
                )
            elif action == "refer":
                form = CareTeamReferForm(request.POST)
                if not form.is_valid():
                    return self.render_to_response(self.get_context_data(refer_form=form), status=400)
                care_team_refer(
                    patient=patient,
                    practitioner=form.cleaned_data["practitioner"],
                    actor=request.user,
                    reason=form.cleaned_data["reason"],
                )
                messages.success(request, _("Referred to %(person)s.") % {"person": form.cleaned_data["practitioner"]})
            elif action == "end":
                membership_id = request.POST.get("membership", "")
                membership = get_object_or_404(
                    CareTeamMembership, pk=membership_id if membership_id.isdigit() else 0, patient=patient
                )
                care_team_end(membership=membership, actor=request.user)
                messages.success(
                    request, _("%(person)s is no longer on the care team.") % {"person": membership.member}
                )
            else:
                return HttpResponse("Unknown action.", status=400)
        except CareTeamRefused as refusal:
            raise Http404("No such patient.") from refusal
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        return redirect("bookings:care_team", pk=patient.pk)


class BreakGlassView(PractitionerRequiredMixin, FormView):
    """Emergency access: the practitioner names the patient and the emergency; an admin reviews it."""

    template_name = "bookings/care_team/break_glass.html"
    form_class = BreakGlassForm

    def form_valid(self, form: BreakGlassForm) -> HttpResponse:
        patient = Patient.objects.filter(user__email__iexact=form.cleaned_data["patient_email"]).first()
        if patient is None:
            form.add_error("patient_email", _("No patient has this email address."))
            return self.form_invalid(form)
        try:
            membership = care_team_break_glass(
                patient=patient, actor=self.request.user, reason=form.cleaned_data["reason"]
            )
        except CareTeamRefused as refusal:
            form.add_error(None, str(refusal))
            return self.form_invalid(form)
        except ValidationError as error:
            form.add_error("reason", error)
            return self.form_invalid(form)
        messages.warning(
            self.request,
            _("Emergency access until %(when)s; an admin will review it.")
            % {"when": format_when(membership.ends_at, "short_day_month_time")},
        )
        return redirect("treatments:patient_chart", pk=patient.pk)


class DeskPatientRegisterView(FrontDeskRequiredMixin, FormView):
    """The front desk registers a patient who called or came in (an email address is optional).

    The rules are ``clinic.services.patient_register_at_desk``'s; the next page shows the
    one-time link with which the patient takes up their online account.
    """

    template_name = "bookings/care_team/patient_register.html"
    form_class = DeskPatientForm

    def form_valid(self, form: DeskPatientForm) -> HttpResponse:
        try:
            patient, link = patient_register_at_desk(actor=self.request.user, request=self.request, **form.cleaned_data)
        except ValidationError as error:
            for field, field_messages in error.message_dict.items():
                for message in field_messages:
                    form.add_error(field if field in form.fields else None, message)
            return self.form_invalid(form)
        self.request.session[ACCOUNT_LINK_SESSION_KEY] = {"patient": patient.pk, "link": link}
        messages.success(self.request, f"{patient.full_name} is registered.")
        return redirect("bookings:desk_account_link", pk=patient.pk)


class DeskAccountLinkView(FrontDeskRequiredMixin, TemplateView):
    """The one-time link to a patient's online account, to print or read out; the desk can make a new one."""

    template_name = "bookings/care_team/account_link.html"

    def _patient(self) -> Patient:
        return get_object_or_404(patients_bookable_by(self.request.user).select_related("user"), pk=self.kwargs["pk"])

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        patient = self._patient()
        shown = self.request.session.pop(ACCOUNT_LINK_SESSION_KEY, None)
        link = kwargs.get("link") or (shown["link"] if shown and shown.get("patient") == patient.pk else None)
        context.update(
            patient=patient,
            link=link,
            claimed=patient.user.has_usable_password(),
            days=settings.CLINIC_ACCOUNT_CLAIM_DAYS,
        )
        return context

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        patient = self._patient()
        try:
            link = account_claim_link_create(patient=patient, actor=request.user, request=request)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
            return redirect("bookings:desk_account_link", pk=patient.pk)
        request.session[ACCOUNT_LINK_SESSION_KEY] = {"patient": patient.pk, "link": link}
        return redirect("bookings:desk_account_link", pk=patient.pk)
