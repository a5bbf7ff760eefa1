"""Twilio webhook authentication.

Twilio signs each request with the account's auth token over the exact URL
it called plus the POST parameters. Behind a TLS proxy or a tunnel the URL
this process sees differs from that one, so the URL is rebuilt from the
configured PUBLIC_BASE_URL.
"""

from __future__ import annotations

import logging

from django.conf import settings
from twilio.request_validator import RequestValidator

log = logging.getLogger("hub.webhooks")


def webhook_token() -> str:
    return settings.TWILIO_AUTH_TOKEN or settings.TWILIO_SANDBOX_AUTH_TOKEN


def public_url(request) -> str:
    return settings.PUBLIC_BASE_URL + request.get_full_path()


def valid_request(request) -> bool:
    signature = request.headers.get("X-Twilio-Signature", "")
    if not signature:
        log.warning("twilio webhook refused: no signature path=%s", request.path)
        return False
    if not RequestValidator(webhook_token()).validate(public_url(request), request.POST, signature):
        log.warning("twilio webhook refused: bad signature path=%s", request.path)
        return False
    return True


def sign(url: str, params: dict) -> str:
    """The signature Twilio would send (for the sandbox and simulate_* commands)."""
    return RequestValidator(webhook_token()).compute_signature(url, params)
