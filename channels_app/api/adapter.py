"""The custom (API) channel: replies go to the integration's webhook."""

from __future__ import annotations

import hashlib
import hmac
import json

import httpx

from channels_app.base import AdapterError, ChannelAdapter, SendResult
from channels_app.registry import register
from hub.actions.errors import NotDeliverable
from hub.lib.event_types import event_out
from hub.models import ContactPoint

WEBHOOK_TIMEOUT = httpx.Timeout(10.0, connect=3.0)


def signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


@register
class ApiAdapter(ChannelAdapter):
    kind = "api"
    label = "API"

    def recipient(self, conversation) -> str:
        contact = (
            ContactPoint.objects.filter(patient_id=conversation.patient_id)
            .filter(kind__in=[ContactPoint.Kind.EXTERNAL, ContactPoint.Kind.PHONE])
            .order_by("kind")  # an external id, when there is one, is what the integration knows
            .first()
        )
        if contact is None:
            raise NotDeliverable("This patient has no address the integration knows.", code="no_address")
        return contact.address

    def send(self, event) -> SendResult:
        from channels_app.models import ApiInbox

        inbox = ApiInbox.objects.filter(practice_id=event.practice_id).first()
        if inbox is None or not inbox.webhook_url:
            # Nothing to push to: the integration reads replies from the API.
            return SendResult(provider_id=None, status="sent")
        body = json.dumps({
            "type": "message.created",
            "contact": self.recipient(event.conversation),
            "message": event_out(event).model_dump(mode="json"),
        }).encode()
        try:
            response = httpx.post(
                inbox.webhook_url, content=body, timeout=WEBHOOK_TIMEOUT,
                headers={"Content-Type": "application/json", "X-Hub-Signature": signature(inbox.secret, body),
                         "X-Hub-Message-Id": str(event.pk)},
            )
        except httpx.TimeoutException as exc:
            raise AdapterError("integration webhook timed out", maybe_sent=True) from exc
        except httpx.HTTPError as exc:
            raise AdapterError("integration webhook unreachable") from exc
        if response.status_code in (408, 429) or response.status_code >= 500:
            raise AdapterError(f"integration webhook answered {response.status_code}", code=str(response.status_code))
        if response.status_code >= 400:
            raise AdapterError(f"integration webhook refused the message ({response.status_code})",
                               permanent=True, code=str(response.status_code))
        return SendResult(provider_id=None, status="delivered")
