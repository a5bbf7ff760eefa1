"""The patient's side of web chat: /ws/widget/<practice key>/.

A visitor starts (pre-chat form) or resumes (visitor token) and then
exchanges messages. Every message goes through the one ingest path; the
widget hears the practice's replies through its patient group, and a
reconnecting widget is replayed from the Event table by sequence. See
docs/protocol.md.
"""

from __future__ import annotations

import logging
import time

from django.conf import settings

from channels_app.webchat import service, tokens
from hub.lib import audit, ratelimit
from hub.lib.events import group_for, patient_group, practice_visitors_group
from hub.lib.ws import CLOSE_FORBIDDEN, CLOSE_PROTOCOL, CLOSE_RATE_LIMITED, CLOSE_UNAUTHENTICATED, HubSocket, db, origin_of

log = logging.getLogger(__name__)

CLOSE_UNKNOWN_PRACTICE = 4404

# Limits a person typing never meets and a script always does (per minute;
# settings.WIDGET_LIMITS can raise them, e.g. for a clinic behind one NAT).
CONNECTS_PER_IP = (settings.WIDGET_LIMITS["connects_per_ip"], 60)
MESSAGES_PER_VISITOR = (settings.WIDGET_LIMITS["messages_per_visitor"], 60)
MESSAGES_PER_IP = (settings.WIDGET_LIMITS["messages_per_ip"], 60)
TYPING_EVERY = 3.0  # seconds between typing notices passed on


def _ip(scope) -> str:
    return audit.client_ip(scope) or "unknown"


class VisitorConsumer(HubSocket):
    visitor: service.Visitor | None = None

    async def connect(self):
        self.visitor = None
        self.current_id = None
        self.practice = None
        self.sent: dict[int, int] = {}  # conversation id -> last seq sent
        self.last_typing = 0.0
        key = self.scope["url_route"]["kwargs"]["key"]
        self.practice = await db(service.practice_for_key)(key)
        await self.accept()
        if self.practice is None:
            await self.close(code=CLOSE_UNKNOWN_PRACTICE, reason="unknown practice")
            return
        origin = origin_of(self.scope)
        origin_text = f"{origin.scheme}://{origin.netloc}" if origin and origin.netloc else None
        if not service.origin_allowed(self.practice, origin_text, settings.PUBLIC_BASE_URL):
            await self.close(code=CLOSE_FORBIDDEN, reason="origin not allowed")
            return
        allowed, retry = await db(ratelimit.hit)(f"ws-ip:{_ip(self.scope)}", *CONNECTS_PER_IP)
        if not allowed:
            await self.close(code=CLOSE_RATE_LIMITED, reason=f"too many connections, retry in {retry}s")
            return

    async def disconnect(self, code):
        if self.visitor is not None:
            await db(_watch_for_leaving)(self.visitor.patient_id)
            for group in (patient_group(self.visitor.patient_id), practice_visitors_group(self.practice.pk)):
                try:
                    await self.channel_layer.group_discard(group, self.channel_name)
                except Exception:
                    pass  # membership expires by itself

    async def receive(self, text_data=None, bytes_data=None, **kwargs):
        if text_data is None or len(text_data) > 16_000:
            await self.close(code=CLOSE_PROTOCOL, reason="text messages of at most 16 KB")
            return
        try:
            content = await self.decode_json(text_data)
        except ValueError:
            await self.send_json({"type": "error", "code": "bad_json", "detail": "Messages are JSON objects."})
            return
        if not isinstance(content, dict):
            await self.send_json({"type": "error", "code": "bad_json", "detail": "Messages are JSON objects."})
            return
        handler = {"start": self._start, "resume": self._resume, "message": self._message, "typing": self._typing,
                   "read": self._read, "ping": self._ping, "continue_by_sms": self._continue_by_sms,
                   }.get(content.get("type"))
        if handler is None:
            await self.send_json({"type": "error", "code": "unknown_type", "detail": "Unknown message type."})
            return
        if handler not in (self._start, self._resume, self._ping) and self.visitor is None:
            await self.send_json({"type": "error", "code": "not_started", "detail": "Start or resume first."})
            return
        try:
            await handler(content)
        except service.Refused as refused:
            await self.send_json({"type": "error", "code": refused.code, "detail": refused.detail,
                                  "id": content.get("id")})

    # --- starting ---------------------------------------------------------------

    async def _join_groups(self) -> None:
        await self.channel_layer.group_add(patient_group(self.visitor.patient_id), self.channel_name)
        await self.channel_layer.group_add(practice_visitors_group(self.practice.pk), self.channel_name)

    async def _welcome(self, token: str, extra: dict) -> None:
        await self._join_groups()
        await db(service.mark_alive)(self.visitor.patient_id)
        availability = await db(service.availability)(self.practice.pk)
        sms = await db(service.masked_sms_number)(self.visitor)
        await self.send_json({"type": "welcome", "token": token, **availability, "sms_number": sms, **extra})

    async def _start(self, content) -> None:
        if self.visitor is not None:
            return
        visitor, extra = await db(service.start)(
            self.practice.pk, name=content.get("name", ""), phone=str(content.get("phone") or ""),
            sms_consent=bool(content.get("sms_consent")))
        self.visitor = visitor
        await self._welcome(tokens.issue(self.practice.pk, visitor.visitor_id), {"conversation_id": None, **extra})

    async def _resume(self, content) -> None:
        visitor_id = tokens.verify(content.get("token"), self.practice.pk)
        visitor = await db(service.visitor_for)(self.practice.pk, visitor_id) if visitor_id else None
        if visitor is None:
            await self.close(code=CLOSE_UNAUTHENTICATED, reason="invalid visitor token")
            return
        self.visitor = visitor
        cursor = content.get("cursor") or {}
        conversation_id = cursor.get("conversation_id") if isinstance(cursor, dict) else None
        after = cursor.get("seq", 0) if isinstance(cursor, dict) else 0
        if not isinstance(conversation_id, int) or not isinstance(after, int) or after < 0:
            conversation_id, after = None, 0
        history = await db(service.history)(visitor, conversation_id=conversation_id,
                                                                 after_seq=after)
        await self._welcome(content["token"], {"conversation_id": history["conversation_id"]})
        if history["conversation_id"] is not None:
            self.sent[history["conversation_id"]] = after if history["conversation_id"] == conversation_id else 0
        await self._deliver(history["events"])
        if history["agent_read_seq"]:
            await self.send_json({"type": "read", "conversation_id": history["conversation_id"],
                                  "seq": history["agent_read_seq"]})

    # --- the visitor's messages -------------------------------------------------

    async def _limited(self) -> bool:
        for key, (limit, window) in ((f"wv:{self.visitor.visitor_id}", MESSAGES_PER_VISITOR),
                                     (f"wip:{_ip(self.scope)}", MESSAGES_PER_IP)):
            allowed, retry = await db(ratelimit.hit)(key, limit, window)
            if not allowed:
                await self.send_json({"type": "error", "code": "rate_limited", "retry_after": retry,
                                      "id": self.current_id,
                                      "detail": f"You're sending messages very fast. Please wait {retry} seconds."})
                return True
        return False

    async def _message(self, content) -> None:
        self.current_id = content.get("id")
        if await self._limited():
            return
        result = await db(service.send)(
            self.visitor, client_id=content.get("id"), body=content.get("body"), topic=content.get("topic", ""))
        await self.send_json({"type": "ack", "id": content.get("id"), "event_id": result.event.pk,
                              "conversation_id": result.conversation.pk, "seq": result.event.seq})

    async def _typing(self, content) -> None:
        now = time.monotonic()
        if now - self.last_typing < TYPING_EVERY:
            return
        self.last_typing = now
        streams = await db(_conversation_streams)(self.visitor.patient_id)
        for stream, conversation_id in streams:
            await self.channel_layer.group_send(group_for(stream), {
                "type": "typing.notice", "conversation_id": conversation_id, "who": "patient"})

    async def _read(self, content) -> None:
        conversation_id, seq = content.get("conversation_id"), content.get("seq")
        if isinstance(conversation_id, int) and isinstance(seq, int):
            await db(service.mark_read)(self.visitor, conversation_id, seq)

    async def _continue_by_sms(self, content) -> None:
        result = await db(service.continue_by_sms)(self.visitor)
        await self.send_json({"type": "sms_handoff", **result})

    async def _ping(self, content) -> None:
        if self.visitor is not None:
            await self._repair()
        await self.send_json({"type": "pong"})

    async def _repair(self) -> None:
        """Group memberships live in Redis: a Redis restart drops them while
        the socket stays open, and the widget would hear nothing more. At
        every ping (widget.js pings every 20 s) join again, say the visitor
        is still here, and send from the database what this socket missed
        meanwhile, as the console's heartbeat does."""
        await self._join_groups()
        current = max(self.sent, default=None)
        history = await db(service.ping)(self.visitor, conversation_id=current, after_seq=self.sent.get(current, 0))
        await self._deliver(history["events"])

    # --- the practice's side ----------------------------------------------------

    async def _deliver(self, events: list[dict]) -> None:
        for event in events:
            last = self.sent.get(event["conversation_id"], 0)
            if event["seq"] <= last:
                continue
            self.sent[event["conversation_id"]] = event["seq"]
            await self.send_json({"type": "event", "event": event})

    async def patient_events(self, message):
        """Visible events after commit. Sequences skip what the patient never
        sees (notes), so a gap is only a reason to look, not proof of loss:
        anything visible in it comes from the database first."""
        for event in message["events"]:
            conversation_id, seq = event["conversation_id"], event["seq"]
            last = self.sent.get(conversation_id)
            if last is not None and seq > last + 1:
                missed = await db(service.visible_between)(self.visitor, conversation_id,
                                                                               last, seq - 1)
                await self._deliver(missed)
            await self._deliver([event])

    async def patient_read(self, message):
        await self.send_json({"type": "read", "conversation_id": message["conversation_id"], "seq": message["seq"]})

    async def availability_changed(self, message):
        await self.send_json({"type": "availability", "agents_available": message["agents_available"],
                              "expected_reply": message["expected_reply"]})

    async def patient_typing(self, message):
        await self.send_json({"type": "typing", "who": "agent", "name": message.get("name")})


def _watch_for_leaving(patient_id: int) -> None:
    """Check back once every widget of theirs would have pinged: gone for
    good, or only reloading the page?"""
    from channels_app.webchat.tasks import check_visitor_left
    from hub.lib import clock

    if settings.CELERY_TASK_ALWAYS_EAGER:
        return  # nothing waits in-process; tests call the check themselves
    try:
        check_visitor_left.apply_async((patient_id, clock.now().isoformat()),
                                       countdown=settings.VISITOR_LEFT_AFTER_SECONDS)
    except Exception:
        log.warning("could not schedule the visitor-left check", exc_info=True)


def _conversation_streams(patient_id: int) -> list[tuple[str, int]]:
    from hub.lib.events import conversation_streams
    from hub.models import Conversation

    conversation = (Conversation.objects.filter(patient_id=patient_id).exclude(status=Conversation.Status.RESOLVED)
                    .first())
    if conversation is None:
        return []
    return [(stream, conversation.pk) for stream in conversation_streams(conversation)]
