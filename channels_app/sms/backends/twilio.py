"""Texts through Twilio's REST API, with the official client."""

from __future__ import annotations

from datetime import datetime, timedelta

import requests
from django.conf import settings
from twilio.base.exceptions import TwilioRestException

from channels_app.base import AdapterError, SendResult
from channels_app.sms.backends.base import OutgoingSms, SmsBackend, hub_status
from channels_app.twilio_common import errors
from channels_app.twilio_common.client import rest_client


def _error(exc: TwilioRestException) -> AdapterError:
    code = str(exc.code or exc.status)
    if exc.status == 429 or exc.status >= 500:
        return AdapterError(f"Twilio answered {exc.status}; retrying", code=code)
    return AdapterError(errors.describe(exc.code) if exc.code else f"Twilio refused the message ({exc.status})",
                        permanent=True, code=code)


class TwilioBackend(SmsBackend):
    def send(self, sms: OutgoingSms) -> SendResult:
        params = {"to": sms.to, "body": sms.body, "status_callback": sms.status_callback}
        if sms.messaging_service_sid:
            params["messaging_service_sid"] = sms.messaging_service_sid
        else:
            params["from_"] = sms.from_
        try:
            message = rest_client().messages.create(**params)
        except TwilioRestException as exc:
            raise _error(exc) from exc
        except requests.exceptions.ConnectTimeout as exc:
            raise AdapterError("Twilio could not be reached") from exc
        except requests.exceptions.RequestException as exc:
            # The request may have reached Twilio before the connection broke
            # or the answer timed out: the next attempt must look first.
            raise AdapterError("No answer from Twilio", maybe_sent=True) from exc
        return SendResult(provider_id=message.sid, status=hub_status(message.status) or "queued")

    def find(self, sms: OutgoingSms, *, sid: str | None, since: datetime) -> SendResult | None:
        client = rest_client()
        try:
            if sid:
                message = client.messages(sid).fetch()
                return SendResult(provider_id=message.sid, status=hub_status(message.status))
            # Newest first; a message sent in the last attempt is near the top.
            for message in client.messages.list(to=sms.to, limit=50, page_size=50):
                created = message.date_created
                if created is not None and created < since - timedelta(minutes=2):
                    break
                if message.body == sms.body and (not sms.from_ or sms.messaging_service_sid or message.from_ == sms.from_):
                    return SendResult(provider_id=message.sid, status=hub_status(message.status))
        except TwilioRestException as exc:
            if exc.status == 404:
                return None
            raise AdapterError(f"Twilio answered {exc.status} while reconciling", code=str(exc.code)) from exc
        except requests.exceptions.RequestException as exc:
            raise AdapterError("No answer from Twilio while reconciling") from exc
        return None

    def download(self, url: str, max_bytes: int) -> tuple[bytes, str]:
        # Twilio answers with a redirect to its storage; requests drops the
        # credentials when the redirect leaves Twilio's host.
        try:
            with requests.get(url, auth=(settings.TWILIO_ACCOUNT_SID, settings.TWILIO_AUTH_TOKEN), stream=True,
                              timeout=settings.TWILIO_TIMEOUT_SECONDS) as response:
                if response.status_code == 404:
                    raise AdapterError("Twilio no longer has this file", permanent=True, code="404")
                if response.status_code >= 400:
                    raise AdapterError(f"Twilio answered {response.status_code} for a file",
                                       permanent=400 <= response.status_code < 500 and response.status_code != 429,
                                       code=str(response.status_code))
                return read_capped(response, max_bytes), response.headers.get("Content-Type", "")
        except requests.exceptions.RequestException as exc:
            raise AdapterError("Could not fetch the file from Twilio") from exc


def read_capped(response, max_bytes: int) -> bytes:
    """At most max_bytes + 1 bytes: enough to know a file is too large
    without reading all of it."""
    chunks, total = [], 0
    for chunk in response.iter_content(64 * 1024):
        chunks.append(chunk)
        total += len(chunk)
        if total > max_bytes:
            break
    return b"".join(chunks)[: max_bytes + 1]
