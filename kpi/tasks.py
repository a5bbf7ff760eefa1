"""Celery keeps the KPI facts in step with the timeline and pushes the
wallboards."""

import logging

from celery import shared_task

log = logging.getLogger(__name__)


@shared_task
def refresh() -> int:
    """Roll up the patients with new events, then push each watched
    wallboard that changed. One run at a time, across workers."""
    from django.core.cache import cache

    from kpi import rollup

    if not cache.add(rollup.LOCK, 1, timeout=120):
        return 0  # the last run, or a rebuild, is still going
    try:
        refreshed = rollup.roll_up()
        push_wallboards()
        return refreshed
    finally:
        cache.delete(rollup.LOCK)


def push_wallboards() -> None:
    from django.core.cache import cache

    from hub.lib.events import broadcast
    from hub.models import Practice
    from kpi import live

    for practice_id in Practice.objects.values_list("pk", flat=True):
        if not cache.get(live.watchers_key(practice_id)):
            continue  # nobody is looking
        data = live.snapshot(practice_id)
        mark = live.fingerprint(data)
        key = f"wallboard-last:{practice_id}"
        if cache.get(key) == mark:
            continue
        cache.set(key, mark, timeout=300)
        broadcast(live.wallboard_group(practice_id), {"type": "wallboard.update", "data": data})
