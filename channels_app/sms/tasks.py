import logging

import httpx
from celery import shared_task

from channels_app.twilio_common.signature import sign

log = logging.getLogger(__name__)


def post_status_callback(url: str, params: dict) -> int:
    """POST a status callback the way Twilio does: form-encoded, signed."""
    response = httpx.post(url, data=params, headers={"X-Twilio-Signature": sign(url, params)}, timeout=10)
    return response.status_code


@shared_task
def play_sandbox_status(sid: str, status: str) -> None:
    from django.conf import settings

    from channels_app.models import SandboxMessage

    message = SandboxMessage.objects.filter(sid=sid).first()
    if message is None:
        return
    SandboxMessage.objects.filter(pk=message.pk).update(status=status)
    params = {
        "MessageSid": sid, "SmsSid": sid, "MessageStatus": status, "SmsStatus": status,
        "AccountSid": settings.TWILIO_ACCOUNT_SID or "AC" + "0" * 32, "To": message.to,
        "From": message.from_number, "ApiVersion": "2010-04-01",
    }
    if message.messaging_service_sid:
        params["MessagingServiceSid"] = message.messaging_service_sid
    if status == "undelivered":
        params["ErrorCode"] = "30003"
    try:
        post_status_callback(message.status_callback, params)
    except httpx.HTTPError:
        log.warning("sandbox could not deliver a status callback (is the web server running?)")
