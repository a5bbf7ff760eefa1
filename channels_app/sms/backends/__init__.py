"""Where texts actually go, chosen by settings.SMS_BACKEND as Django chooses
an email backend: `twilio` (the real thing) or `sandbox` (make run without
an account)."""

from django.conf import settings
from django.utils.module_loading import import_string

BACKENDS = {
    "twilio": "channels_app.sms.backends.twilio.TwilioBackend",
    "sandbox": "channels_app.sms.backends.sandbox.SandboxBackend",
}


def get_backend():
    return import_string(BACKENDS[settings.SMS_BACKEND])()
