"""API views: the public catalogue and availability, and the patient's own appointments.

The views check input shape (serializers) and call the same selectors and services as
the pages, so the gate, the locks, the care team and the notifications are theirs; a
refusal becomes a problem with the pages' own words (api.problems).
"""

from __future__ import annotations

from typing import Any

from django.db.models import Prefetch, QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import generics, mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from api.audit import AuditedAPIMixin
from api.permissions import IsPatient, TokenScopeAllows
from api.problems import Problem
from api.schema import AUTHENTICATED_ERRORS, PUBLIC_ERRORS, WRITE_ERRORS, problem
from api.serializers import (
    AppointmentBookSerializer,
    AppointmentCancelSerializer,
    AppointmentRescheduleSerializer,
    AppointmentSerializer,
    AvailabilityQuerySerializer,
    DayAvailabilitySerializer,
    ModalitySerializer,
)
from bookings import selectors
from bookings.models import Appointment, BookingPolicy
from bookings.services.appointments import (
    BUSY_MESSAGE,
    TAKEN_MESSAGE,
    BookingRefused,
    appointment_book,
    appointment_cancel,
    appointment_reschedule,
)
from clinic.models import Modality, Practitioner


def booking_problem(refused: BookingRefused) -> Problem:
    """A booking service's refusal as the API answers it, with the pages' message and the nearest free times.

    409 slot-taken: someone else took the time (or the database stayed too busy to decide);
    422 screening-refused: the screening gate said no; 422 booking-refused: any other rule.
    """
    nearest = [timezone.localtime(moment).isoformat() for moment in refused.alternatives]
    if refused.screening is not None:
        decision = refused.screening
        return Problem(
            "screening-refused",
            detail=refused.message,
            screening_status=str(decision.status),
            next_step=decision.next_step,
        )
    if refused.message.startswith(TAKEN_MESSAGE):
        return Problem("slot-taken", detail=refused.message, nearest_times=nearest)
    if refused.message == BUSY_MESSAGE:
        return Problem("conflict", detail=refused.message, nearest_times=nearest, retry_after_seconds=1)
    return Problem("booking-refused", detail=refused.message, nearest_times=nearest)


BOOKING_ERRORS = {
    **AUTHENTICATED_ERRORS,
    **WRITE_ERRORS,
    409: problem("slot-taken: the time was just taken (nearest_times lists free ones), or conflict: busy, retry."),
    422: problem("booking-refused (a booking rule, with nearest_times) or screening-refused (the health screening)."),
}


@extend_schema(tags=["public"], responses={200: ModalitySerializer(many=True), **PUBLIC_ERRORS})
class ModalityListView(generics.ListAPIView):
    """The treatments that can be booked online, with the practitioners who deliver each."""

    permission_classes = [AllowAny]
    serializer_class = ModalitySerializer
    pagination_class = None

    def get_queryset(self) -> QuerySet[Modality]:
        return Modality.objects.active().prefetch_related(
            Prefetch("practitioners", queryset=Practitioner.objects.select_related("user"))
        )


@extend_schema(
    tags=["public"],
    parameters=[AvailabilityQuerySerializer],
    responses={200: DayAvailabilitySerializer(many=True), **PUBLIC_ERRORS},
)
class AvailabilityView(generics.GenericAPIView):
    """Free start times of one treatment per local day (clinic time zone), as the booking pages offer them.

    A patient calling with their token sees their own other bookings taken into account.
    """

    permission_classes = [AllowAny]
    serializer_class = DayAvailabilitySerializer
    pagination_class = None

    def get(self, request: Request, slug: str) -> Response:
        modality = get_object_or_404(Modality.objects.active().select_related("resource"), slug=slug)
        query = AvailabilityQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        practitioner = None
        if "practitioner" in query.validated_data:
            practitioner = Practitioner.objects.filter(
                pk=query.validated_data["practitioner"], is_active=True, modalities=modality
            ).first()
            if practitioner is None:
                raise Problem(
                    "validation-error",
                    detail=gettext("Please correct the fields listed in errors."),
                    errors={"practitioner": [gettext("No active practitioner with this id delivers this treatment.")]},
                )
        patient = getattr(request.user, "patient", None) if request.user.is_authenticated else None
        days = selectors.availability(
            modality=modality,
            start=query.validated_data["start"],
            end=query.validated_data["end"],
            practitioner=practitioner,
            patient=patient,
        )
        return Response(DayAvailabilitySerializer(days, many=True).data)


@extend_schema_view(
    list=extend_schema(
        summary="Your appointments",
        parameters=[
            OpenApiParameter("upcoming", OpenApiTypes.BOOL, description="Only booked appointments still to come.")
        ],
        responses={200: AppointmentSerializer(many=True), **AUTHENTICATED_ERRORS},
    ),
    retrieve=extend_schema(
        summary="One of your appointments (another patient's is 404)",
        responses={200: AppointmentSerializer, **AUTHENTICATED_ERRORS},
    ),
    create=extend_schema(
        summary="Book a time",
        request=AppointmentBookSerializer,
        responses={201: AppointmentSerializer, **BOOKING_ERRORS},
    ),
    cancel=extend_schema(
        summary="Cancel (online up to the clinic's cut-off)",
        request=AppointmentCancelSerializer,
        responses={200: AppointmentSerializer, **BOOKING_ERRORS},
    ),
    reschedule=extend_schema(
        summary="Move to another free time (online up to the clinic's cut-off)",
        request=AppointmentRescheduleSerializer,
        responses={200: AppointmentSerializer, **BOOKING_ERRORS},
    ),
)
@extend_schema(tags=["appointments"])
class AppointmentViewSet(AuditedAPIMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """The calling patient's own appointments: book, list, read, cancel and reschedule."""

    permission_classes = [IsAuthenticated, IsPatient, TokenScopeAllows]
    serializer_class = AppointmentSerializer
    audit_description = "patient's appointments"

    def get_queryset(self) -> QuerySet[Appointment]:
        if getattr(self, "swagger_fake_view", False):  # drf-spectacular reading the types, no request user
            return Appointment.objects.none()
        appointments = Appointment.objects.filter(patient__user=self.request.user).select_related(
            "modality", "practitioner__user", "patient"
        )
        if self.request.query_params.get("upcoming", "").lower() in ("1", "true", "yes"):
            appointments = appointments.filter(status=Appointment.Status.BOOKED, starts_at__gt=timezone.now())
        return appointments.order_by("-starts_at", "-id")

    def get_serializer_context(self) -> dict[str, Any]:
        return {**super().get_serializer_context(), "policy": BookingPolicy.load()}

    def get_object(self) -> Appointment:
        appointment = super().get_object()
        self.audit_target = appointment
        return appointment

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        self.audit_patient = request.user.patient
        return super().list(request, *args, **kwargs)

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        form = AppointmentBookSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        try:
            appointment = appointment_book(
                patient=request.user.patient,
                modality=form.validated_data["modality"],
                starts_at=form.validated_data["starts_at"],
                practitioner=form.validated_data.get("practitioner"),
                booked_by=request.user,
            )
        except BookingRefused as refused:
            raise booking_problem(refused) from refused
        self.audit_target = appointment
        data = self.get_serializer(self._fresh(appointment)).data
        return Response(data, status=status.HTTP_201_CREATED, headers={"Location": f"{request.path}{appointment.pk}/"})

    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        self.audit_action = "change"
        appointment = self.get_object()
        form = AppointmentCancelSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        try:
            appointment = appointment_cancel(
                appointment=appointment, by=request.user, reason=form.validated_data["reason"]
            )
        except BookingRefused as refused:
            raise booking_problem(refused) from refused
        return Response(self.get_serializer(self._fresh(appointment)).data)

    @action(detail=True, methods=["post"])
    def reschedule(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        self.audit_action = "change"
        appointment = self.get_object()
        form = AppointmentRescheduleSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        try:
            appointment = appointment_reschedule(
                appointment=appointment, starts_at=form.validated_data["starts_at"], by=request.user
            )
        except BookingRefused as refused:
            raise booking_problem(refused) from refused
        return Response(self.get_serializer(self._fresh(appointment)).data)

    @staticmethod
    def _fresh(appointment: Appointment) -> Appointment:
        return Appointment.objects.select_related("modality", "practitioner__user").get(pk=appointment.pk)
