"""The patient's pages: book a session, see and change their own appointments."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import TemplateView

from bookings.forms import BookingConfirmForm, CancelForm, WeekForm, slot_value
from bookings.models import Appointment, BookingPolicy
from bookings.selectors import availability, first_free_day, patient_appointments, week_start
from bookings.services.appointments import (
    BookingRefused,
    appointment_book,
    appointment_book_check,
    appointment_can_change_online,
    appointment_cancel,
    appointment_reschedule,
    appointment_reschedule_check,
)
from clinic.access import PatientRequiredMixin
from clinic.models import Modality
from screening.selectors import screening_statuses
from screening.services import screening_gate


def week_context(*, request: HttpRequest, policy: BookingPolicy, default: date | None = None) -> dict[str, Any]:
    """The week to show and its neighbours a patient may move to (not before this week, not past the horizon)."""
    this_week = week_start(timezone.localdate())
    start = WeekForm(request.GET).week_start() if "week" in request.GET or default is None else week_start(default)
    last_week = week_start(timezone.localdate(policy.latest_start(timezone.now())))
    start = min(max(start, this_week), last_week)
    return {
        "week_start": start,
        "week_end": start + timedelta(days=6),
        "previous_week": start - timedelta(days=7) if start > this_week else None,
        "next_week": start + timedelta(days=7) if start < last_week else None,
    }


def refused_context(refused: BookingRefused) -> dict[str, Any]:
    return {
        "refused": refused,
        "alternatives": [(timezone.localtime(moment), slot_value(moment)) for moment in refused.alternatives],
    }


class ModalityChooseView(PatientRequiredMixin, TemplateView):
    """Step 1: which treatment."""

    template_name = "bookings/modality_choose.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        modalities = list(Modality.objects.active().select_related("resource"))
        statuses = screening_statuses(patients=[self.patient], modalities=modalities, on_date=timezone.localdate())
        mine = statuses.get(self.patient.pk, {})
        context["choices"] = [(modality, mine.get(modality.pk)) for modality in modalities]
        return context


class SlotWeekView(PatientRequiredMixin, View):
    """Step 2: free times a week at a time; the screening gate decides before any time is shown."""

    def get(self, request: HttpRequest, slug: str) -> HttpResponse:
        modality = get_object_or_404(Modality.objects.active().select_related("resource"), slug=slug)
        decision = screening_gate(patient=self.patient, modality=modality, on_date=timezone.localdate())
        if not decision.allowed:
            return render(request, "bookings/screening_gate.html", {"modality": modality, "decision": decision})
        policy = BookingPolicy.load()
        nothing_free = False
        if "week" in request.GET:
            context = week_context(request=request, policy=policy)
        else:
            # Open on the first week with a free time (not an empty week, nor a Sunday with nothing left).
            first = first_free_day(modality=modality, patient=self.patient, policy=policy)
            nothing_free = first is None
            context = week_context(request=request, policy=policy, default=first or timezone.localdate())
        days = availability(
            modality=modality,
            start=context["week_start"],
            end=context["week_end"],
            patient=self.patient,
            policy=policy,
        )
        context.update(
            modality=modality,
            days=days,
            any_free=any(day.slots for day in days),
            nothing_free=nothing_free,
            horizon_end=timezone.localdate(policy.latest_start(timezone.now())),
            confirm_url=reverse("bookings:book_confirm", args=[modality.slug]),
            week_url=reverse("bookings:book_times", args=[modality.slug]),
            heading=_("Book %(modality)s") % {"modality": modality.name},
        )
        return render(request, "bookings/slot_week.html", context)


class BookingConfirmView(PatientRequiredMixin, View):
    """Step 3: check the chosen time, then book it."""

    template_name = "bookings/booking_confirm.html"

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        self.modality = get_object_or_404(Modality.objects.active().select_related("resource"), slug=kwargs["slug"])
        return super().dispatch(request, *args, **kwargs)

    def get(self, request: HttpRequest, slug: str) -> HttpResponse:
        if "starts_at" not in request.GET:
            return redirect("bookings:book_times", slug=slug)  # no time chosen yet: the list of times
        form = BookingConfirmForm(request.GET)
        if not form.is_valid():
            return self._render(form, status=400)
        # The same rules as the booking, before "Book this time" is offered: a time that cannot be
        # booked is explained now (with the nearest free times), not after the press.
        try:
            appointment_book_check(
                patient=self.patient,
                modality=self.modality,
                starts_at=form.cleaned_data["starts_at"],
                actor=request.user,
            )
        except BookingRefused as refused:
            if refused.screening is not None:
                return render(
                    request, "bookings/screening_gate.html", {"modality": self.modality, "decision": refused.screening}
                )
            return self._render(form, **refused_context(refused))
        return self._render(form)

    def post(self, request: HttpRequest, slug: str) -> HttpResponse:
        form = BookingConfirmForm(request.POST)
        if not form.is_valid():
            return self._render(form, status=400)
        try:
            appointment = appointment_book(
                patient=self.patient,
                modality=self.modality,
                starts_at=form.cleaned_data["starts_at"],
                booked_by=request.user,
            )
        except BookingRefused as refused:
            if refused.screening is not None:
                return render(
                    request,
                    "bookings/screening_gate.html",
                    {"modality": self.modality, "decision": refused.screening},
                    status=409,
                )
            return self._render(form, status=409, **refused_context(refused))
        messages.success(request, _("Your appointment is booked. A confirmation is on its way by email."))
        return redirect("bookings:appointment_detail", pk=appointment.pk)

    def _render(self, form: BookingConfirmForm, status: int = 200, **extra: Any) -> HttpResponse:
        context = {
            "form": form,
            "modality": self.modality,
            "starts_at": form.cleaned_data.get("starts_at") if form.is_valid() else None,
            "confirm_url": reverse("bookings:book_confirm", args=[self.modality.slug]),
            "back_url": reverse("bookings:book_times", args=[self.modality.slug]),
            **extra,
        }
        if context["starts_at"]:
            context["ends_at"] = self.modality.slot_end(context["starts_at"])
        return render(self.request, self.template_name, context, status=status)


class OwnAppointmentMixin(PatientRequiredMixin):
    """Loads ``self.appointment`` from the URL, only among the patient's own (404 otherwise)."""

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated or not hasattr(request.user, "patient"):
            return super().dispatch(request, *args, **kwargs)
        self.appointment = get_object_or_404(
            Appointment.objects.select_related("modality__resource", "practitioner__user", "patient"),
            pk=kwargs["pk"],
            patient__user=request.user,
        )
        return super().dispatch(request, *args, **kwargs)


class AppointmentListView(PatientRequiredMixin, TemplateView):
    """My appointments: upcoming (with cancel/move until the cut-off) and past."""

    template_name = "bookings/appointment_list.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        policy = BookingPolicy.load()
        upcoming, past = patient_appointments(patient=self.patient)
        context["upcoming"] = [
            (appointment, appointment_can_change_online(appointment=appointment, policy=policy))
            for appointment in upcoming
        ]
        context["past"] = past
        context["policy"] = policy
        return context


class AppointmentDetailView(OwnAppointmentMixin, TemplateView):
    """One appointment: the booking confirmation page."""

    template_name = "bookings/appointment_detail.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        policy = BookingPolicy.load()
        context["appointment"] = self.appointment
        context["can_change"] = appointment_can_change_online(appointment=self.appointment, policy=policy)
        context["policy"] = policy
        return context


class AppointmentCancelView(OwnAppointmentMixin, View):
    template_name = "bookings/appointment_cancel.html"

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        return self._render(CancelForm())

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        form = CancelForm(request.POST)
        if not form.is_valid():
            return self._render(form, status=400)
        try:
            appointment_cancel(appointment=self.appointment, by=request.user, reason=form.cleaned_data["reason"])
        except BookingRefused as refused:
            return self._render(form, status=409, refused=refused)
        messages.success(request, _("Your appointment is cancelled."))
        return redirect("bookings:appointment_list")

    def _render(self, form: CancelForm, status: int = 200, **extra: Any) -> HttpResponse:
        policy = BookingPolicy.load()
        context = {
            "form": form,
            "appointment": self.appointment,
            "can_change": appointment_can_change_online(appointment=self.appointment, policy=policy),
            "policy": policy,
            **extra,
        }
        return render(self.request, self.template_name, context, status=status)


class AppointmentRescheduleView(OwnAppointmentMixin, View):
    """Move a booking: a week of free times for the same treatment; GET with a time asks to confirm; POST moves it."""

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        appointment = self.appointment
        policy = BookingPolicy.load()
        if not appointment_can_change_online(appointment=appointment, policy=policy):
            return render(request, "bookings/appointment_cancel.html", {"appointment": appointment, "policy": policy})
        if "starts_at" in request.GET:
            return self._check(BookingConfirmForm(request.GET))
        context = week_context(request=request, policy=policy, default=timezone.localdate(appointment.starts_at))
        days = availability(
            modality=appointment.modality,
            start=context["week_start"],
            end=context["week_end"],
            patient=appointment.patient,
            exclude_appointment=appointment,
            policy=policy,
        )
        url = reverse("bookings:appointment_reschedule", args=[appointment.pk])
        context.update(
            modality=appointment.modality,
            days=days,
            any_free=any(day.slots for day in days),
            confirm_url=url,
            week_url=url,
            appointment=appointment,
            heading=_("Move your %(modality)s appointment") % {"modality": appointment.modality.name},
        )
        return render(request, "bookings/slot_week.html", context)

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        form = BookingConfirmForm(request.POST)
        if not form.is_valid():
            return self._confirm(form, status=400)
        try:
            appointment_reschedule(
                appointment=self.appointment, starts_at=form.cleaned_data["starts_at"], by=request.user
            )
        except BookingRefused as refused:
            if refused.screening is not None:
                return render(
                    request,
                    "bookings/screening_gate.html",
                    {"modality": self.appointment.modality, "decision": refused.screening},
                    status=409,
                )
            return self._confirm(form, status=409, **refused_context(refused))
        messages.success(request, _("Your appointment has been moved. The new time is on its way by email."))
        return redirect("bookings:appointment_detail", pk=self.appointment.pk)

    def _check(self, form: BookingConfirmForm) -> HttpResponse:
        """The chosen new time, checked by the same rules as the move before "Move to this time" is offered."""
        if not form.is_valid():
            return self._confirm(form, status=400)
        try:
            appointment_reschedule_check(
                appointment=self.appointment, starts_at=form.cleaned_data["starts_at"], by=self.request.user
            )
        except BookingRefused as refused:
            if refused.screening is not None:
                return render(
                    self.request,
                    "bookings/screening_gate.html",
                    {"modality": self.appointment.modality, "decision": refused.screening},
                )
            return self._confirm(form, **refused_context(refused))
        return self._confirm(form)

    def _confirm(self, form: BookingConfirmForm, status: int = 200, **extra: Any) -> HttpResponse:
        url = reverse("bookings:appointment_reschedule", args=[self.appointment.pk])
        starts_at = form.cleaned_data.get("starts_at") if form.is_valid() else None
        context = {
            "form": form,
            "modality": self.appointment.modality,
            "appointment": self.appointment,
            "starts_at": starts_at,
            "ends_at": self.appointment.modality.slot_end(starts_at) if starts_at else None,
            "confirm_url": url,
            "back_url": url,
            **extra,
        }
        return render(self.request, "bookings/booking_confirm.html", context, status=status)
