"""Appending to a conversation's timeline. Callers hold the conversation's row
lock (select_for_update), which is what makes `seq` gapless and unique."""

from hub.lib import clock, fastsql
from hub.lib.event_types import conversation_out, event_out
from hub.lib.events import conversation_streams, publish, publish_to_patient
from hub.models import Conversation, Event


def append(conversation: Conversation, *, kind: str, channel: str, direction: str, body: str = "",
           data: dict | None = None, author=None, provider_id: str | None = None,
           delivery_status: str = "", at=None, pk: int | None = None) -> Event:
    conversation.last_event_seq += 1
    return fastsql.insert(Event(
        pk=pk,
        practice_id=conversation.practice_id,
        conversation=conversation,
        patient_id=conversation.patient_id,
        seq=conversation.last_event_seq,
        kind=kind,
        channel=channel,
        direction=direction,
        body=body,
        data=data or {},
        author=author,
        provider_id=provider_id,
        delivery_status=delivery_status,
        created_at=at or clock.now(),
    ))


def system_notice(conversation: Conversation, kind: str, body: str, *, author=None, data: dict | None = None, at=None) -> Event:
    """An internal line on the timeline: assignment, transfer, status change."""
    return append(conversation, kind=kind, channel="internal", direction=Event.Direction.INTERNAL,
                  body=body, author=author, data=data, at=at)


# What the queue and the thread header show. A change to any of these is
# published as conversation.updated; last_activity_at and last_event_seq
# follow from each event.created, so an event alone publishes no snapshot
# (every delivered message costs CPU on every console that follows it).
QUEUE_FIELDS = ("status", "department_id", "assignee_id", "topic_id", "priority", "urgent", "channel",
                "disposition", "waiting_since", "first_response_at", "snoozed_until", "resolved_at",
                "routing_reason", "sla_kind", "sla_state", "sla_deadline", "needs_callback")


def queue_state(conversation: Conversation) -> tuple:
    return tuple(getattr(conversation, f) for f in QUEUE_FIELDS)


def publish_changes(conversation: Conversation, events: list[Event], *, before: tuple | None = None,
                    left_department_id: int | None = None, also: list | None = None) -> None:
    """Publish new timeline events and, unless `before` (its queue_state
    when the action started) shows nothing visible changed, the
    conversation's new state: after commit, to everyone who follows it (and
    to the department it just left)."""
    streams = conversation_streams(
        conversation, also_departments=(left_department_id,) if left_department_id else ()
    )
    messages = [(streams, "event.created", event_out(e)) for e in events]
    if before is None or before != queue_state(conversation):
        messages.append((streams, "conversation.updated", conversation_out(conversation)))
    messages += also or []  # more (streams, type, payload) for the same transaction, e.g. an alert
    publish(*messages, department_id=conversation.department_id)
    if conversation.patient.web_chat:
        publish_to_patient(conversation.patient_id, events)
