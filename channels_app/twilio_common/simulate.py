"""Posting Twilio-shaped, correctly signed webhooks to a running hub, as
Twilio would: for simulate_sms, simulate_call and the benchmarks."""

from __future__ import annotations

import secrets

import httpx
from django.conf import settings

from channels_app.twilio_common.signature import sign


def account_sid() -> str:
    return settings.TWILIO_ACCOUNT_SID or "AC" + "0" * 32


def new_sid(prefix: str) -> str:
    return prefix + secrets.token_hex(16)


def running_hub_url() -> str:
    """The public URL of the hub `make run` started, else PUBLIC_BASE_URL."""
    try:
        return (settings.VAR_DIR / "run" / "public_url").read_text().strip() or settings.PUBLIC_BASE_URL
    except OSError:
        return settings.PUBLIC_BASE_URL


def post(base_url: str, path: str, params: dict, *, timeout: float = 15.0,
         client: httpx.Client | None = None) -> httpx.Response:
    """As Twilio does: sign the exact URL called (the public URL configured
    in Twilio's console, which the hub checks against its PUBLIC_BASE_URL)."""
    return post_url(base_url.rstrip("/") + path, params, timeout=timeout, client=client)


def post_url(url: str, params: dict, *, timeout: float = 15.0, client: httpx.Client | None = None) -> httpx.Response:
    headers = {"X-Twilio-Signature": sign(url, params), "I-Twilio-Idempotency-Token": secrets.token_hex(8)}
    sender = client or httpx
    return sender.post(url, data=params, headers=headers, timeout=timeout)


def incoming_sms(*, from_: str, to: str, body: str, media: list[tuple[str, str]] = (), sid: str = "") -> dict:
    params = {
        "MessageSid": sid or new_sid("MM" if media else "SM"), "AccountSid": account_sid(),
        "From": from_, "To": to, "Body": body, "NumMedia": str(len(media)),
        "NumSegments": str(max(1, -(-len(body) // 153))), "SmsStatus": "received", "ApiVersion": "2010-04-01",
        "FromCountry": "US", "ToCountry": "US",
    }
    params["SmsSid"] = params["SmsMessageSid"] = params["MessageSid"]
    for i, (url, content_type) in enumerate(media):
        params[f"MediaUrl{i}"] = url
        params[f"MediaContentType{i}"] = content_type
    return params
