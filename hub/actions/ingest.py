"""The one ingest path. Every channel turns its provider's payload into an
`InboundEvent` and calls `ingest`."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from django.db import IntegrityError, connection, transaction

from hub.actions.errors import InvalidInput
from hub.actions import after_hours, assignment, attachments, escalation, routing, sla, timeline
from hub.lib import clock, directory, fastsql
from hub.models import ContactPoint, Conversation, Event, Patient

log = logging.getLogger(__name__)

CHANNELS = {"sms", "voice", "web", "api"}
INBOUND_KINDS = {Event.Kind.MESSAGE, Event.Kind.CALL}
MAX_BODY = 20_000
MAX_PROVIDER_ID = 128
MAX_ATTACHMENTS = 10


@dataclass(frozen=True)
class InboundAttachment:
    """A file the provider holds for us (MMS media): fetched after commit."""

    url: str
    content_type: str = ""


@dataclass(frozen=True)
class InboundEvent:
    """What a channel adapter hands the hub: no provider field names."""

    practice_id: int
    channel: str
    provider_id: str
    contact_kind: str
    contact_address: str
    body: str = ""
    kind: str = Event.Kind.MESSAGE
    data: dict[str, Any] = field(default_factory=dict)
    first_name: str = ""
    last_name: str = ""
    department_slug: str = ""
    topic_slug: str = ""
    attachments: tuple[InboundAttachment, ...] = ()


@dataclass(frozen=True)
class IngestResult:
    event: Event
    conversation: Conversation
    created: bool


def _no_nul(value):
    """NUL is no text a person writes, and PostgreSQL stores none (in text
    or JSON): it is dropped from what a patient sent, whichever channel."""
    if isinstance(value, str):
        return value.replace("\x00", "")
    if isinstance(value, dict):
        return {_no_nul(k): _no_nul(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_no_nul(v) for v in value)
    return value


def without_nul(inbound: InboundEvent) -> InboundEvent:
    return replace(inbound, body=_no_nul(inbound.body), first_name=_no_nul(inbound.first_name),
                   last_name=_no_nul(inbound.last_name), data=_no_nul(inbound.data))


def check_inbound(inbound: InboundEvent) -> None:
    for name in ("provider_id", "contact_address", "department_slug", "topic_slug"):
        if "\x00" in (getattr(inbound, name) or ""):
            raise InvalidInput(f"{name} holds a NUL character")
    if inbound.channel not in CHANNELS:
        raise InvalidInput(f"unknown channel {inbound.channel!r}")
    if not inbound.provider_id or len(inbound.provider_id) > MAX_PROVIDER_ID:
        raise InvalidInput(f"provider id must be 1 to {MAX_PROVIDER_ID} characters")
    if inbound.contact_kind not in ContactPoint.Kind.values:
        raise InvalidInput(f"unknown contact kind {inbound.contact_kind!r}")
    if not inbound.contact_address or len(inbound.contact_address) > 200:
        raise InvalidInput("contact address must be 1 to 200 characters")
    if inbound.kind not in INBOUND_KINDS:
        raise InvalidInput(f"inbound events are messages or calls, not {inbound.kind!r}")
    if len(inbound.body) > MAX_BODY:
        raise InvalidInput(f"body is longer than {MAX_BODY} characters")
    if len(inbound.attachments) > MAX_ATTACHMENTS:
        raise InvalidInput(f"at most {MAX_ATTACHMENTS} attachments")


def _existing(inbound: InboundEvent) -> Event | None:
    return (
        Event.objects.select_related("conversation__patient")
        .filter(practice_id=inbound.practice_id, channel=inbound.channel, provider_id=inbound.provider_id)
        .first()
    )


def ingest(inbound: InboundEvent) -> IngestResult:
    """Store an inbound event on its patient's open conversation and publish
    it. Idempotent on (channel, provider id): a second delivery of the same
    provider id changes nothing and returns the same event."""
    inbound = without_nul(inbound)
    check_inbound(inbound)
    for attempt in range(3):
        try:
            with transaction.atomic():
                return _do_ingest(inbound)
        except IntegrityError:
            # The unique index on (practice, channel, provider id) is the
            # idempotency check, so a new event costs no extra lookup. On a
            # repeat the whole transaction is undone and the first event is
            # returned. Otherwise two first contacts from one new number
            # raced to create the patient or the conversation: try again.
            existing = _existing(inbound)
            if existing is not None:
                return IngestResult(existing, existing.conversation, created=False)
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


_UPDATED_ON_INBOUND = ["status", "snoozed_until", "resolved_at", "disposition", "channel", "last_activity_at",
                       "waiting_since", "last_event_seq"]


@cache
def _find_sql(vendor: str) -> str:
    patient_cols = fastsql.select_columns(Patient, "p")
    conversation_cols = fastsql.select_columns(Conversation, "c")
    next_event_id = fastsql.next_id_sql(Event)
    if vendor == "postgresql":
        # A row lock may not sit on the nullable side of an outer join; a
        # lateral subquery takes it all the same. NO KEY UPDATE: the lock
        # serializes appends without blocking inserts that reference the row.
        return (
            f"SELECT {patient_cols}, {conversation_cols}, {next_event_id} FROM hub_contactpoint cp "
            "JOIN hub_patient p ON p.id = cp.patient_id "
            "LEFT JOIN LATERAL (SELECT * FROM hub_conversation WHERE patient_id = cp.patient_id "
            "AND status <> 'resolved' LIMIT 1 FOR NO KEY UPDATE) c ON TRUE "
            "WHERE cp.practice_id = %s AND cp.kind = %s AND cp.address = %s"
        )
    # SQLite takes the database's write lock at BEGIN (transaction_mode
    # IMMEDIATE): nothing else can change the row until commit.
    return (
        f"SELECT {patient_cols}, {conversation_cols}, NULL FROM hub_contactpoint cp "
        "JOIN hub_patient p ON p.id = cp.patient_id "
        "LEFT JOIN hub_conversation c ON c.patient_id = cp.patient_id AND c.status <> 'resolved' "
        "WHERE cp.practice_id = %s AND cp.kind = %s AND cp.address = %s"
    )


def _find(practice_id: int, kind: str, address: str) -> tuple[Patient | None, Conversation | None, int | None]:
    """The patient behind a contact point, their open conversation (row-
    locked) and, on PostgreSQL, the id the new event will take, in one round
    trip: the ingest's hot path (see hub.lib.fastsql). The partial unique
    index guarantees at most one open conversation."""
    with connection.cursor() as cursor:
        cursor.execute(_find_sql(connection.vendor), [practice_id, kind, address])
        row = cursor.fetchone()
    if row is None:
        return None, None, None
    split, end = fastsql.width(Patient), fastsql.width(Patient) + fastsql.width(Conversation)
    return fastsql.from_row(Patient, row[:split]), fastsql.from_row(Conversation, row[split:end]), row[end]


def _do_ingest(inbound: InboundEvent) -> IngestResult:
    now = clock.now()
    practice_id = inbound.practice_id
    patient, conversation, event_id = _find(practice_id, inbound.contact_kind, inbound.contact_address)
    if patient is None:
        patient = Patient.objects.create(practice_id=practice_id, first_name=inbound.first_name,
                                         last_name=inbound.last_name)
        ContactPoint.objects.create(practice_id=practice_id, patient=patient, kind=inbound.contact_kind,
                                    address=inbound.contact_address, last_seen_at=now)
    elif inbound.first_name and not patient.first_name:
        patient.first_name, patient.last_name = inbound.first_name, inbound.last_name or patient.last_name
        patient.save(update_fields=["first_name", "last_name", "updated_at"])
    flags = escalation.flags_in(practice_id, _screened_text(inbound))

    if (conversation is not None and not flags and not inbound.attachments and conversation.waiting_since
            and conversation.status in (Conversation.Status.QUEUED, Conversation.Status.ASSIGNED)):
        # The common case: one more message from a patient who is already
        # waiting. No routing, clock or queue change; nothing below reads a
        # result, so on PostgreSQL the event's insert and the thread's update
        # go with the stream entries and the COMMIT, in one round trip.
        before = timeline.queue_state(conversation)
        conversation.patient = patient
        conversation.channel = inbound.channel
        conversation.last_activity_at = now
        with fastsql.deferred():
            event = timeline.append(
                conversation, kind=inbound.kind, channel=inbound.channel, direction=Event.Direction.IN,
                body=inbound.body, data=dict(inbound.data), provider_id=inbound.provider_id, at=now, pk=event_id,
            )
            fastsql.update(conversation, _UPDATED_ON_INBOUND)
            timeline.publish_changes(conversation, [event], before=before)
        return IngestResult(event, conversation, created=True)
    return _ingest_with_changes(inbound, patient, conversation, flags, now)


def _screened_text(inbound: InboundEvent) -> str:
    """What the red-flag check reads: a message's text, a voicemail's transcript."""
    if inbound.kind == Event.Kind.MESSAGE:
        return inbound.body
    return str(inbound.data.get("transcript", "") or "")


def _ingest_with_changes(inbound: InboundEvent, patient: Patient, conversation: Conversation | None, flags,
                         now: datetime) -> IngestResult:
    """Everything but the common case: a new or reopened conversation,
    routing, SLA clocks, a patient who starts waiting again, snooze, files,
    urgent symptoms."""
    practice_id = inbound.practice_id
    before = timeline.queue_state(conversation) if conversation is not None else None
    notices = []
    is_new = reopened = woken = False
    if conversation is None:
        conversation = _reopen_recent(practice_id, patient, now)
        if conversation is not None:
            reopened = True
            notices.append(("Reopened: the patient wrote again", {"action": "reopened", "by": "patient"}))
    if conversation is None:
        is_new = True
        decision = routing.route(practice_id, channel=inbound.channel, body=_screened_text(inbound),
                                 department_slug=inbound.department_slug, topic_slug=inbound.topic_slug)
        conversation = Conversation(
            practice_id=practice_id, patient=patient, department_id=decision.department_id,
            topic_id=decision.topic_id, routing_reason=decision.reason[:200], status=Conversation.Status.QUEUED,
            channel=inbound.channel, created_at=now, last_activity_at=now,
        )
    elif conversation.status == Conversation.Status.SNOOZED:
        conversation.status = Conversation.Status.ASSIGNED if conversation.assignee_id else Conversation.Status.QUEUED
        conversation.snoozed_until = None
        woken = True
        notices.append(("Woken from snooze: the patient wrote again", {"action": "snooze_ended", "by": "patient"}))
    starts_waiting = conversation.waiting_since is None
    conversation.patient = patient
    conversation.channel = inbound.channel
    conversation.last_activity_at = now
    if starts_waiting:
        conversation.waiting_since = now
    if is_new:
        conversation.save()
        department = directory.department_name(practice_id, conversation.department_id)
        notices.append((f"Routed to {department}: {conversation.routing_reason}",
                        {"action": "routed", "department_id": conversation.department_id,
                         "topic_id": conversation.topic_id}))

    events = [timeline.system_notice(conversation, Event.Kind.STATUS, text, at=now, data=data)
              for text, data in notices]
    event = timeline.append(
        conversation, kind=inbound.kind, channel=inbound.channel, direction=Event.Direction.IN,
        body=inbound.body, data=dict(inbound.data), provider_id=inbound.provider_id, at=now,
    )
    if inbound.attachments:
        attachments.attach_pending(event, inbound.attachments)
    events.append(event)
    # Escalate first: an urgent patient's clocks run on the urgent policy.
    priority_before = conversation.priority
    escalated = escalation.check(conversation, event, flags)
    events += escalated

    if is_new:
        policy = sla.policy_for(practice_id, conversation.department_id, conversation.priority)
        sla.start(conversation, sla.Kind.FIRST_RESPONSE, now, policy=policy, new_conversation=True)
        sla.start(conversation, sla.Kind.RESOLUTION, now, policy=policy, new_conversation=True)
    else:
        if woken:
            sla.resume(conversation, now=now)
        if reopened:
            sla.start(conversation, sla.Kind.RESOLUTION, now)
        if starts_waiting:
            kind = sla.Kind.NEXT_RESPONSE if conversation.first_response_at else sla.Kind.FIRST_RESPONSE
            sla.start(conversation, kind, now)
            sla.resume(conversation, (sla.Kind.RESOLUTION,), now)  # it paused while waiting on the patient
        elif escalated and conversation.priority > priority_before and conversation.waiting_since:
            # Already waiting on an everyday promise: the urgent one runs from now.
            kind = sla.Kind.NEXT_RESPONSE if conversation.first_response_at else sla.Kind.FIRST_RESPONSE
            sla.stop(conversation, (kind,), met=False, now=now)
            sla.start(conversation, kind, now)
    sla.sync(conversation)
    conversation.save()
    timeline.publish_changes(conversation, events, before=before)
    conversation_id = conversation.pk
    if (conversation.status == Conversation.Status.QUEUED
            and directory.assigns_automatically(practice_id, conversation.department_id)):
        transaction.on_commit(lambda: assignment.offer_next_later(conversation_id))
    if ((is_new or starts_waiting) and inbound.channel in after_hours.TEXT_CHANNELS
            and directory.closed_now(practice_id, conversation.department_id, now)):
        transaction.on_commit(lambda: _after_hours_check_later(conversation_id, inbound.channel))
    return IngestResult(event, conversation, created=True)


def _after_hours_check_later(conversation_id: int, channel: str) -> None:
    from hub.tasks import after_hours_reply

    try:
        after_hours_reply.delay(conversation_id, channel)
    except Exception:
        log.warning("could not enqueue the after-hours check", exc_info=True)


def _reopen_recent(practice_id: int, patient: Patient, now: datetime) -> Conversation | None:
    """A patient who writes again shortly after their conversation was
    resolved ("thanks!") continues it rather than starting a new one."""
    window = directory.get(practice_id).reopen_window_minutes
    if not window:
        return None
    conversation = (
        Conversation.objects.select_for_update(no_key=True)
        .filter(patient=patient, status=Conversation.Status.RESOLVED, resolved_at__gte=now - timedelta(minutes=window))
        .order_by("-resolved_at")
        .first()
    )
    if conversation is not None:
        conversation.status = Conversation.Status.ASSIGNED if conversation.assignee_id else Conversation.Status.QUEUED
        conversation.resolved_at = None
        conversation.disposition = ""
    return conversation
