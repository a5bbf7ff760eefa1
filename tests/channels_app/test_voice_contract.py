"""Every REST request the voice code makes, sent by the real twilio client to
a local server that checks it against Twilio's OpenAPI description."""

import pytest

from channels_app.voice.backends.twilio import TwilioVoiceBackend
from channels_app.voice.twiml import url
from hub.actions import attachments, calls
from hub.models import Attachment, Call, Event
from tests.channels_app.twilio_helpers import fixture, post

SID = "CA" + "5" * 32


@pytest.fixture
def twilio(twilio_contract):
    return twilio_contract


def test_taking_a_caller_off_hold_dequeues_that_member(world, twilio):
    queue_sid = twilio.add_queue("riverside-billing")
    twilio.add_call(SID, from_="+15555550171", to="+15550100100", status="in-progress")
    twilio.add_queue_member(queue_sid, SID)
    TwilioVoiceBackend().dequeue(queue_sid=queue_sid, call_sid=SID, url=url("/connect", agent=7))
    [request] = [r for r in twilio.requests if r.method == "POST"]
    assert request.path.endswith(f"/Queues/{queue_sid}/Members/{SID}.json")
    assert request.form["Url"] == "https://hub.example.org/webhooks/twilio/voice/connect?agent=7"
    assert request.form["Method"] == "POST"


def test_redirecting_and_ending_a_call(world, twilio):
    twilio.add_call(SID, from_="+15555550171", to="+15550100100", status="in-progress")
    backend = TwilioVoiceBackend()
    backend.redirect(call_sid=SID, url=url("/menu", attempt=1))
    backend.hang_up(call_sid=SID)
    forms = [r.form for r in twilio.requests if r.method == "POST"]
    assert forms[0]["Url"].endswith("/webhooks/twilio/voice/menu?attempt=1")
    assert forms[1]["Status"] == "completed"


def test_a_recording_is_looked_up_and_its_audio_fetched_with_the_account_credentials(world, twilio, client):
    wav = open("channels_app/static/voice/sample-voicemail.wav", "rb").read()
    recording_sid = "RE0f1e2d3c4b5a69788796a5b4c3d2e1f0"
    twilio.add_call(SID, from_="+15555550171", to="+15550100100", status="completed")
    twilio.add_recording(recording_sid, SID, content=wav, content_type="audio/wav", duration=14)
    info = TwilioVoiceBackend().recording(recording_sid)
    assert info["call_sid"] == SID

    params = fixture("voice_incoming", call_sid=SID, **{"from": "+15555550171"})
    assert post(client, "/webhooks/twilio/voice", params).status_code == 200
    recorded = fixture("voice_recording", call_sid=SID, media_base=twilio.base_url, **{"from": "+15555550171"})
    assert post(client, "/webhooks/twilio/voice/recording", recorded).status_code == 200
    attachment = Attachment.objects.get()
    attachments.fetch(attachment.pk)
    attachment.refresh_from_db()
    assert attachment.status == "stored" and attachment.content_type == "audio/wav"
    assert attachment.file.read() == wav
    media = [r for r in twilio.requests if r.path.endswith(".wav")]
    assert media and media[0].headers.get("Authorization", "").startswith("Basic ")
    assert Call.objects.get().recording_sid == recording_sid
    assert Event.objects.filter(body="Voicemail (0:14)").exists()
    assert calls is not None
