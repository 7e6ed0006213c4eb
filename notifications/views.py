"""The SMS provider's webhooks: delivery reports and the patient's replies.

Both are signed by the provider (Twilio's X-Twilio-Signature over the URL and the sorted POST
parameters, keyed with ``TWILIO_AUTH_TOKEN``); an unsigned or badly signed request is refused
with 403 and changes nothing.  The URL signed is ``SITE_URL`` plus the path, so set
``DJANGO_SITE_URL`` to the address the provider calls.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseForbidden
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from notifications.sms.backends.twilio import twilio_signature_valid
from notifications.sms.services import sms_delivery_status_record, sms_reply_record

logger = logging.getLogger(__name__)

EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'


def _signed_by_provider(request: HttpRequest) -> bool:
    valid = twilio_signature_valid(
        url=settings.SITE_URL + request.get_full_path(),
        params=request.POST.dict(),
        signature=request.headers.get("X-Twilio-Signature", ""),
        auth_token=settings.TWILIO_AUTH_TOKEN,
    )
    if not valid:
        logger.warning("SMS webhook %s refused: missing or wrong provider signature", request.path)
    return valid


@csrf_exempt
@require_POST
def sms_status_view(request: HttpRequest, reminder_id: int) -> HttpResponse:
    """The provider reports how the text of one outbox row fared (delivered, undelivered, failed...)."""
    if not _signed_by_provider(request):
        return HttpResponseForbidden("Bad signature.")
    sms_delivery_status_record(
        reminder_id=reminder_id,
        provider_message_id=request.POST.get("MessageSid", ""),
        status=request.POST.get("MessageStatus", request.POST.get("SmsStatus", "")),
        error_code=request.POST.get("ErrorCode", ""),
    )
    return HttpResponse(status=204)


@csrf_exempt
@require_POST
def sms_inbound_view(request: HttpRequest) -> HttpResponse:
    """A patient texted the clinic's number: STOP and START change whether they get texts."""
    if not _signed_by_provider(request):
        return HttpResponseForbidden("Bad signature.")
    sms_reply_record(from_number=request.POST.get("From", ""), body=request.POST.get("Body", ""))
    # An empty reply: the provider sends its own STOP/START confirmation.
    return HttpResponse(EMPTY_TWIML, content_type="text/xml")
