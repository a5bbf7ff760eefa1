"""Celery tasks. They take ids, never model instances, and do their work
through actions."""

import random

from celery import shared_task

from hub.actions import attachments, outbound


@shared_task(bind=True, max_retries=None, acks_late=True)
def deliver_event(self, event_id: int) -> None:
    try:
        outbound.deliver(event_id)
    except outbound.RetryLater as later:
        if self.request.is_eager:
            # Eager mode (tests, scripts) would retry at once, in a loop; the
            # message stays pending and the sweep hands it over again.
            return
        # Jitter spreads retries after a provider outage.
        raise self.retry(countdown=later.countdown * random.uniform(1.0, 1.2))


@shared_task
def sweep_outbound() -> int:
    stalled = outbound.stalled_deliveries()
    for event_id in stalled:
        deliver_event.delay(event_id)
    outbound.expire_delivery_reports()
    return len(stalled)


@shared_task(bind=True, max_retries=5, acks_late=True)
def fetch_attachment(self, attachment_id: int) -> None:
    from channels_app.base import AdapterError

    try:
        attachments.fetch(attachment_id)
    except AdapterError as exc:
        if self.request.is_eager:
            return
        raise self.retry(countdown=min(300, 10 * 2 ** self.request.retries), exc=exc)


@shared_task
def check_presence(user_id: int) -> None:
    from hub.actions import presence

    presence.offline_if_gone(user_id)


@shared_task
def sweep_presence() -> int:
    """Offline for people whose console sockets died with their server
    process (no disconnect ran to schedule check_presence)."""
    from hub.actions import presence

    return presence.sweep_gone()


@shared_task
def wake_snoozed() -> int:
    from hub.actions import conversations

    return conversations.wake_due()


@shared_task(acks_late=True)
def fire_sla(clock_id: int) -> str | None:
    """Fire one clock if it is due. The sweep fires every clock; this task
    only serves ETA tasks that earlier versions left in a broker."""
    from hub.actions import sla

    return sla.fire(clock_id)


@shared_task
def sweep_sla() -> int:
    """Fire every SLA warning and breach that is due, soonest first. One
    sweep at a time, across workers; beat sends one every SLA_SWEEP_SECONDS."""
    from django.core.cache import cache

    from hub.actions import sla

    if not cache.add("sweep-sla-running", 1, timeout=60):
        return 0
    try:
        return sum(1 for clock_id in sla.due() if sla.fire(clock_id, skip_locked=True))
    finally:
        cache.delete("sweep-sla-running")


@shared_task(acks_late=True)
def expire_offer(offer_id: int) -> bool:
    from hub.actions import assignment

    return assignment.expire(offer_id)


@shared_task(acks_late=True)
def offer_conversation(conversation_id: int) -> None:
    from hub.actions import assignment

    assignment.offer_next(conversation_id)


@shared_task(acks_late=True)
def offer_backlog(user_id: int) -> int:
    from hub.actions import assignment

    return assignment.offer_backlog(user_id)


@shared_task
def sweep_offers() -> int:
    """Expire offers whose time is up and offer what waits unoffered."""
    from hub.actions import assignment

    expired = sum(1 for offer_id in assignment.due_offers() if assignment.expire(offer_id))
    assignment.offer_waiting()
    return expired


@shared_task(acks_late=True)
def after_hours_reply(conversation_id: int, channel: str) -> bool:
    from hub.actions import after_hours

    return after_hours.reply_if_closed(conversation_id, channel)


@shared_task(bind=True, max_retries=5, acks_late=True)
def take_call(self, call_id: int, agent_user_id: int) -> None:
    """Ring the agent who picked up a holding caller."""
    from channels_app.base import AdapterError
    from channels_app.registry import get_adapter
    from hub.models import Call

    call = Call.objects.filter(pk=call_id, status=Call.Status.QUEUED).first()
    if call is None:
        return
    try:
        get_adapter("voice").take_call(call, agent_user_id)
    except AdapterError as exc:
        if exc.permanent or self.request.is_eager:
            return
        raise self.retry(countdown=2, exc=exc)
