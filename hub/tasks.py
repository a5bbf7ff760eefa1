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
def wake_snoozed() -> int:
    from hub.actions import conversations

    return conversations.wake_due()
