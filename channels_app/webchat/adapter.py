"""Web chat as the outbound path sees it: a reply is in the patient's widget
as soon as it is recorded (published after commit); "sent" once the task
has run, "read" when the widget shows it."""

from __future__ import annotations

from channels_app.base import ChannelAdapter, SendResult
from channels_app.registry import register
from hub.actions.errors import NotDeliverable
from hub.models import ContactPoint


@register
class WebAdapter(ChannelAdapter):
    kind = "web"
    label = "Web chat"
    max_body_length = 2000

    def recipient(self, conversation) -> str:
        contact = ContactPoint.objects.filter(patient_id=conversation.patient_id, kind=ContactPoint.Kind.WEB).first()
        if contact is None:
            raise NotDeliverable("This patient has never used web chat; reply by SMS.", code="no_web_chat")
        return contact.address

    def send(self, event) -> SendResult:
        return SendResult(provider_id=None, status="sent")
