"""Twilio-shaped webhook requests for tests: recorded fixtures, signed the
way Twilio signs them (RequestValidator over PUBLIC_BASE_URL + path)."""

from __future__ import annotations

import json
from pathlib import Path

from django.conf import settings
from twilio.request_validator import RequestValidator

FIXTURES = Path(__file__).parent / "fixtures" / "twilio"
ACCOUNT_SID = "ACa1b2c3d4e5f60718293a4b5c6d7e8f90"
AUTH_TOKEN = "test-twilio-auth-token"


def fixture(name: str, **substitutions) -> dict:
    text = (FIXTURES / f"{name}.json").read_text()
    for key, value in substitutions.items():
        text = text.replace("{" + key + "}", value)
    return json.loads(text)


def signature_for(path: str, params: dict, *, base: str | None = None, token: str | None = None) -> str:
    url = (base or settings.PUBLIC_BASE_URL) + path
    return RequestValidator(token or AUTH_TOKEN).compute_signature(url, params)


def post(client, path: str, params: dict, *, signed: bool = True, base: str | None = None, token: str | None = None,
         signature: str | None = None):
    headers = {}
    if signed:
        headers["HTTP_X_TWILIO_SIGNATURE"] = signature or signature_for(path, params, base=base, token=token)
    return client.post(path, data=params, **headers)
