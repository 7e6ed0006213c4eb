"""The one page of reminders a patient sees: the one-click opt-out from rebooking nudges."""

from __future__ import annotations

from django.core import signing
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.decorators import method_decorator
from django.views import View
from django.views.decorators.csrf import csrf_exempt

from bookings.services.reminders import NUDGE_OPT_OUT_SALT, patient_nudges_opt_out
from clinic.models import Patient

TEMPLATE = "bookings/reminders/nudge_opt_out.html"


@method_decorator(csrf_exempt, name="dispatch")  # the signed token is the credential (RFC 8058 one-click POST)
class NudgeOptOutView(View):
    """GET shows what the link does and turns nudges off only on the button (mail scanners follow
    links, so a GET alone must not change anything); mail clients' one-click unsubscribe POSTs."""

    def get(self, request: HttpRequest, token: str) -> HttpResponse:
        try:
            data = signing.loads(token, salt=NUDGE_OPT_OUT_SALT)
            patient = Patient.objects.get(pk=data["patient"])
        except (signing.BadSignature, Patient.DoesNotExist, KeyError, TypeError):
            return render(request, TEMPLATE, {"invalid": True}, status=400)
        return render(request, TEMPLATE, {"patient": patient, "done": not patient.rebooking_nudges})

    def post(self, request: HttpRequest, token: str) -> HttpResponse:
        try:
            patient = patient_nudges_opt_out(token=token)
        except (signing.BadSignature, Patient.DoesNotExist, KeyError, TypeError):
            return render(request, TEMPLATE, {"invalid": True}, status=400)
        return render(request, TEMPLATE, {"patient": patient, "done": True})
