from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from channels_app.base import SendResult

# Twilio's message statuses, as the hub's delivery states.
STATUS_MAP = {
    "accepted": "queued", "scheduled": "queued", "queued": "queued", "sending": "sending", "sent": "sent",
    "delivered": "delivered", "read": "read", "undelivered": "undelivered", "failed": "failed",
    "canceled": "failed", "partially_delivered": "delivered",
}


def hub_status(twilio_status: str) -> str:
    return STATUS_MAP.get((twilio_status or "").lower(), "")


@dataclass(frozen=True)
class OutgoingSms:
    to: str
    body: str
    status_callback: str
    from_: str = ""
    messaging_service_sid: str = ""


class SmsBackend:
    def send(self, sms: OutgoingSms) -> SendResult:
        raise NotImplementedError

    def find(self, sms: OutgoingSms, *, sid: str | None, since: datetime) -> SendResult | None:
        """The provider's record of a message we may have sent: by its sid
        when we have one, else by recipient, body and time."""
        raise NotImplementedError

    def download(self, url: str, max_bytes: int) -> tuple[bytes, str]:
        raise NotImplementedError
