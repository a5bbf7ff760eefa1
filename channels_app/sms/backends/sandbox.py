"""Texts with no Twilio account: recorded here, then Twilio's own status
callbacks (queued -> sent -> delivered) are played back, signed, through
the hub's real status webhook, so the console's ticks move as they would.

A number ending in 0000 plays `undelivered` with error 30003 (handset
unreachable), to show what a failed delivery looks like.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

import httpx
from django.conf import settings

from channels_app.base import AdapterError, SendResult
from channels_app.sms.backends.base import OutgoingSms, SmsBackend
from hub.lib import clock

UNREACHABLE_SUFFIX = "0000"


def new_sid(prefix: str = "SM") -> str:
    return prefix + secrets.token_hex(16)


class SandboxBackend(SmsBackend):
    def send(self, sms: OutgoingSms) -> SendResult:
        from channels_app.models import SandboxMessage
        from channels_app.sms.tasks import play_sandbox_status

        message = SandboxMessage.objects.create(
            sid=new_sid(), to=sms.to, from_number=sms.from_, messaging_service_sid=sms.messaging_service_sid,
            body=sms.body, status="queued", status_callback=sms.status_callback, created_at=clock.now(),
        )
        final = "undelivered" if sms.to.endswith(UNREACHABLE_SUFFIX) else "delivered"
        sent_after, final_after = settings.SANDBOX_STATUS_DELAYS
        play_sandbox_status.apply_async((message.sid, "sent"), countdown=sent_after)
        play_sandbox_status.apply_async((message.sid, final), countdown=final_after)
        return SendResult(provider_id=message.sid, status="queued")

    def find(self, sms: OutgoingSms, *, sid: str | None, since: datetime) -> SendResult | None:
        from channels_app.models import SandboxMessage

        qs = SandboxMessage.objects.all()
        found = (qs.filter(sid=sid) if sid else
                 qs.filter(to=sms.to, body=sms.body, created_at__gte=since - timedelta(minutes=2))).first()
        return SendResult(provider_id=found.sid, status=found.status) if found else None

    def download(self, url: str, max_bytes: int) -> tuple[bytes, str]:
        from channels_app.sms.backends.twilio import read_capped

        try:
            with httpx.stream("GET", url, timeout=10, follow_redirects=True) as response:
                if response.status_code >= 400:
                    raise AdapterError(f"the file's address answered {response.status_code}",
                                       permanent=response.status_code < 500, code=str(response.status_code))
                return read_capped(_Iter(response), max_bytes), response.headers.get("content-type", "")
        except httpx.HTTPError as exc:
            raise AdapterError("could not fetch the file") from exc


class _Iter:
    def __init__(self, response):
        self.response = response

    def iter_content(self, size):
        return self.response.iter_bytes(size)
