"""The staff endpoints: the day's appointments, the patient search, session logs, care plans, outcomes.

Each is a thin door onto what a staff page already shows the same person, through the same
functions, so the API can never reach further than the pages:

- who may call: the day list and the search are for clinic staff (``IsClinicStaff``); session
  logs, care plans and outcomes for practitioners and admins only (the front desk never reads
  clinical records: 403, whatever the patient); patients get 403 on all of them;
- which patient: ``clinic.care_team.patients_visible_to``, the rule behind the chart; a patient
  outside the caller's care team (never on it, membership ended, emergency access expired) is a
  404, exactly as an unknown id, so an id reveals nothing;
- the day list names a patient only where the staff calendar does
  (``bookings.calendar.calendar_patients_named``) and shows screening as a status word;
- every call is one audit row (``api.audit.AuditedAPIMixin``): a read, a created log, or a refusal.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Case, IntegerField, QuerySet, Value, When
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, generics, status
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from api.audit import AuditedAPIMixin
from api.permissions import IsClinicStaff, TokenScopeAllows
from api.problems import Problem
from api.schema import AUTHENTICATED_ERRORS, problem
from api.staff.serializers import (
    CarePlanSerializer,
    DayListSerializer,
    OutcomesSerializer,
    PatientSearchPageSerializer,
    SessionLogCreateSerializer,
    SessionLogDetailSerializer,
    SessionLogSerializer,
)
from api.staff.session_log_input import session_log_input_read
from bookings.calendar import calendar_patients_named
from bookings.models import Appointment, CarePlan
from bookings.selectors import appointments_with_screening, practitioner_appointments
from clinic.care_team import CareTeamRefused, patients_visible_to
from clinic.forms import CalendarDateField, PatientSearchForm
from clinic.models import Patient, Practitioner
from clinic.selectors import patient_query_parse, patient_search
from treatments.models import SessionLog
from treatments.selectors import patient_outcomes, patient_questionnaire_trends, patient_session_history
from treatments.services import SessionLogRefused, session_log_create, session_log_prepare

SEARCH_HINT = gettext_lazy(
    "Type at least two letters of a name, a date of birth, five digits of a phone number or part of an email address."
)


class IsPractitionerOrAdmin(BasePermission):
    """Clinical records: practitioners and clinic admins (then only their care team's patients)."""

    message = gettext_lazy("Only practitioners and clinic admins read or write clinical records.")

    def has_permission(self, request: Request, view: Any) -> bool:
        return bool(request.user and request.user.is_authenticated and request.user.is_practitioner)


STAFF = [IsAuthenticated, TokenScopeAllows, IsClinicStaff]
CLINICAL = [IsAuthenticated, TokenScopeAllows, IsPractitionerOrAdmin]
PATIENT_ID = OpenApiParameter("id", OpenApiTypes.INT, OpenApiParameter.PATH, description="The patient's id.")


def _invalid(form: forms.Form) -> exceptions.ValidationError:
    return exceptions.ValidationError(
        {("non_field_errors" if name == "__all__" else name): list(messages) for name, messages in form.errors.items()}
    )


def _visible_patient(request: Request, pk: int) -> Patient:
    """The patient if the caller may open their chart; else 404 (unknown and out of reach look the same)."""
    return get_object_or_404(patients_visible_to(request.user).select_related("user"), pk=pk)


# --- the day's appointments --------------------------------------------------------------


class DayQueryForm(forms.Form):
    date = CalendarDateField(required=False, input_formats=["%Y-%m-%d"])
    practitioner = forms.IntegerField(required=False, min_value=1, max_value=2**31 - 1)


class StaffDayView(AuditedAPIMixin, APIView):
    """The appointments of one day (cancelled ones included, as on the day page).

    A practitioner gets their own column; a patient's name (and screening status) only for the
    patients of their care team, as on the staff calendar.  The desk and admins get every
    practitioner's day, or one with ``?practitioner=``, with names and screening status words.
    """

    permission_classes = STAFF
    audit_description = "day list"

    @extend_schema(
        tags=["staff"],
        operation_id="staff_day_appointments",
        parameters=[
            OpenApiParameter("date", OpenApiTypes.DATE, description="The clinic's local date (default: today)."),
            OpenApiParameter(
                "practitioner", OpenApiTypes.INT, description="The desk and admins: one practitioner's day."
            ),
        ],
        responses={200: DayListSerializer, **AUTHENTICATED_ERRORS},
    )
    def get(self, request: Request) -> Response:
        form = DayQueryForm(request.query_params)
        if not form.is_valid():
            raise _invalid(form)
        day = form.cleaned_data["date"] or timezone.localdate()
        chosen = form.cleaned_data["practitioner"]
        user = request.user
        own = getattr(user, "practitioner", None)
        if user.is_clinic_admin or user.is_front_desk:
            practitioner = get_object_or_404(Practitioner, pk=chosen) if chosen else own
        elif own is None:
            raise PermissionDenied(gettext("The day list is for practitioners, the front desk and admins."))
        elif chosen and chosen != own.pk:
            raise PermissionDenied("A practitioner's day list is their own; the calendar shows colleagues' times.")
        else:
            practitioner = own
        appointments = list(practitioner_appointments(practitioner=practitioner, start=day, end=day))
        named_patients = calendar_patients_named(viewer=user, patient_ids={a.patient_id for a in appointments})
        named = [a for a in appointments if a.patient_id in named_patients]
        decisions = {a.pk: decision for a, decision in appointments_with_screening(appointments=named, on_date=day)}
        serializer = DayListSerializer(
            {"date": day, "practitioner": practitioner.pk if practitioner else None, "appointments": appointments},
            context={"named": {a.pk for a in named}, "decisions": decisions},
        )
        return Response(serializer.data)


# --- patients ------------------------------------------------------------------------------


class PatientSearchView(AuditedAPIMixin, APIView):
    """Find patients by name, date of birth, phone number or email (``clinic.selectors.patient_search``).

    The desk and admins find any active patient, a practitioner the patients of their care team;
    names and contact details only.  Twenty a page, best match first; an empty query is refused.
    """

    permission_classes = STAFF
    audit_description = "patient search"

    @extend_schema(
        tags=["staff"],
        operation_id="staff_patient_search",
        parameters=[
            OpenApiParameter("q", OpenApiTypes.STR, required=True, description="Name, date of birth, phone or email."),
            OpenApiParameter("page", OpenApiTypes.INT, description="Page number, from 1."),
        ],
        responses={200: PatientSearchPageSerializer, **AUTHENTICATED_ERRORS},
    )
    def get(self, request: Request) -> Response:
        form = PatientSearchForm(request.query_params)
        if not form.is_valid():
            raise _invalid(form)
        query = form.cleaned_data["q"]
        if patient_query_parse(query).is_empty:
            raise exceptions.ValidationError({"q": [SEARCH_HINT]})
        results = patient_search(
            actor=request.user, query=query, page=form.cleaned_data["page"] or 1, request=request._request
        )
        return Response(PatientSearchPageSerializer(results).data)


# --- session logs -----------------------------------------------------------------------


def _logs(queryset: QuerySet[SessionLog]) -> QuerySet[SessionLog]:
    return queryset.select_related(
        "modality", "practitioner__user", "resource", "recorded_by", "signed_by", "cold_method"
    ).prefetch_related("adverse_events")


class PatientSessionLogListView(AuditedAPIMixin, generics.ListAPIView):
    """A patient's session logs, newest first (the chart's history), for their care team."""

    permission_classes = CLINICAL
    serializer_class = SessionLogSerializer
    audit_description = "session logs"

    @extend_schema(
        tags=["staff"],
        operation_id="staff_patient_session_logs",
        parameters=[PATIENT_ID],
        responses={200: SessionLogSerializer(many=True), **AUTHENTICATED_ERRORS},
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    def get_queryset(self) -> QuerySet[SessionLog]:
        patient = _visible_patient(self.request, self.kwargs["pk"])
        self.audit_patient = patient
        return _logs(patient_session_history(actor=self.request.user, patient=patient))


class SessionLogDetailView(AuditedAPIMixin, generics.RetrieveAPIView):
    """One session log with its adverse events and amendments, for the patient's care team."""

    permission_classes = CLINICAL
    serializer_class = SessionLogDetailSerializer
    audit_description = "session log"

    @extend_schema(
        tags=["staff"],
        operation_id="staff_session_log",
        responses={200: SessionLogDetailSerializer, **AUTHENTICATED_ERRORS},
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    def get_queryset(self) -> QuerySet[SessionLog]:
        visible = SessionLog.objects.filter(patient__in=patients_visible_to(self.request.user))
        return _logs(visible).prefetch_related("amendments__changed_by")

    def get_object(self) -> SessionLog:
        log = super().get_object()
        self.audit_target = log
        return log


class SessionLogCreateView(AuditedAPIMixin, APIView):
    """Log the session of an appointment, as the log page does: a draft, or signed with ``"sign": true``.

    For a practitioner of the patient's care team (or an admin), with a write token.  The body is
    checked by the log page's own form and ``SessionLog.clean()``: per-field errors (400) for an
    implausible reading, nothing stored.  An appointment that cannot be logged (cancelled, not
    started yet, already logged) is a 409 with the page's message.
    """

    permission_classes = CLINICAL
    audit_description = "session log"

    @extend_schema(
        tags=["staff"],
        operation_id="staff_session_log_create",
        request=SessionLogCreateSerializer,
        responses={
            201: SessionLogDetailSerializer,
            409: problem("conflict: the appointment was cancelled, has not started, or is already logged."),
            415: problem("unsupported-media-type: send the body as application/json."),
            **AUTHENTICATED_ERRORS,
        },
    )
    def post(self, request: Request) -> Response:
        body = request.data
        appointment_id = body.get("appointment") if isinstance(body, dict) else None
        if isinstance(appointment_id, bool) or not isinstance(appointment_id, int) or not 0 < appointment_id < 2**31:
            raise exceptions.ValidationError(
                {"appointment": [gettext("Give the id of the appointment whose session this is.")]}
            )
        appointment = get_object_or_404(
            Appointment.objects.select_related("patient__user", "practitioner__user", "modality", "resource"),
            pk=appointment_id,
            patient__in=patients_visible_to(request.user),
        )
        self.audit_patient = appointment.patient
        given = session_log_input_read(body=body, log=session_log_prepare(appointment=appointment))
        if not given.is_valid:
            raise exceptions.ValidationError(given.errors)
        try:
            log = session_log_create(
                appointment=appointment,
                by=request.user,
                values=given.values,
                adverse_events=given.adverse_events,
                sign=given.sign,
            )
        except CareTeamRefused as refusal:
            raise Http404(str(refusal)) from refusal
        except SessionLogRefused as refusal:
            raise Problem("conflict", detail=str(refusal)) from refusal
        except ValidationError as error:
            raise exceptions.ValidationError(_model_errors(error)) from error
        self.audit_target = log
        log = _logs(SessionLog.objects.filter(pk=log.pk)).prefetch_related("amendments__changed_by").get()
        return Response(SessionLogDetailSerializer(log).data, status=status.HTTP_201_CREATED)


def _model_errors(error: ValidationError) -> dict[str, list[str]]:
    """A rule the service caught after the form passed (e.g. a race), keyed as the body's fields."""
    if not hasattr(error, "error_dict"):
        return {"non_field_errors": list(error.messages)}
    return {
        ("non_field_errors" if name == "__all__" else name.removesuffix("_id")): list(messages)
        for name, messages in error.message_dict.items()
    }


# --- care plans and outcomes -------------------------------------------------------------


class PatientCarePlanListView(AuditedAPIMixin, APIView):
    """A patient's care plans, active first, each active one with where it stands today."""

    permission_classes = CLINICAL
    audit_description = "care plans"

    @extend_schema(
        tags=["staff"],
        operation_id="staff_patient_care_plans",
        parameters=[PATIENT_ID],
        responses={200: CarePlanSerializer(many=True), **AUTHENTICATED_ERRORS},
    )
    def get(self, request: Request, pk: int) -> Response:
        patient = _visible_patient(request, pk)
        self.audit_patient = patient
        today = timezone.localdate()
        plans = (
            CarePlan.objects.for_patient(patient)
            .with_cadence(today=today)
            .annotate(
                active_first=Case(
                    When(status=CarePlan.Status.ACTIVE, then=Value(0)), default=Value(1), output_field=IntegerField()
                )
            )
            .order_by("active_first", "-start_date", "-pk")
        )
        return Response(CarePlanSerializer(plans, many=True, context={"today": today}).data)


class PatientOutcomesView(AuditedAPIMixin, APIView):
    """The figures of the chart and 'My progress': pain per signed session and change per course,
    and questionnaire scores against the first."""

    permission_classes = CLINICAL
    audit_description = "outcomes"

    @extend_schema(
        tags=["staff"],
        operation_id="staff_patient_outcomes",
        parameters=[PATIENT_ID],
        responses={200: OutcomesSerializer, **AUTHENTICATED_ERRORS},
    )
    def get(self, request: Request, pk: int) -> Response:
        patient = _visible_patient(request, pk)
        self.audit_patient = patient
        figures = {
            "patient": patient.pk,
            "courses": patient_outcomes(actor=request.user, patient=patient),
            "questionnaires": patient_questionnaire_trends(actor=request.user, patient=patient),
        }
        return Response(OutcomesSerializer(figures).data)
