"""The sandbox backend: texts without a Twilio account, with Twilio's status
callbacks played back, signed, through the hub's real status webhook."""

import pytest
from django.test import Client

from channels_app.models import SandboxMessage
from channels_app.sms import tasks
from hub.actions import outbound
from hub.lib import access
from tests.factories import inbound


@pytest.fixture
def sandbox(settings, monkeypatch):
    settings.SMS_BACKEND = "sandbox"
    settings.TWILIO_ACCOUNT_SID = settings.TWILIO_AUTH_TOKEN = ""
    client = Client()
    played = []

    def through_the_webhook(url, params):
        # The signature is computed for the public URL the hub is configured with.
        from channels_app.twilio_common.signature import sign

        played.append(params["MessageStatus"])
        path = url[len(settings.PUBLIC_BASE_URL):]
        return client.post(path, data=params, HTTP_X_TWILIO_SIGNATURE=sign(url, params)).status_code

    monkeypatch.setattr(tasks, "post_status_callback", through_the_webhook)
    return played


def test_a_sandbox_text_is_recorded_and_its_ticks_reach_delivered(world, sandbox, django_capture_on_commit_callbacks):
    conversation = inbound(world.practice, channel="sms").conversation
    with django_capture_on_commit_callbacks(execute=True):
        event = outbound.send_message(access.viewer_for(world.alice), conversation.pk, "See you at 9")
    event.refresh_from_db()
    message = SandboxMessage.objects.get()
    assert (message.to, message.body, message.from_number) == ("+15555550101", "See you at 9", "+15550100100")
    assert sandbox == ["sent", "delivered"]
    assert event.provider_id == message.sid and event.delivery_status == "delivered"


def test_a_sandbox_number_ending_0000_is_undelivered(world, sandbox, django_capture_on_commit_callbacks):
    conversation = inbound(world.practice, channel="sms", phone="+15555550000").conversation
    with django_capture_on_commit_callbacks(execute=True):
        event = outbound.send_message(access.viewer_for(world.alice), conversation.pk, "Hello?")
    event.refresh_from_db()
    assert event.delivery_status == "undelivered" and "unreachable" in event.delivery_error
