"""Typed schemas of everything the hub publishes on its realtime streams and
returns from its REST API. Every stream message type is listed in
STREAM_TYPES; a test checks each published message against it."""

import re
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict


class EventOut(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: int
    conversation_id: int
    patient_id: int
    seq: int
    kind: str
    channel: str
    direction: str
    body: str
    data: dict[str, Any]
    author_id: int | None
    author_name: str | None
    created_at: datetime
    delivery_status: str
    delivery_error: str
    # True once the practice's retention policy removed the event's content
    # (body and content keys of data); its kind, times and people remain.
    purged: bool = False


class ConversationOut(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: int
    patient_id: int
    patient_name: str
    status: str
    department_id: int
    department_name: str
    assignee_id: int | None
    assignee_name: str | None
    topic_id: int | None
    topic_name: str | None
    priority: int
    urgent: bool
    channel: str
    disposition: str
    created_at: datetime
    waiting_since: datetime | None
    first_response_at: datetime | None
    last_activity_at: datetime
    snoozed_until: datetime | None
    resolved_at: datetime | None
    last_event_seq: int
    routing_reason: str
    needs_callback: bool
    sla_kind: str
    sla_state: str
    sla_deadline: datetime | None


class PresenceOut(BaseModel):
    model_config = ConfigDict(extra="forbid")

    user_id: int
    name: str
    presence: str
    changed_at: datetime | None


class PatientEventOut(BaseModel):
    """What a patient sees of a timeline event in the chat widget: their
    messages and the practice's replies, never notes or internal lines."""

    model_config = ConfigDict(extra="forbid")

    id: int
    conversation_id: int
    seq: int
    direction: Literal["in", "out"]
    channel: str
    body: str
    created_at: datetime
    agent_name: str | None
    attachments: list[dict[str, Any]]
    status: str


def patient_visible(event) -> bool:
    """What a patient's chat widget shows: messages both ways, not what the
    practice's retention policy has since removed (an empty bubble says
    nothing to a patient)."""
    return (event.kind == "message" and event.direction in ("in", "out")
            and not (event.data or {}).get("purged_at"))


def patient_event_out(event) -> PatientEventOut:
    agent = None
    if event.direction == "out" and event.author_id:
        # First name only: the patient knows who answers, not their account.
        full = _event_author_name(event) or ""
        agent = full.split(" ")[0] or None
    return PatientEventOut(
        id=event.pk, conversation_id=event.conversation_id, seq=event.seq, direction=event.direction,
        channel=event.channel, body=event.body, created_at=event.created_at, agent_name=agent,
        attachments=[{"content_type": a.get("content_type", ""), "filename": a.get("filename", ""),
                      "status": a.get("status", "")} for a in (event.data or {}).get("attachments", [])],
        status=event.delivery_status or "delivered",
    )


class AlertOut(BaseModel):
    """Something supervisors should see now: an urgent symptom, an SLA
    about to be missed or missed."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["urgent", "sla_warning", "sla_breach"]
    conversation_id: int
    patient_name: str
    department_id: int
    department_name: str
    text: str
    created_at: datetime


class OfferOut(BaseModel):
    """A conversation offered to one agent by automatic assignment."""

    model_config = ConfigDict(extra="forbid")

    id: int
    conversation_id: int
    patient_name: str
    department_name: str
    channel: str
    status: str
    expires_at: datetime


STREAM_TYPES: dict[str, type[BaseModel]] = {
    "event.created": EventOut,
    "event.updated": EventOut,
    "conversation.updated": ConversationOut,
    "presence.updated": PresenceOut,
    "alert.created": AlertOut,
    "offer.updated": OfferOut,
}


class StreamMessage(BaseModel):
    """What a console client receives for every sequenced event."""

    model_config = ConfigDict(extra="forbid")

    type: Literal["event.created", "event.updated", "conversation.updated", "presence.updated", "alert.created",
                  "offer.updated"]
    stream: str
    seq: int
    payload: dict[str, Any]


def _author_name(user) -> str | None:
    if user is None:
        return None
    return user.get_full_name() or user.get_username()


def _event_author_name(event) -> str | None:
    if event.author_id is None:
        return None
    if "author" in event._state.fields_cache:
        return _author_name(event.author)
    from hub.lib import directory

    return directory.staff_name(event.practice_id, event.author_id)


# Automatic messages whose digits staff must not read: a one-time code sent
# to the patient to prove who they are (hub.ehr.actions.send_code).
SECRET_AUTOMATIC = frozenset({"verification_code"})


def _staff_body(event) -> str:
    if (event.data or {}).get("automatic") in SECRET_AUTOMATIC:
        return re.sub(r"\d", "•", event.body)
    return event.body


def event_out(event) -> EventOut:
    return EventOut(
        id=event.pk,
        conversation_id=event.conversation_id,
        patient_id=event.patient_id,
        seq=event.seq,
        kind=event.kind,
        channel=event.channel,
        direction=event.direction,
        body=_staff_body(event),
        data=event.data,
        author_id=event.author_id,
        author_name=_event_author_name(event),
        created_at=event.created_at,
        delivery_status=event.delivery_status,
        delivery_error=event.delivery_error,
        purged="purged_at" in (event.data or {}),  # hub.retention.purge.PURGED_AT
    )


def conversation_out(conversation) -> ConversationOut:
    from hub.lib import directory

    practice_id = conversation.practice_id
    return ConversationOut(
        id=conversation.pk,
        patient_id=conversation.patient_id,
        patient_name=conversation.patient.display_name,
        status=conversation.status,
        department_id=conversation.department_id,
        department_name=directory.department_name(practice_id, conversation.department_id),
        assignee_id=conversation.assignee_id,
        assignee_name=directory.staff_name(practice_id, conversation.assignee_id),
        topic_id=conversation.topic_id,
        topic_name=directory.topic_name(practice_id, conversation.topic_id),
        priority=conversation.priority,
        urgent=conversation.urgent,
        channel=conversation.channel,
        disposition=conversation.disposition,
        created_at=conversation.created_at,
        waiting_since=conversation.waiting_since,
        first_response_at=conversation.first_response_at,
        last_activity_at=conversation.last_activity_at,
        snoozed_until=conversation.snoozed_until,
        resolved_at=conversation.resolved_at,
        last_event_seq=conversation.last_event_seq,
        routing_reason=conversation.routing_reason,
        needs_callback=conversation.needs_callback,
        sla_kind=conversation.sla_kind,
        sla_state=conversation.sla_state,
        sla_deadline=conversation.sla_deadline,
    )
