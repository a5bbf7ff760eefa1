"""Twilio's SMS webhooks: /webhooks/twilio/sms and /webhooks/twilio/sms/status."""

from __future__ import annotations

import logging

from django.http import HttpResponse, HttpResponseBadRequest, HttpResponseForbidden, HttpResponseNotFound
from twilio.twiml.messaging_response import MessagingResponse

from channels_app.sms import receive
from channels_app.sms.twilio_payload import BadPayload, parse_incoming, parse_status
from channels_app.twilio_common import errors, signature
from channels_app.twilio_common.numbers import practice_for
from channels_app.webhooks import provider_webhook
from hub.actions import consent, outbound
from hub.actions.errors import InvalidInput
from hub.lib.delivery import TERMINAL_FAILURES
from hub.models import ConsentChange, ContactPoint
from channels_app.sms.backends.base import hub_status

log = logging.getLogger("hub.webhooks")


def _twiml(response: MessagingResponse | None = None) -> HttpResponse:
    return HttpResponse(str(response or MessagingResponse()), content_type="text/xml")


@provider_webhook
def incoming_message(request):
    if not signature.valid_request(request):
        return HttpResponseForbidden("invalid Twilio signature")
    try:
        sms = parse_incoming(request.POST)
    except BadPayload as exc:
        log.warning("sms webhook refused: %s", exc)
        return HttpResponseBadRequest(str(exc))
    practice_id = practice_for(sms.to, sms.messaging_service_sid)
    if practice_id is None:
        log.warning("sms webhook refused: the number texted belongs to no practice")
        return HttpResponseNotFound("no practice uses this number")
    try:
        receive.receive(practice_id, sms)
    except InvalidInput as exc:
        return HttpResponseBadRequest(exc.message)
    return _twiml()


@provider_webhook
def message_status(request):
    if not signature.valid_request(request):
        return HttpResponseForbidden("invalid Twilio signature")
    try:
        report = parse_status(request.POST)
    except BadPayload as exc:
        log.warning("sms status webhook refused: %s", exc)
        return HttpResponseBadRequest(str(exc))
    status = hub_status(report.status)
    if not status:
        return HttpResponse(status=204)  # a status the hub does not track (e.g. receiving)
    practice_id = practice_for(report.from_) if report.from_ else None
    error = errors.describe(report.error_code) if report.error_code and status in TERMINAL_FAILURES else ""
    event = outbound.update_delivery_status(
        practice_id=practice_id, channel="sms", provider_id=report.sid, status=status,
        error_code=report.error_code if error else "", error=error,
    )
    if event is not None and report.error_code and int(report.error_code) in errors.OPTED_OUT:
        contact = ContactPoint.objects.filter(practice_id=event.practice_id, kind=ContactPoint.Kind.PHONE,
                                              address=event.data.get("to", "")).first()
        if contact is not None:
            consent.set_sms_consent(contact_point_id=contact.pk, opted_in=False,
                                    source=ConsentChange.Source.PROVIDER, detail=f"Twilio {report.error_code}")
    return HttpResponse(status=204)
