"""Twilio's voice webhooks, driven by recorded Twilio-shaped requests: the
menu, holding, voicemail, agents answering, and retried or late callbacks."""

import xml.etree.ElementTree as ET
from datetime import datetime, time
from zoneinfo import ZoneInfo

import pytest
from django.test import TestCase

from channels_app.models import SandboxCallCommand
from hub.actions import conversations
from hub.lib import access
from hub.models import AgentProfile, BusinessHours, Call, Conversation, Event, Patient
from tests.channels_app.twilio_helpers import fixture, post

CALLER = "+15555550171"
SID = "CA" + "1" * 32
V = "/webhooks/twilio/voice"

pytestmark = pytest.mark.usefixtures("twilio_settings")


@pytest.fixture(autouse=True)
def _sandbox(settings):
    settings.VOICE_BACKEND = "sandbox"
    settings.SMS_BACKEND = "sandbox"


def call(client, path, name, sid=SID, caller=CALLER, **extra):
    params = fixture(name, call_sid=sid, **{"from": caller}, **{k: str(v) for k, v in extra.pop("subs", {}).items()})
    params.update({k: str(v) for k, v in extra.items()})
    response = post(client, V + path, params)
    return response


def xml(response):
    assert response.status_code == 200, response.content
    return ET.fromstring(response.content)


def ring(client, sid=SID, caller=CALLER):
    return xml(call(client, "", "voice_incoming", sid=sid, caller=caller))


def choose(client, digits="", speech="", attempt=1, sid=SID, silence=False):
    path = f"/menu?attempt={attempt}" + ("&silence=1" if silence else "")
    return xml(call(client, path, "voice_incoming", sid=sid, Digits=digits, SpeechResult=speech,
                    CallStatus="in-progress"))


def bodies(sid=SID):
    return list(Event.objects.filter(data__call_sid=sid).order_by("created_at", "seq").values_list("body", flat=True))


def test_a_call_hears_the_emergency_notice_and_the_menu(world, client):
    answer = ring(client)
    says = " ".join(s.text for s in answer.iter("Say"))
    assert "medical emergency, hang up and dial 9 1 1" in says
    gather = answer.find("Gather")
    assert gather.get("input") == "dtmf speech" and gather.get("numDigits") == "1"
    menu = " ".join(s.text for s in gather.iter("Say"))
    assert "For Scheduling, press 1" in menu and "For Billing, press 2" in menu and "front desk, press 0" in menu
    assert Call.objects.get().status == "in_menu"
    assert bodies() == ["Incoming call"]


def test_pressing_2_puts_the_caller_on_hold_in_billing(world, client):
    ring(client)
    answer = choose(client, digits="2")
    enqueue = answer.find("Enqueue")
    assert enqueue.text == "riverside-billing"
    assert enqueue.get("waitUrl").endswith(f"{V}/wait") and enqueue.get("action").endswith(f"{V}/queue-result")
    conversation = Conversation.objects.get()
    assert conversation.department == world.billing and conversation.status == "queued"
    assert conversation.routing_reason == "Phone menu choice: Billing (pressed 2)"
    assert bodies() == ["Incoming call", "Caller chose Billing (pressed 2)", "On hold in the Billing queue"]
    assert Call.objects.get().status == "queued"


def test_saying_a_department_works_too(world, client):
    ring(client)
    assert choose(client, speech="billing please").find("Enqueue").text == "riverside-billing"


def test_an_invalid_answer_repeats_the_menu_once_then_goes_to_the_front_desk(world, client):
    ring(client)
    again = choose(client, digits="9")
    assert again.find("Gather") is not None
    assert "attempt=2" in again.find("Gather").get("action")
    front = choose(client, digits="7", attempt=2)
    assert front.find("Enqueue").text == "riverside-scheduling"
    assert "front desk" in front.find("Say").text


def test_silence_also_repeats_then_goes_to_the_front_desk(world, client):
    ring(client)
    assert choose(client, silence=True).find("Gather") is not None
    assert choose(client, attempt=2, silence=True).find("Enqueue") is not None


def test_after_hours_a_caller_hears_the_hours_and_leaves_a_voicemail(world, client, frozen_clock):
    for weekday in range(5):
        BusinessHours.objects.create(department=world.scheduling, weekday=weekday, opens=time(8), closes=time(18))
    frozen_clock.set(datetime(2026, 11, 28, 11, 0, tzinfo=ZoneInfo("America/New_York")))  # Saturday
    answer = ring(client)
    assert answer.find("Gather") is None
    says = " ".join(s.text for s in answer.iter("Say"))
    assert "closed" in says and "Monday to Friday, 8 AM to 6 PM" in says and "9 1 1" in says
    record = answer.find("Record")
    assert record.get("transcribe") == "true" and record.get("transcribeCallback").endswith(f"{V}/transcription")


def test_the_wait_url_gives_position_estimate_and_choices(world, client):
    ring(client)
    choose(client, digits="2")
    answer = xml(call(client, "/wait", "voice_wait"))
    says = " ".join(s.text for s in answer.iter("Say"))
    assert "caller number 2" in says and "about 4 minutes" in says  # 2 x Twilio's 120 s average
    assert "press 1" in says and "press 2" in says
    assert answer.find("Gather").find("Play") is not None
    assert Call.objects.get().queue_sid == "QU5e2f0a1b2c3d4e5f60718293a4b5c6d7"


def test_hanging_up_on_hold_is_an_abandoned_call_with_a_call_back_and_a_text(world, client,
                                                                              django_capture_on_commit_callbacks):
    ring(client)
    choose(client, digits="2")
    with django_capture_on_commit_callbacks(execute=True):
        xml(call(client, "/queue-result", "voice_queue_result", subs={"result": "hangup", "seconds": 70}))
    assert "Hung up after 1:10 on hold" in bodies()
    conversation = Conversation.objects.get()
    assert conversation.needs_callback and conversation.status == "queued"
    text = Event.objects.get(direction="out")
    assert text.channel == "sms" and text.data["automatic"] == "missed_call"
    assert Call.objects.get().status == "abandoned"


def test_a_hang_up_within_seconds_is_not_a_call_back(world, client, django_capture_on_commit_callbacks):
    ring(client)
    choose(client, digits="2")
    with django_capture_on_commit_callbacks(execute=True):
        call(client, "/queue-result", "voice_queue_result", subs={"result": "hangup", "seconds": 3})
    assert not Conversation.objects.get().needs_callback
    assert not Event.objects.filter(direction="out").exists()


def test_a_voicemail_from_hold_with_its_transcript_and_red_flag(world, client, django_capture_on_commit_callbacks):
    ring(client)
    choose(client, digits="4")
    xml(call(client, "/wait-choice", "voice_wait", Digits="1")).find("Leave")
    answer = xml(call(client, "/queue-result", "voice_queue_result", subs={"result": "leave", "seconds": 20}))
    assert answer.find("Record") is not None
    with django_capture_on_commit_callbacks(execute=True):
        xml(call(client, "/recording", "voice_recording", subs={"media_base": "https://api.twilio.com"}))
        call(client, "/transcription", "voice_transcription",
             subs={"text": "Hi, I've had chest pain since this morning", "media_base": "x"})
    voicemail = Event.objects.get(body="Voicemail (0:14)")
    [attachment] = voicemail.data["attachments"]
    assert attachment["content_type"] == "audio/wav"
    assert voicemail.attachments.get().source_url.endswith("/Recordings/RE0f1e2d3c4b5a69788796a5b4c3d2e1f0.wav")
    assert Event.objects.filter(body="Voicemail transcript: Hi, I've had chest pain since this morning").exists()
    conversation = Conversation.objects.get()
    assert conversation.urgent and conversation.needs_callback and conversation.department == world.nurse
    safety = Event.objects.get(direction="out", data__automatic="safety")
    assert safety.channel == "sms"  # a voicemail is answered by text


def test_asking_for_a_call_back_from_hold(world, client):
    ring(client)
    choose(client, digits="1")
    call(client, "/wait-choice", "voice_wait", Digits="2")
    answer = xml(call(client, "/queue-result", "voice_queue_result", subs={"result": "leave", "seconds": 30}))
    assert "call you back" in answer.find("Say").text and answer.find("Hangup") is not None
    assert "Asked for a call-back after 0:30 on hold" in bodies()
    assert Conversation.objects.get().needs_callback


def test_an_agent_takes_the_call_from_the_console_and_talk_time_is_recorded(world, client, frozen_clock):
    AgentProfile.objects.filter(user=world.bob).update(voice_endpoint="+15550109999")
    ring(client)
    choose(client, digits="2")
    call(client, "/wait", "voice_wait")
    frozen_clock.advance(seconds=40)
    with TestCase.captureOnCommitCallbacks(execute=True):
        conversations.pick_up(access.viewer_for(world.bob), Conversation.objects.get().pk)
    command = SandboxCallCommand.objects.get()
    assert command.action == "dequeue" and command.url.endswith(f"{V}/connect?agent={world.bob.pk}")
    xml(call(client, "/queue-result", "voice_queue_result", subs={"result": "redirected", "seconds": 40}))
    dial = xml(call(client, f"/connect?agent={world.bob.pk}", "voice_wait")).find("Dial")
    number = dial.find("Number")
    assert number.text == "+15550109999" and dial.get("callerId") == "+15550100100"
    xml(post(client, number.get("url").split("hub.example.org")[1],
             {"CallSid": "CA" + "2" * 32, "ParentCallSid": SID, "AccountSid": "ACa1b2c3d4e5f60718293a4b5c6d7e8f90"}))
    frozen_clock.advance(seconds=125)
    xml(call(client, f"/dial-result?agent={world.bob.pk}", "voice_wait", DialCallStatus="completed"))
    call(client, "/status", "voice_status", subs={"status": "completed", "duration": 170, "sequence": 3})
    lines = bodies()
    assert "Answered by Bob Brown after 0:40 on hold" in lines
    assert lines[-1] == "Call ended: 2:05 talk time, 0:40 on hold"
    finished = Call.objects.get()
    assert (finished.status, finished.answered_by, finished.talk_seconds, finished.queue_seconds) == (
        "completed", world.bob, 125, 40)


def test_an_agent_with_no_phone_cannot_take_a_holding_call(world, client):
    from hub.actions.errors import Conflict

    ring(client)
    choose(client, digits="2")
    with pytest.raises(Conflict) as refused:
        conversations.pick_up(access.viewer_for(world.bob), Conversation.objects.get().pk)
    assert refused.value.code == "no_phone"


def test_an_agent_who_does_not_answer_sends_the_caller_back_on_hold(world, client):
    ring(client)
    choose(client, digits="2")
    answer = xml(call(client, f"/dial-result?agent={world.bob.pk}", "voice_wait", DialCallStatus="no-answer"))
    assert answer.find("Enqueue").text == "riverside-billing"
    assert any("did not answer" in b for b in bodies())


def test_hanging_up_in_the_menu_is_a_missed_call(world, client, django_capture_on_commit_callbacks):
    ring(client)
    with django_capture_on_commit_callbacks(execute=True):
        call(client, "/status", "voice_status", subs={"status": "completed", "duration": 4, "sequence": 1})
    assert bodies()[-1] == "Missed call"
    assert Call.objects.get().status == "missed"
    assert Conversation.objects.get().needs_callback


def test_retried_and_late_callbacks_change_nothing(world, client):
    ring(client)
    ring(client)  # Twilio's retry
    choose(client, digits="2")
    choose(client, digits="2")  # retried
    for _ in range(2):
        call(client, "/queue-result", "voice_queue_result", subs={"result": "hangup", "seconds": 30})
    for status, sequence in (("completed", 3), ("completed", 3), ("ringing", 0), ("in-progress", 1)):
        call(client, "/status", "voice_status", subs={"status": status, "duration": 35, "sequence": sequence})
    assert bodies() == ["Incoming call", "Caller chose Billing (pressed 2)", "On hold in the Billing queue",
                        "Hung up after 0:30 on hold", "Call ended"]
    assert Call.objects.get().status == "abandoned"


def test_a_bad_signature_is_403_and_stores_nothing(world, client):
    params = fixture("voice_incoming", call_sid=SID, **{"from": CALLER})
    assert post(client, V, params, signed=False).status_code == 403
    assert post(client, V, params, token="wrong-token").status_code == 403
    assert not Call.objects.exists() and not Event.objects.exists() and not Patient.objects.exists()


@pytest.mark.parametrize("change,status", [
    ({"CallSid": "CA123"}, 400), ({"To": "+15559999999"}, 404), ({"To": "not a number"}, 400)])
def test_bad_calls_are_4xx(world, client, change, status):
    params = fixture("voice_incoming", call_sid=SID, **{"from": CALLER})
    params.update(change)
    assert post(client, V, params).status_code == status
    assert not Call.objects.exists()


def test_withheld_numbers_are_not_merged_into_one_patient(world, client):
    ring(client, sid="CA" + "3" * 32, caller="anonymous")
    ring(client, sid="CA" + "4" * 32, caller="anonymous")
    assert Patient.objects.count() == 2
