"""Call control through Twilio's REST API, with the official client."""

from __future__ import annotations

import requests
from django.conf import settings
from twilio.base.exceptions import TwilioRestException

from channels_app.base import AdapterError
from channels_app.sms.backends.twilio import read_capped
from channels_app.twilio_common.client import rest_client


def _error(exc: TwilioRestException, doing: str) -> AdapterError:
    transient = exc.status == 429 or exc.status >= 500
    return AdapterError(f"Twilio refused to {doing} ({exc.status})", permanent=not transient, code=str(exc.code or ""))


class TwilioVoiceBackend:
    def dequeue(self, *, queue_sid: str, call_sid: str, url: str) -> None:
        """Take one caller out of a hold queue and run `url`'s TwiML on their call."""
        try:
            rest_client().queues(queue_sid).members(call_sid).update(url=url, method="POST")
        except TwilioRestException as exc:
            raise _error(exc, "take the caller off hold") from exc
        except requests.exceptions.RequestException as exc:
            raise AdapterError("No answer from Twilio") from exc

    def redirect(self, *, call_sid: str, url: str) -> None:
        """Run `url`'s TwiML on a live call (e.g. to send it back to the menu)."""
        try:
            rest_client().calls(call_sid).update(url=url, method="POST")
        except TwilioRestException as exc:
            raise _error(exc, "redirect the call") from exc
        except requests.exceptions.RequestException as exc:
            raise AdapterError("No answer from Twilio") from exc

    def hang_up(self, *, call_sid: str) -> None:
        try:
            rest_client().calls(call_sid).update(status="completed")
        except TwilioRestException as exc:
            if exc.status != 404:
                raise _error(exc, "end the call") from exc
        except requests.exceptions.RequestException as exc:
            raise AdapterError("No answer from Twilio") from exc

    def recording(self, recording_sid: str) -> dict:
        """A recording's details (duration, the call it belongs to)."""
        try:
            recording = rest_client().recordings(recording_sid).fetch()
        except TwilioRestException as exc:
            raise _error(exc, "look up the recording") from exc
        except requests.exceptions.RequestException as exc:
            raise AdapterError("No answer from Twilio") from exc
        return {"sid": recording.sid, "call_sid": recording.call_sid, "duration": recording.duration}

    def delete_recording(self, recording_sid: str) -> None:
        """Delete a recording (and its audio) from Twilio's storage, for the
        retention purge. One Twilio no longer has is as good as deleted."""
        try:
            rest_client().recordings(recording_sid).delete()
        except TwilioRestException as exc:
            if exc.status != 404:
                raise _error(exc, "delete the recording") from exc
        except requests.exceptions.RequestException as exc:
            raise AdapterError("No answer from Twilio") from exc

    def download(self, url: str, max_bytes: int) -> tuple[bytes, str]:
        """A recording's audio: never public, fetched with the account's credentials."""
        try:
            with requests.get(url, auth=(settings.TWILIO_ACCOUNT_SID, settings.TWILIO_AUTH_TOKEN), stream=True,
                              timeout=settings.TWILIO_TIMEOUT_SECONDS) as response:
                if response.status_code >= 400:
                    raise AdapterError(f"Twilio answered {response.status_code} for a recording",
                                       permanent=400 <= response.status_code < 500 and response.status_code != 429,
                                       code=str(response.status_code))
                return read_capped(response, max_bytes), response.headers.get("Content-Type", "")
        except requests.exceptions.RequestException as exc:
            raise AdapterError("Could not fetch the recording from Twilio") from exc
