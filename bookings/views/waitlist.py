"""The waitlist pages: patients join, leave and answer offers; staff see the list and who was offered what."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.db.models import Prefetch
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import TemplateView

from bookings.forms_waitlist import StaffWaitlistJoinForm, WaitlistFilterForm, WaitlistJoinForm
from bookings.models import BookingPolicy, WaitlistEntry, WaitlistOffer
from bookings.services.waitlist import (
    WaitlistOfferGone,
    WaitlistRefused,
    waitlist_join,
    waitlist_leave,
    waitlist_offer_accept,
    waitlist_offer_decline,
)
from clinic.access import ClinicStaffRequiredMixin, PatientRequiredMixin
from clinic.care_team import CareTeamRefused, patients_bookable_by
from clinic.models import Modality

JOIN_FIELDS = (
    "modality",
    "practitioner",
    "weekdays",
    "earliest_time",
    "latest_time",
    "available_from",
    "available_until",
)


def _join(*, request: HttpRequest, form: WaitlistJoinForm, patient: Any, note: str = "") -> WaitlistEntry | None:
    """Call the service with the form's data; a refusal becomes a form error (None returned)."""
    data = form.cleaned_data
    try:
        return waitlist_join(
            patient=patient, actor=request.user, note=note, **{name: data[name] for name in JOIN_FIELDS}
        )
    except WaitlistRefused as refused:
        form.add_error(refused.field, refused.message)
        return None


def _entries_with_offers() -> Prefetch:
    return Prefetch(
        "offers", queryset=WaitlistOffer.objects.select_related("practitioner__user").order_by("offered_at")
    )


# --- Patients -------------------------------------------------------------------------------------


class WaitlistListView(PatientRequiredMixin, TemplateView):
    """My waitlist: what I wait for, and the times offered to me."""

    template_name = "bookings/waitlist_list.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        entries = (
            WaitlistEntry.objects.filter(patient=self.patient)
            .select_related("modality", "practitioner__user")
            .prefetch_related(_entries_with_offers())
            .order_by("-created_at")
        )
        today, now = timezone.localdate(), timezone.now()
        context["waiting"] = [entry for entry in entries if entry.is_waiting(today)]
        context["ended"] = [entry for entry in entries if not entry.is_waiting(today)][:20]
        context["open_offers"] = [
            offer
            for entry in context["waiting"]
            for offer in entry.offers.all()
            if offer.may_be_accepted and offer.starts_at > now
        ]
        return context


class WaitlistJoinView(PatientRequiredMixin, View):
    template_name = "bookings/waitlist_join.html"

    def get(self, request: HttpRequest) -> HttpResponse:
        modality = Modality.objects.active().filter(slug=request.GET.get("modality", "")).first()
        return self._render(WaitlistJoinForm(initial={"modality": modality} if modality else None))

    def post(self, request: HttpRequest) -> HttpResponse:
        form = WaitlistJoinForm(request.POST)
        if not form.is_valid():
            return self._render(form, status=400)
        try:
            entry = waitlist_join(
                patient=self.patient, actor=request.user, **{name: form.cleaned_data[name] for name in JOIN_FIELDS}
            )
        except WaitlistRefused as refused:
            if refused.screening is not None:
                context = {"modality": form.cleaned_data["modality"], "decision": refused.screening}
                return render(request, "bookings/screening_gate.html", context, status=409)
            form.add_error(refused.field, refused.message)
            return self._render(form, status=409)
        messages.success(
            request,
            _("You are on the waitlist for %(modality)s. We will email you when a time frees up.")
            % {"modality": entry.modality.name},
        )
        return redirect("bookings:waitlist")

    def _render(self, form: WaitlistJoinForm, status: int = 200) -> HttpResponse:
        context = {"form": form, "hold_minutes": BookingPolicy.load().waitlist_offer_hold_minutes}
        return render(self.request, self.template_name, context, status=status)


class WaitlistLeaveView(PatientRequiredMixin, View):
    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.user.is_authenticated and hasattr(request.user, "patient"):
            # Someone else's entry is not found, whatever the method.
            self.entry = get_object_or_404(
                WaitlistEntry.objects.select_related("modality"), pk=kwargs["pk"], patient__user=request.user
            )
        return super().dispatch(request, *args, **kwargs)

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        entry = self.entry
        waitlist_leave(entry=entry, actor=request.user)
        messages.success(request, _("You have left the waitlist for %(modality)s.") % {"modality": entry.modality.name})
        return redirect("bookings:waitlist")


class WaitlistOfferView(PatientRequiredMixin, View):
    """A time offered to me: book it, or say I cannot make it (I stay on the list either way)."""

    template_name = "bookings/waitlist_offer.html"

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.user.is_authenticated and hasattr(request.user, "patient"):
            self.offer = get_object_or_404(
                WaitlistOffer.objects.select_related("modality", "practitioner__user", "entry"),
                pk=kwargs["pk"],
                patient__user=request.user,
            )
        return super().dispatch(request, *args, **kwargs)

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        return self._render()

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        if request.POST.get("answer") == "decline":
            waitlist_offer_decline(offer=self.offer, actor=request.user)
            messages.success(
                request, _("Thank you; we have offered the time to someone else. You stay on the waitlist.")
            )
            return redirect("bookings:waitlist")
        if request.POST.get("answer") != "accept":
            return self._render(status=400, problem=_("Please choose whether to book this time."))
        try:
            appointment = waitlist_offer_accept(offer=self.offer, actor=request.user)
        except WaitlistOfferGone as gone:
            self.offer.refresh_from_db()
            return self._render(status=409, gone=gone.message)
        except WaitlistRefused as refused:
            if refused.screening is not None:
                context = {"modality": self.offer.modality, "decision": refused.screening}
                return render(request, "bookings/screening_gate.html", context, status=409)
            return self._render(status=409, problem=refused.message)
        messages.success(request, _("Your appointment is booked. A confirmation is on its way by email."))
        return redirect("bookings:appointment_detail", pk=appointment.pk)

    def _render(self, status: int = 200, **extra: Any) -> HttpResponse:
        context = {"offer": self.offer, "entry": self.offer.entry, **extra}
        return render(self.request, self.template_name, context, status=status)


# --- Staff ----------------------------------------------------------------------------------------


class StaffWaitlistView(ClinicStaffRequiredMixin, TemplateView):
    """The list as staff see it (only patients they may book for), with every offer: to whom, when, and its outcome."""

    template_name = "bookings/staff_waitlist.html"
    paginate_by = 50

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        form = WaitlistFilterForm(self.request.GET or {"status": WaitlistEntry.Status.WAITING})
        entries = (
            WaitlistEntry.objects.filter(patient__in=patients_bookable_by(self.request.user).values("pk"))
            .select_related("patient__user", "modality", "practitioner__user", "created_by")
            .prefetch_related(_entries_with_offers())
            .order_by("created_at", "pk")
        )
        if form.is_valid():
            if form.cleaned_data["modality"]:
                entries = entries.filter(modality=form.cleaned_data["modality"])
            status = form.cleaned_data["status"]
            if status == WaitlistEntry.Status.WAITING:
                entries = entries.waiting()
            elif status:
                entries = entries.filter(status=status)
        context.update(form=form, entries=entries[: self.paginate_by], more=entries.count() > self.paginate_by)
        return context


class StaffWaitlistJoinView(ClinicStaffRequiredMixin, View):
    template_name = "bookings/staff_waitlist_join.html"

    def get(self, request: HttpRequest) -> HttpResponse:
        patients = patients_bookable_by(request.user)
        initial: dict[str, Any] = {}
        if request.GET.get("patient", "").isdigit():
            initial["patient"] = patients.filter(pk=request.GET["patient"]).first()
        return self._render(StaffWaitlistJoinForm(initial=initial, patients=patients))

    def post(self, request: HttpRequest) -> HttpResponse:
        form = StaffWaitlistJoinForm(request.POST, patients=patients_bookable_by(request.user))
        if not form.is_valid():
            return self._render(form, status=400)
        try:
            entry = _join(
                request=request, form=form, patient=form.cleaned_data["patient"], note=form.cleaned_data["note"]
            )
        except CareTeamRefused:
            form.add_error("patient", _("You may not put this patient on the waitlist."))
            entry = None
        if entry is None:
            return self._render(form, status=409)
        messages.success(
            request,
            _("%(patient)s is on the waitlist for %(modality)s.")
            % {"patient": entry.patient.full_name, "modality": entry.modality.name},
        )
        return redirect("bookings:staff_waitlist")

    def _render(self, form: StaffWaitlistJoinForm, status: int = 200) -> HttpResponse:
        return render(self.request, self.template_name, {"form": form}, status=status)


class StaffWaitlistLeaveView(ClinicStaffRequiredMixin, View):
    """Take a patient off the list (e.g. they called to say they no longer need it)."""

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.user.is_authenticated and request.user.is_clinic_staff:
            self.entry = get_object_or_404(
                WaitlistEntry.objects.select_related("patient__user", "modality"),
                pk=kwargs["pk"],
                patient__in=patients_bookable_by(request.user).values("pk"),
            )
        return super().dispatch(request, *args, **kwargs)

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        entry = self.entry
        try:
            waitlist_leave(entry=entry, actor=request.user)
        except CareTeamRefused as refused:
            raise Http404("No such entry.") from refused
        messages.success(
            request,
            _("%(patient)s is off the waitlist for %(modality)s.")
            % {"patient": entry.patient.full_name, "modality": entry.modality.name},
        )
        return redirect("bookings:staff_waitlist")
