"""Staff pages: the practitioner's day and week, marking attendance, phone bookings, blocking time."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views import View
from django.views.generic import FormView, TemplateView

from bookings.forms import CancelForm, StaffBookingForm, StaffBookingSearchForm, TimeOffForm
from bookings.models import Appointment, BookingPolicy
from bookings.selectors import appointments_with_screening, availability, practitioner_appointments, week_start
from bookings.services.appointments import (
    BookingRefused,
    appointment_book,
    appointment_cancel,
    appointment_mark_attended,
    appointment_mark_no_show,
)
from bookings.services.schedules import time_off_clashes, time_off_create
from bookings.views.booking import refused_context
from clinic.access import ClinicStaffRequiredMixin, PractitionerRequiredMixin
from clinic.audit import AuditedPatientDataMixin
from clinic.care_team import CareTeamRefused, patients_bookable_by
from clinic.clinic_time import format_when
from clinic.forms import calendar_date_validate
from clinic.models import Practitioner
from clinic.patient_picker import patient_picker_chosen, patient_picker_context


class DateOutsideCalendar(Exception):
    """A ``?date=`` the day and week pages cannot show (answered with 400, not a server error)."""


class CalendarMixin(AuditedPatientDataMixin, ClinicStaffRequiredMixin):
    """Whose calendar: a practitioner their own; the desk or an admin any practitioner's (``?practitioner=``)
    or everyone's.  Each page view is audited (it lists patients' names and treatments)."""

    def get_audit_target(self) -> None:
        return None

    def calendar_owner(self) -> Practitioner | None:
        if self.request.user.is_clinic_admin or self.request.user.is_front_desk:
            chosen = self.request.GET.get("practitioner")
            if chosen and chosen.isdigit():
                return get_object_or_404(Practitioner, pk=chosen)
            return self.practitioner
        if self.practitioner is None:
            raise PermissionDenied("This page is for practitioners.")
        return self.practitioner

    def chosen_date(self) -> date:
        """The ``?date=`` asked for, today when absent or not a date; one outside the calendar is refused."""
        try:
            day = date.fromisoformat(self.request.GET.get("date", ""))
        except ValueError:
            return timezone.localdate()
        try:
            calendar_date_validate(day)
        except ValidationError as error:
            raise DateOutsideCalendar(error.messages[0]) from error
        return day

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            return super().get(request, *args, **kwargs)
        except DateOutsideCalendar as refused:
            return render(request, "bookings/calendar_date_refused.html", {"message": str(refused)}, status=400)


class PractitionerDayView(CalendarMixin, TemplateView):
    template_name = "bookings/practitioner_day.html"
    audit_description = "Day list"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        day = self.chosen_date()
        owner = self.calendar_owner()
        appointments = list(practitioner_appointments(practitioner=owner, start=day, end=day))
        context.update(
            day=day,
            owner=owner,
            rows=appointments_with_screening(appointments=appointments, on_date=day),
            previous_day=day - timedelta(days=1),
            next_day=day + timedelta(days=1),
            practitioners=Practitioner.objects.select_related("user") if self.practitioner is None else [],
            now=timezone.now(),
        )
        return context


class PractitionerWeekView(CalendarMixin, TemplateView):
    template_name = "bookings/practitioner_week.html"
    audit_description = "Week list"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        start = week_start(self.chosen_date())
        owner = self.calendar_owner()
        appointments = list(practitioner_appointments(practitioner=owner, start=start, end=start + timedelta(days=6)))
        rows = appointments_with_screening(appointments=appointments, on_date=start)
        days = [(start + timedelta(days=offset), []) for offset in range(7)]
        by_day = dict(days)
        for appointment, decision in rows:
            by_day[timezone.localdate(appointment.starts_at)].append((appointment, decision))
        context.update(
            week_start=start,
            owner=owner,
            days=days,
            previous_week=start - timedelta(days=7),
            next_week=start + timedelta(days=7),
            practitioners=Practitioner.objects.select_related("user") if self.practitioner is None else [],
        )
        return context


class StaffAppointmentMixin(ClinicStaffRequiredMixin):
    """A practitioner acts on their own appointments; the desk and admins on any (404 otherwise)."""

    def get_appointment(self, pk: int) -> Appointment:
        appointments = Appointment.objects.select_related("patient__user", "modality", "practitioner__user")
        if not (self.request.user.is_clinic_admin or self.request.user.is_front_desk):
            appointments = appointments.filter(practitioner=self.practitioner)
        return get_object_or_404(appointments, pk=pk)

    def back_to_day(self, appointment: Appointment) -> HttpResponse:
        day = timezone.localdate(appointment.starts_at)
        return redirect(f"{reverse('bookings:practitioner_day')}?date={day.isoformat()}")


class AppointmentMarkView(StaffAppointmentMixin, View):
    """POST ``outcome=attended`` or ``outcome=no_show``."""

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        if not request.user.is_practitioner:
            raise PermissionDenied("Attendance is recorded by practitioners.")
        appointment = self.get_appointment(pk)
        outcome = request.POST.get("outcome")
        try:
            if outcome == "attended":
                appointment_mark_attended(appointment=appointment, by=request.user)
                messages.success(
                    request, _("%(patient)s marked as attended.") % {"patient": appointment.patient.full_name}
                )
            elif outcome == "no_show":
                appointment_mark_no_show(appointment=appointment, by=request.user)
                messages.success(
                    request, _("%(patient)s marked as a no-show.") % {"patient": appointment.patient.full_name}
                )
            else:
                return HttpResponse("Unknown outcome.", status=400)
        except (BookingRefused, ValueError) as refused:
            messages.error(request, str(refused))
        return self.back_to_day(appointment)


class StaffAppointmentCancelView(StaffAppointmentMixin, View):
    """Cancel for a patient (e.g. they called); staff may cancel at any time, late ones are recorded."""

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        appointment = self.get_appointment(pk)
        return render(request, "bookings/staff_cancel.html", {"appointment": appointment, "form": CancelForm()})

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        appointment = self.get_appointment(pk)
        form = CancelForm(request.POST)
        if not form.is_valid():
            return render(request, "bookings/staff_cancel.html", {"appointment": appointment, "form": form}, status=400)
        try:
            appointment = appointment_cancel(
                appointment=appointment, by=request.user, reason=form.cleaned_data["reason"]
            )
        except CareTeamRefused as refused:
            raise Http404("No such appointment.") from refused
        except BookingRefused as refused:
            messages.error(request, refused.message)
            return self.back_to_day(appointment)
        if appointment.cancelled_late:
            messages.success(request, _("Appointment cancelled (recorded as a late cancellation)."))
        else:
            messages.success(request, _("Appointment cancelled."))
        return self.back_to_day(appointment)


class StaffBookView(ClinicStaffRequiredMixin, View):
    """Phone booking: find the patient, choose treatment and week, then one of the free times (same rules as online).

    The desk and admins book any active patient; a practitioner only the patients of their care
    team (``clinic.care_team.patients_bookable_by``).  The booking service checks it again, and
    audits the booking.
    """

    template_name = "bookings/staff_book.html"

    def get(self, request: HttpRequest) -> HttpResponse:
        patients = patients_bookable_by(request.user)
        chosen = patient_picker_chosen(request=request, within=patients)
        if chosen is None:  # step zero: find the patient (the search, never a list of everyone)
            return render(request, self.template_name, patient_picker_context(request=request, within=patients))
        initial: dict[str, Any] = {"practitioner": self.practitioner} if self.practitioner else {}
        initial["patient"] = chosen
        data = request.GET if "modality" in request.GET else None  # ?patient= alone only preselects
        search = StaffBookingSearchForm(data, initial=initial, patients=patients)
        context: dict[str, Any] = {"search": search, "chosen_patient": chosen}
        if search.is_bound and search.is_valid():
            context.update(self._slots(search.cleaned_data))
        return render(request, self.template_name, context)

    def post(self, request: HttpRequest) -> HttpResponse:
        patients = patients_bookable_by(request.user)
        form = StaffBookingForm(request.POST, patients=patients)
        search = StaffBookingSearchForm(request.POST, patients=patients)
        chosen = patient_picker_chosen(request=request, within=patients)
        if not form.is_valid():
            if chosen is None:
                context = {**patient_picker_context(request=request, within=patients), "errors": form.errors}
                return render(request, self.template_name, context, status=400)
            context = {"search": search, "chosen_patient": chosen, "errors": form.errors}
            return render(request, self.template_name, context, status=400)
        data = form.cleaned_data
        try:
            appointment = appointment_book(
                patient=data["patient"],
                modality=data["modality"],
                starts_at=data["starts_at"],
                booked_by=request.user,
                practitioner=data["practitioner"],
            )
        except CareTeamRefused as refused:
            raise Http404("No such patient.") from refused
        except BookingRefused as refused:
            context = {"search": search, "chosen_patient": chosen, **refused_context(refused)}
            if search.is_valid():
                context.update(self._slots(search.cleaned_data))
            return render(request, self.template_name, context, status=409)
        messages.success(
            request,
            _("Booked %(modality)s for %(patient)s on %(day)s at %(time)s with %(practitioner)s.")
            % {
                "modality": appointment.modality.name,
                "patient": appointment.patient.full_name,
                "day": format_when(appointment.starts_at, "day"),
                "time": format_when(appointment.starts_at, "time"),
                "practitioner": appointment.practitioner.full_name,
            },
        )
        day = timezone.localdate(appointment.starts_at)
        url = reverse("bookings:practitioner_day")
        if self.practitioner is None or appointment.practitioner_id != self.practitioner.pk:
            return redirect(f"{url}?date={day.isoformat()}&practitioner={appointment.practitioner_id}")
        return redirect(f"{url}?date={day.isoformat()}")

    def _slots(self, data: dict[str, Any]) -> dict[str, Any]:
        start = week_start(data.get("week") or timezone.localdate())
        policy = BookingPolicy.load()
        days = availability(
            modality=data["modality"],
            start=start,
            end=start + timedelta(days=6),
            practitioner=data.get("practitioner"),
            patient=data["patient"],
            policy=policy,
        )
        return {"days": days, "chosen": data, "week_start": start, "any_free": any(day.slots for day in days)}


class TimeOffCreateView(PractitionerRequiredMixin, FormView):
    """Block time in one's own calendar; nothing new is booked in it."""

    template_name = "bookings/timeoff_form.html"
    form_class = TimeOffForm

    def form_valid(self, form: TimeOffForm) -> HttpResponse:
        if self.practitioner is None:
            raise PermissionDenied("Only practitioners block their own time; admins use the admin site.")
        starts_at, ends_at = form.range()
        time_off = time_off_create(
            practitioner=self.practitioner,
            starts_at=starts_at,
            ends_at=ends_at,
            reason=form.cleaned_data["reason"],
            by=self.request.user,
        )
        clashes = time_off_clashes(time_off=time_off)
        messages.success(self.request, _("Time blocked: no new bookings will be offered in it."))
        if clashes:
            messages.warning(
                self.request,
                ngettext(
                    "%(count)d booked appointment(s) fall in that time; cancel or move them from your day page.",
                    "%(count)d booked appointment(s) fall in that time; cancel or move them from your day page.",
                    len(clashes),
                )
                % {"count": len(clashes)},
            )
        return redirect(f"{reverse('bookings:practitioner_day')}?date={form.cleaned_data['date'].isoformat()}")
