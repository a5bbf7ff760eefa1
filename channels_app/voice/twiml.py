"""What callers hear: TwiML built with the twilio package's VoiceResponse."""

from __future__ import annotations

from django.conf import settings
from twilio.twiml.voice_response import Gather, VoiceResponse

EMERGENCY = "If this is a medical emergency, hang up and dial 9 1 1."
BASE = "/webhooks/twilio/voice"


def url(path: str, **query) -> str:
    from urllib.parse import urlencode

    return f"{settings.PUBLIC_BASE_URL}{BASE}{path}" + (f"?{urlencode(query)}" if query else "")


def say(response, text: str) -> None:
    response.say(text, language="en-US")


def menu(practice_name: str, options: list[tuple[str, str]], *, attempt: int, greet: bool) -> VoiceResponse:
    """The phone menu: keypad or speech. `options` are (digit, department name)."""
    response = VoiceResponse()
    if greet:
        say(response, f"Thank you for calling {practice_name}.")
        say(response, EMERGENCY)
    gather = Gather(input="dtmf speech", num_digits=1, timeout=6, action=url("/menu", attempt=attempt),
                    method="POST", speech_timeout="auto", hints=", ".join(name for _, name in options))
    prompt = " ".join(f"For {name}, press {digit} or say {name}." for digit, name in options if digit != "0")
    front = [name for digit, name in options if digit == "0"]
    if front:
        prompt += " For the front desk, press 0."
    say(gather, prompt)
    response.append(gather)
    # No answer at all: the same menu handler decides (repeat once, then the front desk).
    response.redirect(url("/menu", attempt=attempt, silence=1), method="POST")
    return response


def enqueue(queue_name: str, *, department_name: str, intro: str = "") -> VoiceResponse:
    response = VoiceResponse()
    say(response, intro or f"Please hold for {department_name}.")
    response.enqueue(queue_name, wait_url=url("/wait"), wait_url_method="POST", action=url("/queue-result"),
                     method="POST")
    return response


def wait(position: int, estimate_minutes: int | None) -> VoiceResponse:
    """Played while holding, again and again: position, estimate, options, music."""
    response = VoiceResponse()
    gather = Gather(num_digits=1, timeout=1, action=url("/wait-choice"), method="POST")
    words = "You are next in line." if position <= 1 else f"You are caller number {position} in line."
    if estimate_minutes:
        words += f" The estimated wait is about {estimate_minutes} minute{'s' if estimate_minutes != 1 else ''}."
    words += " To leave a voicemail instead, press 1. To have us call you back, press 2."
    say(gather, words)
    gather.play(settings.VOICE_HOLD_MUSIC_URL)
    response.append(gather)
    return response


def leave_queue() -> VoiceResponse:
    response = VoiceResponse()
    response.leave()
    return response


def voicemail(intro: str) -> VoiceResponse:
    response = VoiceResponse()
    say(response, intro)
    response.record(action=url("/recording"), method="POST", max_length=settings.VOICE_VOICEMAIL_MAX_SECONDS,
                    play_beep=True, transcribe=True, transcribe_callback=url("/transcription"), finish_on_key="#")
    say(response, "We did not receive a message. Goodbye.")
    response.hangup()
    return response


def goodbye(text: str) -> VoiceResponse:
    response = VoiceResponse()
    say(response, text)
    response.hangup()
    return response


def connect_agent(endpoint: str, *, caller_id: str, agent_id: int, call_sid: str) -> VoiceResponse:
    """The caller's leg, taken off hold: ring the agent who picked it up."""
    response = VoiceResponse()
    say(response, "Connecting you now.")
    dial = response.dial(caller_id=caller_id or None, timeout=20, action=url("/dial-result", agent=agent_id),
                         method="POST")
    answered = url("/agent-answered", agent=agent_id, call=call_sid)
    if endpoint.startswith("client:"):
        dial.client(endpoint.removeprefix("client:"), url=answered, method="POST")
    else:
        dial.number(endpoint, url=answered, method="POST")
    return response


def empty() -> VoiceResponse:
    return VoiceResponse()
