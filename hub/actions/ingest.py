"""The one ingest path. Every channel turns its provider's payload into an
`InboundEvent` and calls `ingest`."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from django.db import IntegrityError, connection, transaction

from hub.actions.errors import InvalidInput
from hub.actions import attachments, timeline
from hub.lib import clock, fastsql
from hub.models import ContactPoint, Conversation, Department, Event, Patient, Practice, Topic

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


def check_inbound(inbound: InboundEvent) -> None:
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


def _department_for(practice_id: int, inbound: InboundEvent) -> tuple[int, int | None]:
    """(department id, topic id) for a new conversation."""
    if inbound.topic_slug:
        topic = Topic.objects.in_practice(practice_id).filter(slug=inbound.topic_slug).values_list(
            "department_id", "pk").first()
        if topic is not None:
            return topic
    if inbound.department_slug:
        department_id = Department.objects.in_practice(practice_id).filter(
            slug=inbound.department_slug).values_list("pk", flat=True).first()
        if department_id is not None:
            return department_id, None
    default = Practice.objects.filter(pk=practice_id).values_list("default_department_id", flat=True).first()
    if default is not None:
        return default, None
    department_id = Department.objects.in_practice(practice_id).values_list("pk", flat=True).first()
    if department_id is None:
        # A message is never refused for want of configuration.
        department_id = Department.objects.create(practice_id=practice_id, name="Front desk", slug="front-desk").pk
    return department_id, None


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

    before = timeline.queue_state(conversation) if conversation is not None else None
    notices = []
    if conversation is None:
        conversation = _reopen_recent(practice_id, patient, now)
        if conversation is not None:
            notices.append("Reopened: the patient wrote again")
    if conversation is None:
        department_id, topic_id = _department_for(practice_id, inbound)
        conversation = Conversation(
            practice_id=practice_id, patient=patient, department_id=department_id, topic_id=topic_id,
            status=Conversation.Status.QUEUED, channel=inbound.channel, created_at=now, last_activity_at=now,
        )
    elif conversation.status == Conversation.Status.SNOOZED:
        conversation.status = Conversation.Status.ASSIGNED if conversation.assignee_id else Conversation.Status.QUEUED
        conversation.snoozed_until = None
        notices.append("Woken from snooze: the patient wrote again")
    conversation.patient = patient
    conversation.channel = inbound.channel
    conversation.last_activity_at = now
    if conversation.waiting_since is None:
        conversation.waiting_since = now
    if conversation.pk is None:
        conversation.save()

    events = [timeline.system_notice(conversation, Event.Kind.STATUS, text, at=now) for text in notices]
    # Nothing below reads a result until the stream sequences come back, so
    # on PostgreSQL the three writes share one round trip.
    if inbound.attachments:
        event = timeline.append(
            conversation, kind=inbound.kind, channel=inbound.channel, direction=Event.Direction.IN,
            body=inbound.body, data=dict(inbound.data), provider_id=inbound.provider_id, at=now,
        )
        attachments.attach_pending(event, inbound.attachments)
        events.append(event)
        fastsql.update(conversation, _UPDATED_ON_INBOUND)
        timeline.publish_changes(conversation, events, before=before)
        return IngestResult(event, conversation, created=True)
    with fastsql.pipeline():
        event = timeline.append(
            conversation, kind=inbound.kind, channel=inbound.channel, direction=Event.Direction.IN,
            body=inbound.body, data=dict(inbound.data), provider_id=inbound.provider_id, at=now,
            pk=None if notices else event_id,
        )
        events.append(event)
        fastsql.update(conversation, _UPDATED_ON_INBOUND)
        timeline.publish_changes(conversation, events, before=before)
    return IngestResult(event, conversation, created=True)


def _reopen_recent(practice_id: int, patient: Patient, now: datetime) -> Conversation | None:
    """A patient who writes again shortly after their conversation was
    resolved ("thanks!") continues it rather than starting a new one."""
    window = Practice.objects.filter(pk=practice_id).values_list("reopen_window_minutes", flat=True).first()
    if not window:
        return None
    conversation = (
        Conversation.objects.select_for_update()
        .filter(patient=patient, status=Conversation.Status.RESOLVED, resolved_at__gte=now - timedelta(minutes=window))
        .order_by("-resolved_at")
        .first()
    )
    if conversation is not None:
        conversation.status = Conversation.Status.ASSIGNED if conversation.assignee_id else Conversation.Status.QUEUED
        conversation.resolved_at = None
        conversation.disposition = ""
    return conversation
