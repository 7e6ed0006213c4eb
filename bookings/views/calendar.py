"""The staff calendar (day and week grids) and moving an appointment from it."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django.contrib import messages
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import TemplateView

from bookings.calendar import calendar_grid
from bookings.forms_move import FIND, AppointmentMoveForm
from bookings.models import Appointment, BookingPolicy
from bookings.selectors import FreeSlot, availability, week_start
from bookings.services.appointments import BookingRefused, appointment_move
from bookings.views.booking import refused_context
from bookings.views.practitioner import CalendarMixin
from clinic.access import ClinicStaffRequiredMixin
from clinic.audit import AuditedPatientDataMixin
from clinic.care_team import CareTeamRefused, patients_visible_to
from clinic.clinic_time import format_when
from clinic.models import Practitioner


class StaffCalendarView(CalendarMixin, TemplateView):
    """Every practitioner, room and device by time, for a day (or a week): booked, free, blocked, buffer.

    For practitioners, the front desk and admins; what each sees of an appointment is
    ``bookings.calendar``'s rule.  ``?practitioner=`` narrows it to one practitioner's lane.
    Each view is audited (it can list patients' names).
    """

    template_name = "bookings/calendar.html"
    week = False

    def get_audit_description(self) -> str:
        return "Calendar (week)" if self.week else "Calendar (day)"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        day = self.chosen_date()
        start, end = (week_start(day), week_start(day) + timedelta(days=6)) if self.week else (day, day)
        chosen = self.request.GET.get("practitioner", "")
        practitioner = get_object_or_404(Practitioner, pk=chosen) if chosen.isdigit() else None
        grid = calendar_grid(viewer=self.request.user, start=start, end=end, practitioner=practitioner)
        span = timedelta(days=7 if self.week else 1)
        context.update(
            grid=grid,
            week=self.week,
            day=day,
            start=start,
            end=end,
            previous=start - span,
            next=start + span,
            chosen_practitioner=practitioner,
            practitioners=Practitioner.objects.filter(is_active=True).select_related("user"),
        )
        return context


class StaffCalendarWeekView(StaffCalendarView):
    week = True


def _calendar_url(*, day: date) -> str:
    return f"{reverse('bookings:staff_calendar')}?date={day.isoformat()}"


class AppointmentMoveView(AuditedPatientDataMixin, ClinicStaffRequiredMixin, View):
    """Move an appointment: a plain form (day, practitioner, one of the free times), which the
    calendar's drag-and-drop posts too.  The desk and admins move any booked appointment; a
    practitioner their own and those of their care team's patients (404 otherwise); the service
    decides again."""

    template_name = "bookings/appointment_move.html"
    audit_description = "Move appointment"
    object: Appointment

    def get_appointment(self, pk: int) -> Appointment:
        appointments = Appointment.objects.select_related("patient__user", "modality", "practitioner__user")
        user = self.request.user
        if not (user.is_clinic_admin or user.is_front_desk):
            appointments = appointments.filter(Q(practitioner__user=user) | Q(patient__in=patients_visible_to(user)))
        self.object = get_object_or_404(appointments, pk=pk)
        return self.object

    def _form(self, data: Any = None) -> AppointmentMoveForm:
        appointment = self.object
        policy = BookingPolicy.load()
        day = timezone.localdate(appointment.starts_at)

        def free_times(day: date, practitioner: Practitioner) -> list[FreeSlot]:
            (available,) = availability(
                modality=appointment.modality,
                start=day,
                end=day,
                practitioner=practitioner,
                patient=appointment.patient,
                exclude_appointment=appointment,
                policy=policy,
            )
            return available.slots

        initial = {"day": day, "practitioner": appointment.practitioner}
        return AppointmentMoveForm(data, initial=initial, appointment=appointment, free_times=free_times)

    def _render(self, form: AppointmentMoveForm, status: int = 200, **extra: Any) -> HttpResponse:
        context = {"appointment": self.object, "form": form, "may_move": self.object.is_upcoming(), **extra}
        return render(self.request, self.template_name, context, status=status)

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        self.get_appointment(pk)
        return self._render(self._form())

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        appointment = self.get_appointment(pk)
        form = self._form(request.POST)
        if FIND in request.POST:
            form.is_valid()
            form.errors.pop("starts_at", None)
            return self._render(form)
        if not form.require_time():
            return self._render(form, status=400)
        data = form.cleaned_data
        try:
            moved = appointment_move(
                actor=request.user,
                appointment=appointment,
                starts_at=data["starts_at"],
                practitioner=data["practitioner"],
            )
        except CareTeamRefused as refused:
            raise Http404("No such appointment.") from refused
        except BookingRefused as refused:
            return self._render(self._form(request.POST), status=409, **refused_context(refused))
        messages.success(
            request,
            _(
                "Moved %(modality)s for %(patient)s to %(day)s at %(time)s with %(practitioner)s; "
                "the patient has been told."
            )
            % {
                "modality": moved.modality.name,
                "patient": moved.patient.full_name,
                "day": format_when(moved.starts_at, "day"),
                "time": format_when(moved.starts_at, "time"),
                "practitioner": moved.practitioner.full_name,
            },
        )
        return redirect(_calendar_url(day=timezone.localdate(moved.starts_at)))
