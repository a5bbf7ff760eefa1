"""Phone calls on the patient's timeline.

What the caller does (rings, holds, hangs up, leaves a voicemail) enters
through the one ingest path, like a text. What happens to the call on the
practice's side (the menu choice routes it, an agent answers, it ends) is
appended here, under the conversation's row lock. The Call row holds the
state; its status only moves forward.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from django.db import transaction

from hub.actions import assignment, outbound, sla, timeline
from hub.actions.ingest import InboundAttachment, InboundEvent, ingest
from hub.lib import clock, directory, fastsql
from hub.models import Call, ContactPoint, Conversation, Department, Event

log = logging.getLogger(__name__)
S = Call.Status
RANK = {S.RINGING: 0, S.IN_MENU: 1, S.QUEUED: 2, S.VOICEMAIL: 3, S.IN_PROGRESS: 3, S.COMPLETED: 9,
        S.ABANDONED: 9, S.MISSED: 9, S.FAILED: 9}
TEXT_BACK = "Sorry we missed your call - reply here and we'll help."


def minutes(seconds: float | None) -> str:
    seconds = int(seconds or 0)
    return f"{seconds // 60}:{seconds % 60:02d}"


def _advance(call: Call, status: str) -> bool:
    if RANK[status] <= RANK[call.status] and not (call.status == S.QUEUED and status == S.QUEUED):
        return False
    call.status = status
    return True


WITHHELD = "withheld"


def _contact(call_sid: str, number: str) -> tuple[str, str]:
    """A caller's contact point. A withheld number is nobody's: each such
    call stands alone rather than merging strangers into one patient."""
    if number == WITHHELD:
        return ContactPoint.Kind.EXTERNAL, f"withheld-call:{call_sid}"
    return ContactPoint.Kind.PHONE, number


def _call_event(practice_id: int, call_sid: str, phone: str, identity: str, body: str, data: dict,
                attachments: tuple = ()) -> Conversation:
    """Something the caller did, through the one ingest path; each identity once."""
    kind, address = _contact(call_sid, phone)
    result = ingest(InboundEvent(
        practice_id=practice_id, channel="voice", provider_id=f"{call_sid}:{identity}",
        contact_kind=kind, contact_address=address, kind=Event.Kind.CALL, body=body,
        data={"call_sid": call_sid, **data}, attachments=attachments,
    ))
    return result.conversation


def _locked(call_sid: str) -> tuple[Call, Conversation] | tuple[None, None]:
    """The call and its conversation, locked (every call webhook after the
    first: the SQL is compiled once, hub.lib.fastsql.objects)."""
    call = fastsql.one(("calls.locked_call",), lambda p: Call.objects.select_for_update(no_key=True)
                       .filter(call_sid=p[0]).order_by("pk")[:1], [call_sid])
    if call is None:
        return None, None
    conversation = fastsql.one(("calls.locked_conversation",), lambda p: Conversation.objects.select_for_update(
        no_key=True, of=("self",)).select_related("patient").filter(pk=p[0])[:1], [call.conversation_id])
    return call, conversation


def _line(conversation: Conversation, body: str, data: dict, *, author=None) -> Event:
    return timeline.system_notice(conversation, Event.Kind.CALL, body, author=author, data=data)


def _already(conversation: Conversation, call_sid: str, phase: str, **match) -> bool:
    """Was this step of this call already written (Twilio retried the webhook)?"""
    return Event.objects.filter(conversation=conversation, kind=Event.Kind.CALL, data__call_sid=call_sid,
                                data__phase=phase, **{f"data__{k}": v for k, v in match.items()}).exists()


# --- the caller -----------------------------------------------------------------


def incoming(practice_id: int, *, call_sid: str, from_: str, to: str) -> Call:
    """A call rings: on the patient's thread at once, even if they hang up in the menu."""
    conversation = _call_event(practice_id, call_sid, from_, "start", "Incoming call",
                               {"phase": "started", "to": to})
    call, _ = Call.objects.get_or_create(call_sid=call_sid, defaults=dict(
        practice_id=practice_id, conversation=conversation, from_number=from_, to_number=to,
        status=S.IN_MENU, started_at=clock.now()))
    return call


def menu_choice(call_sid: str, department: Department, how: str) -> Call | None:
    """The caller chose a department: that is the call's routing decision."""
    with transaction.atomic():
        call, conversation = _locked(call_sid)
        if call is None:
            return None
        if _already(conversation, call_sid, "menu"):
            return call
        call.department = department
        call.menu_attempts += 1
        call.save(update_fields=["department", "menu_attempts"])
        before = timeline.queue_state(conversation)
        text = f"Caller chose {department.name} ({how})"
        old_department = conversation.department_id
        if conversation.assignee_id is None and department.pk != conversation.department_id:
            conversation.department = department
            conversation.routing_reason = f"Phone menu choice: {department.name} ({how})"[:200]
        event = _line(conversation, text, {"call_sid": call_sid, "phase": "menu", "department_id": department.pk,
                                           "moved": conversation.department_id == department.pk})
        conversation.save()
        timeline.publish_changes(conversation, [event], before=before, left_department_id=old_department)
    return call


def enqueued(call_sid: str, *, queue_name: str) -> Call | None:
    """The caller is on hold in a department's queue: work in that queue."""
    call = Call.objects.filter(call_sid=call_sid).first()
    if call is None:
        return None
    department = directory.department_name(call.practice_id, call.department_id) if call.department_id else "the"
    _call_event(call.practice_id, call_sid, call.from_number, "queued", f"On hold in the {department} queue",
                {"phase": "queued", "queue": queue_name})
    with transaction.atomic():
        call, _ = _locked(call_sid)
        if _advance(call, S.QUEUED) and call.enqueued_at is None:
            call.enqueued_at, call.queue_name = clock.now(), queue_name
        call.save()
    return call


def waiting(call_sid: str, *, queue_sid: str) -> None:
    """The wait URL is called while the caller holds; it names the queue."""
    if queue_sid:
        Call.objects.filter(call_sid=call_sid, queue_sid="").update(queue_sid=queue_sid)


def set_leave_intent(call_sid: str, intent: str) -> None:
    Call.objects.filter(call_sid=call_sid).update(leave_intent=intent)


@dataclass(frozen=True)
class LeftQueue:
    call: Call
    outcome: str  # bridged, abandoned, voicemail, callback, other


def left_queue(call_sid: str, *, result: str, queue_seconds: int) -> LeftQueue | None:
    """Twilio's <Enqueue action> callback: how the caller left the queue."""
    call = Call.objects.filter(call_sid=call_sid).first()
    if call is None:
        return None
    if result in ("bridged", "bridging-in-process", "redirected"):
        outcome = "bridged"
    elif result == "hangup":
        outcome = "abandoned"
    elif result == "leave":
        outcome = call.leave_intent or "voicemail"
    else:
        outcome = "other"
    data = {"phase": {"bridged": "dequeued", "abandoned": "abandoned"}.get(outcome, outcome),
            "queue_seconds": queue_seconds, "queue_result": result}
    body = {
        "bridged": f"Left the queue after {minutes(queue_seconds)} on hold: connecting",
        "abandoned": f"Hung up after {minutes(queue_seconds)} on hold",
        "voicemail": f"Chose to leave a voicemail after {minutes(queue_seconds)} on hold",
        "callback": f"Asked for a call-back after {minutes(queue_seconds)} on hold",
    }.get(outcome, f"Left the queue ({result}) after {minutes(queue_seconds)}")
    _call_event(call.practice_id, call_sid, call.from_number, "left-queue", body, data)
    with transaction.atomic():
        call, conversation = _locked(call_sid)
        if call.dequeued_at is None:
            call.dequeued_at, call.queue_seconds = clock.now(), queue_seconds
        if outcome == "abandoned":
            _advance(call, S.ABANDONED)
        elif outcome == "voicemail":
            _advance(call, S.VOICEMAIL)
        call.save()
        # A hang-up within seconds is a misdial, not a patient to call back.
        if outcome == "callback" or (outcome == "abandoned" and not short_abandon(queue_seconds)):
            _needs_callback(conversation, text_back=outcome == "abandoned" and call.from_number != WITHHELD)
    return LeftQueue(call, outcome)


def voicemail(call_sid: str, *, recording_sid: str, recording_url: str, duration: int) -> Call | None:
    """A voicemail: on the thread with its recording, as work in the queue."""
    call = Call.objects.filter(call_sid=call_sid).first()
    if call is None:
        return None
    _call_event(call.practice_id, call_sid, call.from_number, f"voicemail:{recording_sid}",
                f"Voicemail ({minutes(duration)})",
                {"phase": "voicemail", "recording_sid": recording_sid, "duration_seconds": duration},
                attachments=(InboundAttachment(url=recording_url + ".wav", content_type="audio/wav"),))
    with transaction.atomic():
        call, conversation = _locked(call_sid)
        _advance(call, S.VOICEMAIL)
        call.recording_sid = recording_sid
        call.save()
        _needs_callback(conversation, text_back=False)
    return call


def transcript(call_sid: str, *, recording_sid: str, text: str) -> None:
    """The voicemail's transcript: on the thread, and through the red-flag check."""
    call = Call.objects.filter(call_sid=call_sid).first()
    if call is None or not text:
        return
    _call_event(call.practice_id, call_sid, call.from_number, f"transcript:{recording_sid}",
                f"Voicemail transcript: {text}", {"phase": "transcript", "recording_sid": recording_sid,
                                                   "transcript": text})


def _needs_callback(conversation: Conversation, *, text_back: bool) -> None:
    """A missed call, a hang-up on hold, a voicemail: someone should call back.
    Where the number can take texts, say so by text too."""
    before = timeline.queue_state(conversation)
    conversation.needs_callback = True
    if conversation.assignee_id is None:
        conversation.status = Conversation.Status.QUEUED
    if conversation.waiting_since is None:
        conversation.waiting_since = clock.now()
    conversation.save()
    timeline.publish_changes(conversation, [], before=before)
    conversation_id = conversation.pk
    if conversation.status == Conversation.Status.QUEUED:
        transaction.on_commit(lambda: assignment.offer_next_later(conversation_id))
    if text_back and not Event.objects.filter(patient_id=conversation.patient_id, data__automatic="missed_call",
                                              created_at__gte=clock.now() - timedelta(hours=12)).exists():
        transaction.on_commit(lambda: outbound.send_automatic(conversation_id, TEXT_BACK, channel="sms",
                                                              reason="missed_call"))


# --- the practice -----------------------------------------------------------------


def queued_call(conversation_id: int) -> Call | None:
    return Call.objects.filter(conversation_id=conversation_id, status=S.QUEUED).order_by("-started_at").first()


def short_abandon(seconds: int) -> bool:
    from django.conf import settings

    return seconds < settings.SHORT_ABANDON_SECONDS


def answered(call_sid: str, agent_id: int) -> Call | None:
    """The agent's phone picked up: the caller is talking to them."""
    with transaction.atomic():
        call, conversation = _locked(call_sid)
        if call is None or call.answered_at is not None:
            return call
        _advance(call, S.IN_PROGRESS)
        call.answered_by_id, call.answered_at = agent_id, clock.now()
        call.save()
        before = timeline.queue_state(conversation)
        name = directory.staff_name(call.practice_id, agent_id)
        hold = f" after {minutes(call.queue_seconds)} on hold" if call.queue_seconds is not None else ""
        event = _line(conversation, f"Answered by {name}{hold}",
                      {"call_sid": call_sid, "phase": "answered", "agent_id": agent_id,
                       "queue_seconds": call.queue_seconds})
        if conversation.first_response_at is None:
            conversation.first_response_at = call.answered_at
        conversation.waiting_since = None
        conversation.needs_callback = False
        sla.stop(conversation, (sla.Kind.FIRST_RESPONSE, sla.Kind.NEXT_RESPONSE), met=True)
        sla.sync(conversation)
        conversation.save()
        timeline.publish_changes(conversation, [event], before=before)
    return call


def agent_missed(call_sid: str, agent_id: int, status: str) -> None:
    """The agent's phone did not answer: the caller goes back on hold."""
    with transaction.atomic():
        call, conversation = _locked(call_sid)
        if call is None:
            return
        name = directory.staff_name(call.practice_id, agent_id)
        event = _line(conversation, f"{name}'s phone did not answer ({status}); back on hold",
                      {"call_sid": call_sid, "phase": "agent_missed", "agent_id": agent_id})
        call.dequeued_at = None
        call.save(update_fields=["dequeued_at"])
        conversation.save(update_fields=["last_event_seq"])
        timeline.publish_changes(conversation, [event], before=timeline.queue_state(conversation))


def status_changed(call_sid: str, *, status: str, duration: int | None) -> Call | None:
    """Twilio's call status callback. Only a final status changes anything:
    the end of the call, with talk time, or a call nobody answered."""
    if status not in ("completed", "busy", "no-answer", "failed", "canceled"):
        return Call.objects.filter(call_sid=call_sid).first()
    with transaction.atomic():
        call, conversation = _locked(call_sid)
        if call is None or call.ended_at is not None:
            return call
        now = clock.now()
        call.ended_at, call.duration_seconds = now, duration
        events = []
        if call.answered_at is not None:
            call.talk_seconds = max(0, int((now - call.answered_at).total_seconds()))
            _advance(call, S.COMPLETED)
            text = f"Call ended: {minutes(call.talk_seconds)} talk time"
            if call.queue_seconds is not None:
                text += f", {minutes(call.queue_seconds)} on hold"
        elif call.status in (S.ABANDONED, S.VOICEMAIL):
            _advance(call, S.COMPLETED if call.status == S.VOICEMAIL else S.ABANDONED)
            text = "Call ended"
        elif status in ("failed",):
            _advance(call, S.FAILED)
            text = "Call failed"
        else:
            # Hung up in the menu, or before anyone could answer.
            _advance(call, S.MISSED)
            text = "Missed call"
            _needs_callback(conversation, text_back=call.from_number != WITHHELD)
        events.append(_line(conversation, text, {
            "call_sid": call_sid, "phase": "ended", "call_status": call.status, "duration_seconds": duration,
            "talk_seconds": call.talk_seconds, "queue_seconds": call.queue_seconds}))
        call.save()
        conversation.save(update_fields=["last_event_seq"])
        timeline.publish_changes(conversation, events, before=timeline.queue_state(conversation))
    return call
