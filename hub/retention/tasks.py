"""The daily purge (CELERY_BEAT_SCHEDULE["retention-purge"])."""

import logging

from celery import shared_task

from hub.lib import clock

log = logging.getLogger(__name__)


@shared_task(acks_late=True)
def purge_expired() -> dict[str, str]:
    """Purge every practice by its own policy. One practice failing does not
    stop the others; its run is recorded as failed and retried tomorrow."""
    from hub.models import Practice
    from hub.retention.purge import purge_practice

    outcome = {}
    now = clock.now()
    for practice in Practice.objects.order_by("pk"):
        try:
            run = purge_practice(practice, now, trigger="schedule")
        except Exception:  # recorded on the run; logged there without patient data
            outcome[practice.slug] = "failed"
            continue
        outcome[practice.slug] = run.status
    return outcome
