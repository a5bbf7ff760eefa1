"""The widget's requests, in the hub's terms: what the consumer and the
upload view call. Synchronous; the consumer runs these in a thread."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.db import transaction

from hub.actions import attachments, contacts, outbound
from hub.actions.ingest import InboundEvent, IngestResult, ingest
from hub.lib import fastsql
from hub.lib import phone as phones
from hub.lib.event_types import patient_event_out, patient_visible
from hub.models import AgentProfile, ContactPoint, Conversation, Event, Practice, Topic

MAX_MESSAGE = 2000
MAX_NAME = 60


class Refused(ValueError):
    def __init__(self, code: str, detail: str):
        super().__init__(detail)
        self.code, self.detail = code, detail


@dataclass(frozen=True)
class Visitor:
    practice_id: int
    visitor_id: str
    patient_id: int


def mark_alive(patient_id: int) -> None:
    """A widget of this visitor is connected (on connect and every ping:
    the widget pings every 20 seconds)."""
    cache.set(f"widget-alive:{patient_id}", 1, timeout=settings.WIDGET_ALIVE_SECONDS)


def still_here(patient_id: int) -> bool:
    return cache.get(f"widget-alive:{patient_id}") is not None


def practice_for_key(key: str) -> Practice | None:
    if not isinstance(key, str) or not key.startswith("pk_") or len(key) > 64:
        return None
    return Practice.objects.filter(widget_key=key).first()


def origin_allowed(practice: Practice, origin: str | None, own_origin: str) -> bool:
    """The practice's listed origins, and the hub's own (its demo page)."""
    if not origin:
        return False
    allowed = {o.rstrip("/").lower() for o in practice.allowed_origins or []} | {own_origin.rstrip("/").lower()}
    return origin.rstrip("/").lower() in allowed


def visitor_for(practice_id: int, visitor_id: str) -> Visitor | None:
    contact = (ContactPoint.objects.filter(practice_id=practice_id, kind=ContactPoint.Kind.WEB, address=visitor_id)
               .values_list("patient_id", flat=True).first())
    return Visitor(practice_id, visitor_id, contact) if contact else None


def start(practice_id: int, *, name: str, phone: str = "", sms_consent: bool = False) -> tuple[Visitor, dict]:
    name = (name or "").strip()
    if not name or len(name) > MAX_NAME:
        raise Refused("bad_name", "Please tell us your first name.")
    normalized = ""
    if phone and sms_consent:
        region = Practice.objects.values_list("phone_region", flat=True).get(pk=practice_id)
        try:
            normalized = phones.normalize(phone, region)
        except phones.InvalidPhoneNumber:
            raise Refused("bad_phone", "That mobile number does not look right.") from None
    registered = contacts.register_web_visitor(practice_id, first_name=name, phone=normalized,
                                               sms_consent=sms_consent and bool(normalized))
    visitor = Visitor(practice_id, registered.visitor_id, registered.patient.pk)
    return visitor, {"sms_linked": registered.phone_linked}


def send(visitor: Visitor, *, client_id: str, body: str, topic: str = "") -> IngestResult:
    body = body if isinstance(body, str) else ""
    if not body.strip():
        raise Refused("empty", "Type a message first.")
    if len(body) > MAX_MESSAGE:
        raise Refused("too_long", f"Messages can be at most {MAX_MESSAGE} characters.")
    if not isinstance(client_id, str) or not 8 <= len(client_id) <= 64:
        raise Refused("bad_id", "Each message needs an id.")
    return ingest(InboundEvent(
        practice_id=visitor.practice_id, channel="web", provider_id=f"{visitor.visitor_id}:{client_id}",
        contact_kind=ContactPoint.Kind.WEB, contact_address=visitor.visitor_id, body=body,
        topic_slug=topic if isinstance(topic, str) and len(topic) <= 64 else "",
    ))


def upload(visitor: Visitor, *, client_id: str, content, filename: str, declared: str, caption: str = ""):
    """A file from the widget (bytes, or an uploaded file read in chunks),
    checked and stored with its message."""
    with transaction.atomic():
        result = ingest(InboundEvent(
            practice_id=visitor.practice_id, channel="web", provider_id=f"{visitor.visitor_id}:{client_id}",
            contact_kind=ContactPoint.Kind.WEB, contact_address=visitor.visitor_id, body=caption[:MAX_MESSAGE],
        ))
        if result.created:
            try:
                attachments.store(result.event, content, filename=filename, declared=declared)
            except attachments.Rejected as exc:
                raise Refused("bad_file", f"That file cannot be sent: {exc}.") from None
            attachments.refresh_event(result.event.pk)
    return result


def history(visitor: Visitor, *, conversation_id: int | None = None, after_seq: int = 0, limit: int = 200) -> dict:
    """The visitor's current conversation: the part after their cursor when
    it is the same conversation, else all of it (up to `limit`)."""
    conversation = fastsql.one(("webchat.current_conversation",), lambda p: Conversation.objects.filter(
        patient_id=p[0]).order_by("-created_at", "-pk")[:1], [visitor.patient_id])
    if conversation is None:
        return {"conversation_id": None, "events": [], "agent_read_seq": 0}
    if conversation.pk == conversation_id and conversation.last_event_seq <= after_seq:
        # Nothing since the cursor (the usual answer to a ping).
        return {"conversation_id": conversation.pk, "events": [], "agent_read_seq": conversation.agent_read_seq}
    events = Event.objects.filter(conversation=conversation, kind=Event.Kind.MESSAGE,
                                  direction__in=[Event.Direction.IN, Event.Direction.OUT]).select_related("author")
    if conversation.pk == conversation_id:
        events = events.filter(seq__gt=after_seq)
    rows = list(events.order_by("-seq")[:limit])
    return {"conversation_id": conversation.pk,
            "events": [patient_event_out(e).model_dump(mode="json") for e in reversed(rows) if patient_visible(e)],
            "agent_read_seq": conversation.agent_read_seq}


def ping(visitor: Visitor, *, conversation_id: int | None, after_seq: int) -> dict:
    """A widget's ping: the visitor is still here, and what their socket
    missed on their conversation since its cursor (`history`)."""
    mark_alive(visitor.patient_id)
    return history(visitor, conversation_id=conversation_id, after_seq=after_seq)


def visible_between(visitor: Visitor, conversation_id: int, after: int, upto: int) -> list[dict]:
    rows = (Event.objects.filter(conversation_id=conversation_id, conversation__patient_id=visitor.patient_id,
                                 seq__gt=after, seq__lte=upto, kind=Event.Kind.MESSAGE,
                                 direction__in=[Event.Direction.IN, Event.Direction.OUT])
            .select_related("author").order_by("seq"))
    return [patient_event_out(e).model_dump(mode="json") for e in rows if patient_visible(e)]


def mark_read(visitor: Visitor, conversation_id: int, upto_seq: int) -> int:
    """The widget showed the practice's replies up to `upto_seq`."""
    ids = list(Event.objects.filter(conversation_id=conversation_id, conversation__patient_id=visitor.patient_id,
                                    direction=Event.Direction.OUT, channel="web", seq__lte=upto_seq)
               .exclude(delivery_status__in=["read", "failed"]).values_list("provider_id", "pk"))
    for _, pk in ids:
        outbound.mark_read(pk)
    return len(ids)


def availability(practice_id: int) -> dict:
    """Is anyone there? The widget says so honestly and says when to expect
    an answer."""
    available = AgentProfile.objects.in_practice(practice_id).filter(
        presence=AgentProfile.Presence.AVAILABLE, role__in=[AgentProfile.Role.AGENT, AgentProfile.Role.SUPERVISOR],
    ).exists()
    practice = Practice.objects.only("chat_reply_expectation", "chat_offline_expectation").get(pk=practice_id)
    return {"agents_available": available,
            "expected_reply": practice.chat_reply_expectation if available else practice.chat_offline_expectation}


def topics(practice_id: int) -> list[dict]:
    return [{"slug": t.slug, "name": t.name} for t in Topic.objects.in_practice(practice_id).order_by("position", "name")]


def sms_number(visitor: Visitor) -> str | None:
    """The visitor's own mobile number, if they gave one with consent."""
    return (ContactPoint.objects.filter(patient_id=visitor.patient_id, kind=ContactPoint.Kind.PHONE,
                                        sms_opted_out=False).values_list("address", flat=True).first())


def masked_sms_number(visitor: Visitor) -> str | None:
    number = sms_number(visitor)
    return phones.masked(number) if number else None


def continue_by_sms(visitor: Visitor) -> dict:
    """The visitor leaves the website but wants their answer by text: the
    same conversation continues over SMS, starting with a text from the
    practice they can reply to."""
    number = sms_number(visitor)
    if number is None:
        raise Refused("no_sms", "Add a mobile number and agree to texts to continue by SMS.")
    conversation = (Conversation.objects.filter(patient_id=visitor.patient_id)
                    .exclude(status=Conversation.Status.RESOLVED).first())
    if conversation is None:
        raise Refused("no_conversation", "Send us your message first.")
    practice = Practice.objects.values_list("name", flat=True).get(pk=visitor.practice_id)
    first_name = conversation.patient.first_name if conversation.patient_id else ""
    body = (f"Hi {first_name}, this is {practice}. We'll continue your chat here by text: "
            "reply to this message any time.")
    with transaction.atomic():
        Conversation.objects.filter(pk=conversation.pk).update(channel="sms")
        event = outbound.send_automatic(conversation.pk, body, channel="sms", reason="sms_handoff")
    if event is None:
        raise Refused("no_sms", "We can't text that number.")
    return {"masked_number": phones.masked(number)}
