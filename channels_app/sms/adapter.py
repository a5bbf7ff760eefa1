"""The SMS channel as the hub's outbound path sees it."""

from __future__ import annotations

from django.conf import settings

from channels_app.base import ChannelAdapter, SendResult
from channels_app.registry import register
from channels_app.sms.backends import get_backend
from channels_app.sms.backends.base import OutgoingSms
from hub.actions.errors import NotDeliverable
from hub.models import ContactPoint, PhoneNumber, Practice

STATUS_PATH = "/webhooks/twilio/sms/status"


def sender(practice_id: int) -> tuple[str, str]:
    """(from number, messaging service sid) the practice texts from."""
    service = Practice.objects.filter(pk=practice_id).values_list("messaging_service_sid", flat=True).first() or ""
    number = (PhoneNumber.objects.in_practice(practice_id).filter(sms=True).values_list("number", flat=True).first()
              or "")
    return number, service


@register
class SmsAdapter(ChannelAdapter):
    kind = "sms"
    label = "SMS"
    # Twilio concatenates up to 10 segments: 1,600 characters.
    max_body_length = 1600

    def recipient(self, conversation) -> str:
        contact = (ContactPoint.objects.filter(patient_id=conversation.patient_id, kind=ContactPoint.Kind.PHONE)
                   .order_by("-last_seen_at", "-pk").first())
        if contact is None:
            raise NotDeliverable("This patient has no mobile number to text.", code="no_phone")
        if contact.sms_opted_out:
            raise NotDeliverable("The patient has opted out of texts (they replied STOP). "
                                 "They can text START to opt back in.", code="opted_out")
        number, service = sender(conversation.practice_id)
        if not number and not service:
            raise NotDeliverable("The practice has no SMS number set up.", code="no_sender")
        return contact.address

    def _outgoing(self, event) -> OutgoingSms:
        number, service = sender(event.practice_id)
        return OutgoingSms(
            to=event.data.get("to") or self.recipient(event.conversation), body=event.body,
            status_callback=settings.PUBLIC_BASE_URL + STATUS_PATH, from_=number, messaging_service_sid=service,
        )

    def send(self, event) -> SendResult:
        # Consent is checked again at the last moment: a STOP may have
        # arrived since the agent pressed send.
        self.recipient(event.conversation)
        return get_backend().send(self._outgoing(event))

    def reconcile(self, event) -> SendResult | None:
        return get_backend().find(self._outgoing(event), sid=event.provider_id,
                                  since=event.delivery_attempted_at or event.created_at)

    def download(self, url: str, max_bytes: int) -> tuple[bytes, str]:
        return get_backend().download(url, max_bytes)
