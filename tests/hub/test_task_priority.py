"""What a patient or an agent waits for is taken from the broker first."""

import json

import redis
from django.conf import settings

from hub.lib.redis_conf import broker_lists
from hub.tasks import deliver_event, fetch_attachment, sweep_offers, sweep_sla, take_call
from tests.processes import broker_queue


def _waiting(client, key):
    return [json.loads(raw)["headers"]["task"] for raw in reversed(client.lrange(key, 0, -1))]


def test_deliveries_wait_in_the_list_a_worker_empties_first():
    client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    with broker_queue() as queue:
        try:
            sweep_sla.delay()
            sweep_offers.delay()
            deliver_event.delay(1)
            fetch_attachment.delay(1)
            take_call.delay(1, 1)
            # Celery's Redis transport: one list per priority step; a worker's
            # BRPOP names the step-0 list first, so it is emptied first.
            assert _waiting(client, queue) == ["hub.tasks.deliver_event", "hub.tasks.fetch_attachment",
                                               "hub.tasks.take_call"]
            assert _waiting(client, f"{queue}\x06\x166") == ["hub.tasks.sweep_sla", "hub.tasks.sweep_offers"]
        finally:
            client.delete(*broker_lists(queue))
