"""An incoming text, from webhook to timeline: the one ingest path, plus what
carriers require of keywords (STOP, START, HELP)."""

from __future__ import annotations

from django.db import transaction

from channels_app.sms.twilio_payload import IncomingSms
from hub.actions import consent, outbound
from hub.actions.ingest import InboundAttachment, InboundEvent, IngestResult, ingest
from hub.models import ConsentChange, ContactPoint, Practice


def _inbound(practice_id: int, sms: IncomingSms) -> InboundEvent:
    data = {"segments": sms.segments} if sms.segments > 1 else {}
    return InboundEvent(
        practice_id=practice_id, channel="sms", provider_id=sms.sid, contact_kind=ContactPoint.Kind.PHONE,
        contact_address=sms.from_, body=sms.body, data=data,
        attachments=tuple(InboundAttachment(url=url, content_type=ctype) for url, ctype in sms.media),
    )


def receive(practice_id: int, sms: IncomingSms) -> IngestResult:
    if not sms.keyword:
        return ingest(_inbound(practice_id, sms))
    # A keyword and the consent it changes are stored together or not at all.
    with transaction.atomic():
        result = ingest(_inbound(practice_id, sms))
        if not result.created:
            return result  # Twilio retried: the keyword was handled the first time
        contact = ContactPoint.objects.get(practice_id=practice_id, kind=ContactPoint.Kind.PHONE, address=sms.from_)
        if sms.keyword in ("opt_out", "opt_in"):
            consent.set_sms_consent(
                contact_point_id=contact.pk, opted_in=sms.keyword == "opt_in", source=ConsentChange.Source.KEYWORD,
                detail=sms.keyword_text, conversation_id=result.conversation.pk,
            )
        elif sms.keyword == "help" and not sms.provider_answered_keyword:
            help_text = Practice.objects.values_list("help_text", flat=True).get(pk=practice_id)
            if help_text:
                conversation_id = result.conversation.pk
                transaction.on_commit(lambda: outbound.send_automatic(
                    conversation_id, help_text, channel="sms", reason="help"))
    return result
