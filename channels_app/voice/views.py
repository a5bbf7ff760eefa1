"""Twilio's voice webhooks, under /webhooks/twilio/voice. Each is signed and
idempotent: a retried callback finds its step already written."""

from __future__ import annotations

import logging

from django.http import HttpResponse, HttpResponseBadRequest, HttpResponseForbidden, HttpResponseNotFound

from channels_app.twilio_common import signature
from channels_app.twilio_common.numbers import practice_for
from channels_app.voice import ivr, twiml
from channels_app.voice.twilio_payload import BadPayload, call_info, call_sid, integer, recording
from channels_app.webhooks import provider_webhook
from hub.actions import calls
from hub.models import AgentProfile, Call, Department, PhoneNumber, Practice

log = logging.getLogger("hub.webhooks")


def _xml(response) -> HttpResponse:
    return HttpResponse(str(response), content_type="text/xml")


def voice_webhook(view):
    """Signature first; malformed parameters are a 400 with the reason."""
    @provider_webhook
    def wrapped(request, *args, **kwargs):
        if not signature.valid_request(request):
            return HttpResponseForbidden("invalid Twilio signature")
        try:
            return view(request, *args, **kwargs)
        except BadPayload as exc:
            log.warning("voice webhook refused: %s path=%s", exc, request.path)
            return HttpResponseBadRequest(str(exc))

    wrapped.__name__ = view.__name__
    return wrapped


def _queue_name(practice: Practice, department: Department) -> str:
    return f"{practice.slug}-{department.slug}"[:64]


def _call_practice(sid: str) -> tuple[Call, Practice] | tuple[None, None]:
    call = Call.objects.filter(call_sid=sid).select_related("department").first()
    if call is None:
        return None, None
    return call, Practice.objects.select_related("default_department").get(pk=call.practice_id)


def _to_department(call: Call, practice: Practice, department: Department, intro: str = ""):
    """Into the department's hold queue, or its voicemail when it is closed."""
    if ivr.closed(department.pk):
        return twiml.voicemail(f"{department.name} is closed right now. {ivr.describe_hours(department.pk)} "
                               "Please leave a message after the tone, and we'll call you back.")
    queue = _queue_name(practice, department)
    calls.enqueued(call.call_sid, queue_name=queue)
    return twiml.enqueue(queue, department_name=department.name, intro=intro)


@voice_webhook
def incoming_call(request):
    info = call_info(request.POST)
    practice_id = practice_for(info.to)
    if practice_id is None:
        log.warning("voice webhook refused: the number called belongs to no practice")
        return HttpResponseNotFound("no practice uses this number")
    practice = Practice.objects.select_related("default_department").get(pk=practice_id)
    calls.incoming(practice_id, call_sid=info.call_sid, from_=info.from_, to=info.to)
    front = practice.default_department
    if front is not None and ivr.closed(front.pk):
        response = twiml.voicemail(f"Thank you for calling {practice.name}. {twiml.EMERGENCY} "
                                   f"Our office is closed right now. {ivr.describe_hours(front.pk)} "
                                   "Please leave a message after the tone, and we'll call you back.")
        return _xml(response)
    options = [(digit, dept.name) for digit, dept in ivr.options(practice)]
    return _xml(twiml.menu(practice.name, options, attempt=1, greet=True))


@voice_webhook
def menu_answer(request):
    sid = call_sid(request.POST)
    call, practice = _call_practice(sid)
    if call is None:
        return HttpResponseNotFound("unknown call")
    attempt = integer(request.GET, "attempt", 1)
    chosen = ivr.choose(practice, request.POST.get("Digits", ""), request.POST.get("SpeechResult", ""))
    if chosen is None and attempt < 2:
        # Invalid or silent: the menu once more.
        options = [(digit, dept.name) for digit, dept in ivr.options(practice)]
        response = twiml.menu(practice.name, options, attempt=attempt + 1, greet=False)
        return _xml(response)
    if chosen is None:
        department, how = practice.default_department, "no choice: the front desk"
        intro = "Let me connect you to the front desk."
    else:
        (department, how), intro = chosen, ""
    calls.menu_choice(sid, department, how)
    return _xml(_to_department(call, practice, department, intro))


@voice_webhook
def hold(request):
    """Twilio's wait URL, called again and again while the caller holds."""
    sid = call_sid(request.POST)
    call = Call.objects.filter(call_sid=sid).first()
    calls.waiting(sid, queue_sid=request.POST.get("QueueSid", ""))
    position = integer(request.POST, "QueuePosition", 1)
    estimate = ivr.estimated_wait_minutes(call.department_id if call else None, position)
    if estimate is None and request.POST.get("AvgQueueTime"):
        avg = integer(request.POST, "AvgQueueTime")
        estimate = max(1, round(avg * position / 60)) if avg else None
    return _xml(twiml.wait(position, estimate))


@voice_webhook
def hold_choice(request):
    """A key pressed while holding: 1 voicemail, 2 call-back; anything else keeps holding."""
    sid = call_sid(request.POST)
    digit = request.POST.get("Digits", "")[:1]
    if digit == "1":
        calls.set_leave_intent(sid, "voicemail")
        return _xml(twiml.leave_queue())
    if digit == "2":
        calls.set_leave_intent(sid, "callback")
        return _xml(twiml.leave_queue())
    return _xml(twiml.empty())  # back to the wait URL's music


@voice_webhook
def queue_result(request):
    """Twilio's <Enqueue action>: how the caller left the queue."""
    sid = call_sid(request.POST)
    left = calls.left_queue(sid, result=request.POST.get("QueueResult", ""),
                            queue_seconds=integer(request.POST, "QueueTime"))
    if left is None:
        return HttpResponseNotFound("unknown call")
    if left.outcome == "voicemail":
        return _xml(twiml.voicemail("Please leave your message after the tone. Press the pound key when you are done."))
    if left.outcome == "callback":
        return _xml(twiml.goodbye("Thank you. We'll call you back at this number as soon as we can. Goodbye."))
    return _xml(twiml.empty())


@voice_webhook
def voicemail_recorded(request):
    sid = call_sid(request.POST)
    recording_sid, recording_url, duration = recording(request.POST)
    if duration == 0:
        return _xml(twiml.goodbye("We did not receive a message. Goodbye."))
    calls.voicemail(sid, recording_sid=recording_sid, recording_url=recording_url, duration=duration)
    return _xml(twiml.goodbye("Thank you. We'll call you back as soon as we can. Goodbye."))


@voice_webhook
def voicemail_transcribed(request):
    sid = call_sid(request.POST)
    recording_sid = request.POST.get("RecordingSid", "")
    if request.POST.get("TranscriptionStatus", "completed") != "completed":
        return HttpResponse(status=204)
    calls.transcript(sid, recording_sid=recording_sid, text=request.POST.get("TranscriptionText", "")[:5000])
    return HttpResponse(status=204)


@voice_webhook
def call_status(request):
    sid = call_sid(request.POST)
    status = request.POST.get("CallStatus", "")
    duration = integer(request.POST, "CallDuration") if request.POST.get("CallDuration") else None
    calls.status_changed(sid, status=status, duration=duration)
    return HttpResponse(status=204)


def _agent(request) -> AgentProfile | None:
    try:
        return AgentProfile.objects.select_related("user").filter(user_id=int(request.GET.get("agent", ""))).first()
    except ValueError:
        return None


@voice_webhook
def connect(request):
    """The caller's leg, taken off hold for the agent who picked it up."""
    sid = call_sid(request.POST)
    agent = _agent(request)
    call, practice = _call_practice(sid)
    if agent is None or call is None or not agent.voice_endpoint:
        return _xml(twiml.empty())
    caller_id = (PhoneNumber.objects.in_practice(practice).filter(voice=True).values_list("number", flat=True)
                 .first() or "")
    return _xml(twiml.connect_agent(agent.voice_endpoint, caller_id=caller_id, agent_id=agent.user_id, call_sid=sid))


@voice_webhook
def agent_answered(request):
    """The agent's phone picked up (runs on the agent's leg before bridging)."""
    agent = _agent(request)
    caller_sid = request.GET.get("call", "")
    if agent is not None and Call.objects.filter(call_sid=caller_sid).exists():
        calls.answered(caller_sid, agent.user_id)
    return _xml(twiml.empty())


@voice_webhook
def dial_result(request):
    """The agent's leg ended: the call is over, or back on hold if they never answered."""
    sid = call_sid(request.POST)
    status = request.POST.get("DialCallStatus", "")
    agent = _agent(request)
    call, practice = _call_practice(sid)
    if call is None:
        return _xml(twiml.empty())
    if status in ("completed", "answered"):
        return _xml(twiml.goodbye("Thank you for calling. Goodbye."))
    if agent is not None:
        calls.agent_missed(sid, agent.user_id, status or "no answer")
    department = call.department or practice.default_department
    return _xml(_to_department(call, practice, department, intro="Sorry, please hold a little longer."))
