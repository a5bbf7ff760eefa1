"""Messages to patients: recorded as pending by `send_message`, handed to the
channel's adapter by the `deliver_event` task, at most once."""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.db import transaction

from channels_app.base import AdapterError, SendResult
from channels_app.registry import UnknownChannel, get_adapter
from hub.actions import assignment, sla, timeline
from hub.actions.errors import Conflict, InvalidInput, NotDeliverable, NotFound
from hub.lib import access, audit, clock, fastsql
from hub.lib.delivery import RANK, can_advance
from hub.lib.event_types import event_out
from hub.lib.events import conversation_streams, publish
from hub.models import Conversation, DeliveryReport, Event

log = logging.getLogger(__name__)


def attempt_lease() -> timedelta:
    """An attempt younger than this may still be in flight in another
    worker: nobody reconciles or resends it until the lease runs out."""
    return timedelta(seconds=settings.OUTBOUND_ATTEMPT_LEASE_SECONDS)


class RetryLater(Exception):
    def __init__(self, countdown: float):
        super().__init__(f"retry in {countdown:.0f}s")
        self.countdown = countdown


def _enqueue_delivery(event_id: int) -> None:
    from hub.tasks import deliver_event

    try:
        deliver_event.delay(event_id)
    except Exception:
        # The event stays pending; the periodic sweep hands it over later.
        log.warning("could not enqueue delivery of event %s; the sweep will retry", event_id, exc_info=True)


def check_message(adapter, body: str) -> str:
    if not isinstance(body, str) or not body.strip():
        raise InvalidInput("The message is empty.", code="empty")
    if len(body) > adapter.max_body_length:
        raise InvalidInput(
            f"{adapter.label} messages can be at most {adapter.max_body_length} characters.", code="too_long"
        )
    return body


def send_message(viewer: access.Viewer, conversation_id: int, body: str, *, channel: str | None = None,
                 via: str = "console", ip: str | None = None) -> Event:
    """An agent's reply, on the conversation's channel unless another is chosen."""
    with transaction.atomic():
        try:
            conversation = access.get_conversation(viewer, conversation_id, for_update=True)
        except access.NotVisible:
            raise NotFound("No such conversation.") from None
        channel = channel or conversation.channel
        if channel == "voice":
            channel = "sms"  # a caller is answered by text; calls back are made by phone
        try:
            adapter = get_adapter(channel)
        except UnknownChannel:
            raise InvalidInput(f"There is no {channel!r} channel.", code="unknown_channel") from None
        check_message(adapter, body)
        recipient = adapter.recipient(conversation)  # raises NotDeliverable with the reason
        now = clock.now()
        events = []
        if conversation.status == Conversation.Status.RESOLVED:
            if Conversation.objects.filter(patient_id=conversation.patient_id).exclude(
                    status=Conversation.Status.RESOLVED).exists():
                raise Conflict("This patient has a newer open conversation; reply there.", code="newer_open")
            conversation.resolved_at = None
            conversation.disposition = ""
            events.append(timeline.system_notice(conversation, Event.Kind.STATUS, "Reopened by a reply",
                                                 author=viewer.user, at=now,
                                                 data={"action": "reopened", "by": "reply"}))
        if conversation.status in (Conversation.Status.RESOLVED, Conversation.Status.QUEUED):
            # Answering a waiting conversation takes it.
            conversation.status = Conversation.Status.ASSIGNED
            conversation.assignee = viewer.user
            events.append(timeline.system_notice(conversation, Event.Kind.ASSIGNMENT,
                                                 f"Taken by {viewer.display_name}", author=viewer.user, at=now,
                                                 data={"action": "taken", "assignee_id": viewer.user_id}))
        event = timeline.append(
            conversation, kind=Event.Kind.MESSAGE, channel=channel, direction=Event.Direction.OUT, body=body,
            data={"to": recipient}, author=viewer.user, delivery_status=Event.Delivery.PENDING, at=now,
        )
        events.append(event)
        if conversation.first_response_at is None:
            conversation.first_response_at = now
        conversation.waiting_since = None
        conversation.needs_callback = False
        conversation.last_activity_at = now
        # Answered: the response clocks are met, and the resolution clock
        # waits for the patient.
        sla.stop(conversation, (sla.Kind.FIRST_RESPONSE, sla.Kind.NEXT_RESPONSE), met=True, now=now)
        sla.pause(conversation, (sla.Kind.RESOLUTION,), now=now)
        sla.sync(conversation)
        conversation.save()
        timeline.publish_changes(conversation, events)
        assignment.withdraw_for(conversation.pk)
        audit.record(user_id=viewer.user_id, practice_id=viewer.practice_id, action="message.sent",
                     obj=event, via=via, ip=ip, detail={"conversation": conversation.pk, "channel": channel})
        transaction.on_commit(lambda: _enqueue_delivery(event.pk))
    return event


def send_automatic(conversation_id: int, body: str, *, channel: str, reason: str) -> Event | None:
    """A message the hub sends by itself (the HELP answer, a safety reply):
    recorded, published and delivered like an agent's, with no author.
    Returns None, sending nothing, when the channel cannot reach the patient."""
    adapter = get_adapter(channel)
    with transaction.atomic():
        conversation = (Conversation.objects.select_for_update(no_key=True, of=("self",)).select_related("patient")
                        .get(pk=conversation_id))
        try:
            recipient = adapter.recipient(conversation)
        except NotDeliverable:
            return None
        before = timeline.queue_state(conversation)
        event = timeline.append(
            conversation, kind=Event.Kind.MESSAGE, channel=channel, direction=Event.Direction.OUT,
            body=body[: adapter.max_body_length], data={"to": recipient, "automatic": reason},
            delivery_status=Event.Delivery.PENDING,
        )
        conversation.save(update_fields=["last_event_seq"])
        timeline.publish_changes(conversation, [event], before=before)
        transaction.on_commit(lambda: _enqueue_delivery(event.pk))
    return event


def add_note(viewer: access.Viewer, conversation_id: int, body: str, *, via: str = "console",
             ip: str | None = None) -> Event:
    """An internal note: on the timeline for staff, never sent to the patient."""
    if not isinstance(body, str) or not body.strip():
        raise InvalidInput("The note is empty.", code="empty")
    if len(body) > 20_000:
        raise InvalidInput("Notes can be at most 20000 characters.", code="too_long")
    with transaction.atomic():
        try:
            conversation = access.get_conversation(viewer, conversation_id, for_update=True)
        except access.NotVisible:
            raise NotFound("No such conversation.") from None
        before = timeline.queue_state(conversation)
        event = timeline.append(conversation, kind=Event.Kind.NOTE, channel="internal",
                                direction=Event.Direction.INTERNAL, body=body, author=viewer.user)
        conversation.save(update_fields=["last_event_seq"])
        timeline.publish_changes(conversation, [event], before=before)
        audit.record(user_id=viewer.user_id, practice_id=viewer.practice_id, action="note.added",
                     obj=event, via=via, ip=ip, detail={"conversation": conversation.pk})
    return event


def _locked_event(event_id: int) -> Event | None:
    """The outbound message, locked, with its conversation and author (three
    times per delivery: its SQL is compiled once, hub.lib.fastsql.objects)."""
    def build(params):
        pk, direction, kind = params
        return (Event.objects.select_for_update(no_key=True, of=("self",)).select_related("conversation", "author")
                .filter(pk=pk).filter(direction=direction).filter(kind=kind)[:1])

    return fastsql.one(("outbound.locked_event",), build, [event_id, Event.Direction.OUT, Event.Kind.MESSAGE])


def deliver(event_id: int) -> None:
    """Hand a pending outbound message to its channel, at most once.

    The attempt is recorded and committed before the provider is called. If a
    worker dies after that, the next run finds the attempt and asks the
    provider what happened (`reconcile`) instead of sending again. Raises
    RetryLater when a transient failure should be retried.
    """
    with transaction.atomic():
        event = _locked_event(event_id)
        if event is None or event.delivery_status != Event.Delivery.PENDING:
            return
        adapter = get_adapter(event.channel)
        now = clock.now()
        if event.delivery_attempted_at is not None:
            lease = attempt_lease()
            if now - event.delivery_attempted_at < lease:
                # Another worker may be talking to the provider right now.
                raise RetryLater((event.delivery_attempted_at + lease - now).total_seconds() + 1)
            try:
                found = adapter.reconcile(event)
            except AdapterError as exc:
                raise RetryLater(exc.retry_after or 30) from exc
            if found is not None:
                _apply(event, found)
                return
        if event.delivery_attempts >= settings.OUTBOUND_MAX_ATTEMPTS:
            _fail(event, "Gave up after repeated delivery failures.", "gave_up")
            return
        event.delivery_attempted_at = now
        event.delivery_attempts += 1
        event.save(update_fields=["delivery_attempted_at", "delivery_attempts", "updated_at"])

    # Committed: the attempt is on record before the provider hears of it.
    try:
        result = adapter.send(event)
    except AdapterError as exc:
        with transaction.atomic():
            event = _locked_event(event_id)
            if event is None or event.delivery_status != Event.Delivery.PENDING:
                return
            if exc.permanent:
                _fail(event, exc.message, exc.code)
                return
            if not exc.maybe_sent:
                # The provider certainly did not take it: the next try may
                # send without reconciling first.
                event.delivery_attempted_at = None
                event.save(update_fields=["delivery_attempted_at", "updated_at"])
        raise RetryLater(exc.retry_after or backoff(event.delivery_attempts)) from exc
    except NotDeliverable as exc:
        with transaction.atomic():
            event = _locked_event(event_id)
            if event is not None and event.delivery_status == Event.Delivery.PENDING:
                _fail(event, exc.message, exc.code)
        return
    with transaction.atomic():
        event = _locked_event(event_id)
        if event is not None:
            _apply(event, result)


def backoff(attempts: int) -> float:
    return min(300.0, 5.0 * 2 ** max(0, attempts - 1))


def _publish_event_update(event: Event) -> None:
    publish((conversation_streams(event.conversation), "event.updated", event_out(event)),
            department_id=event.conversation.department_id)


def _apply(event: Event, result: SendResult) -> None:
    fields = ["updated_at"]
    if result.provider_id and not event.provider_id:
        event.provider_id = result.provider_id
        fields.append("provider_id")
    if can_advance(event.delivery_status, result.status):
        event.delivery_status = result.status
        fields.append("delivery_status")
    if event.provider_id:
        fields += _apply_early_reports(event)
    event.save(update_fields=list(dict.fromkeys(fields)))
    _publish_event_update(event)


def _apply_early_reports(event: Event) -> list[str]:
    """Status reports that arrived before the provider id was stored."""
    reports = list(DeliveryReport.objects.filter(channel=event.channel, provider_id=event.provider_id))
    fields = []
    for report in sorted(reports, key=lambda r: RANK.get(r.status, -1)):
        if can_advance(event.delivery_status, report.status):
            event.delivery_status = report.status
            fields.append("delivery_status")
            if report.error or report.error_code:
                event.delivery_error, event.delivery_error_code = report.error, report.error_code
                fields += ["delivery_error", "delivery_error_code"]
    if reports:
        DeliveryReport.objects.filter(pk__in=[r.pk for r in reports]).delete()
    return fields


def _fail(event: Event, reason: str, code: str) -> None:
    event.delivery_status = Event.Delivery.FAILED
    event.delivery_error = reason[:300]
    event.delivery_error_code = code[:32]
    event.save(update_fields=["delivery_status", "delivery_error", "delivery_error_code", "updated_at"])
    _publish_event_update(event)


def update_delivery_status(*, practice_id: int | None, channel: str, provider_id: str, status: str,
                           error_code: str = "", error: str = "") -> Event | None:
    """A provider's status report (e.g. a Twilio status callback). Moves the
    status forward only; stale and repeated reports change nothing. Without
    a practice (a report that does not say which number sent it) the
    provider's id, unique across its accounts, finds the message."""
    with transaction.atomic():
        qs = Event.objects.select_for_update(no_key=True, of=("self",)).select_related("conversation", "author")
        if practice_id is not None:
            qs = qs.in_practice(practice_id)
        event = qs.filter(channel=channel, provider_id=provider_id, direction=Event.Direction.OUT).first()
        if event is None:
            # Perhaps the worker that sent it has not stored the id yet:
            # keep the report for it (see DeliveryReport).
            DeliveryReport.objects.bulk_create(
                [DeliveryReport(channel=channel, provider_id=provider_id, status=status, error_code=error_code[:32],
                                error=error[:300], received_at=clock.now())],
                ignore_conflicts=True,
            )
            return None
        if not can_advance(event.delivery_status, status):
            return event
        event.delivery_status = status
        fields = ["delivery_status", "updated_at"]
        if error_code or error:
            event.delivery_error = error[:300]
            event.delivery_error_code = error_code[:32]
            fields += ["delivery_error", "delivery_error_code"]
        event.save(update_fields=fields)
        _publish_event_update(event)
    return event


def stalled_deliveries(limit: int = 500) -> list[int]:
    """Pending messages whose task was lost (broker down at commit, worker
    killed): never attempted after a grace period, or attempted and past the
    lease."""
    now = clock.now()
    pending = Event.objects.filter(delivery_status=Event.Delivery.PENDING, direction=Event.Direction.OUT)
    never = pending.filter(delivery_attempted_at__isnull=True, created_at__lt=now - timedelta(seconds=30))
    stale = pending.filter(delivery_attempted_at__lt=now - attempt_lease())
    return list(never.values_list("pk", flat=True)[:limit]) + list(stale.values_list("pk", flat=True)[:limit])


def expire_delivery_reports(older_than: timedelta = timedelta(days=1)) -> int:
    """Reports about messages the hub never sent (or lost) do not wait forever."""
    return DeliveryReport.objects.filter(received_at__lt=clock.now() - older_than).delete()[0]


def mark_read(event_id: int) -> None:
    """The patient has seen a reply (the chat widget says so)."""
    with transaction.atomic():
        event = _locked_event(event_id)
        if event is None or not can_advance(event.delivery_status, Event.Delivery.READ):
            return
        event.delivery_status = Event.Delivery.READ
        event.save(update_fields=["delivery_status", "updated_at"])
        _publish_event_update(event)
