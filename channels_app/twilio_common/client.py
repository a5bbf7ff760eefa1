from __future__ import annotations

import logging

from django.conf import settings
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

# The twilio library logs request parameters (numbers, message bodies) at
# INFO: never let patient data reach the logs through it.
logging.getLogger("twilio.http_client").setLevel(logging.WARNING)


def rest_client() -> Client:
    client = Client(
        settings.TWILIO_ACCOUNT_SID, settings.TWILIO_AUTH_TOKEN,
        http_client=TwilioHttpClient(timeout=settings.TWILIO_TIMEOUT_SECONDS, max_retries=0),
    )
    if settings.TWILIO_API_BASE_URL:
        client.api.base_url = settings.TWILIO_API_BASE_URL
    return client
