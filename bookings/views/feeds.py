"""Private iCal feeds: a secret URL per practitioner and per patient, revocable by regenerating it."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views import View

from bookings.ics import appointments_feed_ics
from bookings.models import Appointment, CalendarFeed
from bookings.services.schedules import calendar_feed_get_or_create, calendar_feed_regenerate
from clinic.audit import audit_record
from clinic.models import AuditEvent

FEED_HISTORY = timedelta(days=90)


class CalendarFeedSettingsView(LoginRequiredMixin, View):
    """Shows the person's private feed URL; POST gives it a new secret (the old URL stops working)."""

    def _feed(self, request: HttpRequest) -> CalendarFeed:
        patient = getattr(request.user, "patient", None)
        practitioner = getattr(request.user, "practitioner", None)
        if patient is not None:
            return calendar_feed_get_or_create(patient=patient)
        if practitioner is not None:
            return calendar_feed_get_or_create(practitioner=practitioner)
        raise PermissionDenied(_("Calendar feeds are for patients and practitioners."))

    def get(self, request: HttpRequest) -> HttpResponse:
        feed = self._feed(request)
        path = reverse("bookings:feed", args=[feed.token])
        return render(
            request, "bookings/calendarfeed_detail.html", {"feed": feed, "feed_url": settings.SITE_URL + path}
        )

    def post(self, request: HttpRequest) -> HttpResponse:
        calendar_feed_regenerate(feed=self._feed(request))
        messages.success(request, _("Your calendar link has been replaced; the old link no longer works."))
        return redirect("bookings:calendar_feed")


def feed_ics(request: HttpRequest, token: str) -> HttpResponse:
    """The feed itself (no login: calendar apps cannot log in; the token is the secret).

    The token works only while its owner's account does: a deactivated account or a
    practitioner taken off the rota gets 410 Gone.  Each fetch is one audit row in the
    owner's name, as the calendar app fetches on their behalf.
    """
    feed = CalendarFeed.objects.select_related("practitioner__user", "patient__user").filter(token=token).first()
    if feed is None:
        raise Http404("No such calendar.")
    owner = feed.practitioner or feed.patient
    if not owner.user.is_active or (feed.practitioner_id and not feed.practitioner.is_active):
        audit_record(
            request=request,
            actor=owner.user,
            patient=feed.patient,
            action=AuditEvent.Action.DENIED,
            target=feed,
            description="Calendar feed: refused (account inactive)",
        )
        return HttpResponse(_("This calendar is no longer available."), status=410, content_type="text/plain")
    appointments = Appointment.objects.active().filter(starts_at__gte=timezone.now() - FEED_HISTORY)
    appointments = appointments.select_related("modality", "practitioner__user", "patient__user")
    if feed.practitioner_id:
        appointments = appointments.filter(practitioner_id=feed.practitioner_id)
        name = f"{settings.CLINIC_NAME}: {feed.practitioner.full_name}"
    else:
        appointments = appointments.filter(patient_id=feed.patient_id)
        name = _("%(clinic)s: my appointments") % {"clinic": settings.CLINIC_NAME}
    appointments = list(appointments.order_by("starts_at"))
    audit_record(
        request=request,
        actor=owner.user,
        patient=feed.patient,
        action=AuditEvent.Action.VIEW,
        target=feed,
        description=f"Calendar feed fetched: {len(appointments)} appointment(s)",
    )
    body = appointments_feed_ics(appointments=appointments, name=name, for_practitioner=bool(feed.practitioner_id))
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Cache-Control"] = "private, max-age=300"
    return response
