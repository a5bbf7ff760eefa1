from __future__ import annotations

import logging
import os
import threading

from django.conf import settings
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

# The twilio library logs request parameters (numbers, message bodies) at
# INFO: never let patient data reach the logs through it.
logging.getLogger("twilio.http_client").setLevel(logging.WARNING)


_kept = threading.local()


def rest_client() -> Client:
    """Twilio's REST client, kept per thread (and process) for as long as
    the settings it was made from stay the same: its HTTP session keeps the
    connection to Twilio open, so a message does not pay for a new TCP and
    TLS handshake each time."""
    key = (os.getpid(), settings.TWILIO_ACCOUNT_SID, settings.TWILIO_AUTH_TOKEN, settings.TWILIO_API_BASE_URL,
           settings.TWILIO_TIMEOUT_SECONDS)
    kept = getattr(_kept, "client", None)
    if kept is not None and kept[0] == key:
        return kept[1]
    client = Client(
        settings.TWILIO_ACCOUNT_SID, settings.TWILIO_AUTH_TOKEN,
        http_client=TwilioHttpClient(timeout=settings.TWILIO_TIMEOUT_SECONDS, max_retries=0),
    )
    if settings.TWILIO_API_BASE_URL:
        client.api.base_url = settings.TWILIO_API_BASE_URL
    _kept.client = (key, client)
    return client
