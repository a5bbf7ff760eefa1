"""Where call control goes: `twilio` (REST API) or `sandbox` (make run
without an account; simulate_call plays Twilio's part)."""

from django.conf import settings
from django.utils.module_loading import import_string

BACKENDS = {
    "twilio": "channels_app.voice.backends.twilio.TwilioVoiceBackend",
    "sandbox": "channels_app.voice.backends.sandbox.SandboxVoiceBackend",
}


def get_backend():
    return import_string(BACKENDS[settings.VOICE_BACKEND])()
