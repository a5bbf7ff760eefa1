"""The console stream across a Redis restart: nothing lost, nothing twice."""

import asyncio
import time

import pytest
from channels.db import database_sync_to_async
from django.conf import settings
from django.test import override_settings

from hub.lib import embedded_redis
from hub.lib.redis_conf import channel_layer_host
from tests.conftest import build_world
from tests.console.helpers import drain, hello, open_socket, receive_until
from tests.factories import inbound

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True)]

create_world = database_sync_to_async(build_world)
ingest_sync = database_sync_to_async(inbound)


@pytest.fixture
def own_redis(tmp_path):
    """A Redis server of the test's own, for the channel layer, that the test may restart."""
    server = embedded_redis.start(data_dir=tmp_path, write_state=False)
    layers = {"default": {**settings.CHANNEL_LAYERS["default"]}}
    layers["default"]["CONFIG"] = {**layers["default"]["CONFIG"], "hosts": [channel_layer_host(server.url)]}
    with override_settings(CHANNEL_LAYERS=layers):
        yield server
    server.stop()


async def test_reconnect_after_a_redis_restart_replays_everything_missed(own_redis):
    world = await create_world()
    stream = f"dept.{world.scheduling.pk}"
    first = await open_socket(world.alice)
    await hello(first)
    await ingest_sync(world.practice, body="before")
    cursor = (await receive_until(first, lambda m: m["seq"] == 3))[-1]["seq"]
    await first.disconnect()

    own_redis.restart()  # every group membership and queued message is gone
    await ingest_sync(world.practice, body="after restart")

    second = await open_socket(world.alice)
    await hello(second, {stream: cursor})
    got = await drain(second, 0.5)
    assert [(m["type"], m["seq"]) for m in got] == [("event.created", 4)]
    assert got[0]["payload"]["body"] == "after restart"
    await second.disconnect()


async def test_events_stored_while_redis_was_down_are_replayed(own_redis):
    world = await create_world()
    stream = f"dept.{world.scheduling.pk}"
    own_redis.stop()
    # Publishing fails after commit; the event is stored all the same.
    result = await ingest_sync(world.practice, body="while redis was down")
    assert result.created
    own_redis.restart()

    communicator = await open_socket(world.alice)
    await hello(communicator, {stream: 0})
    got = await drain(communicator, 0.5)
    assert [m["seq"] for m in got] == [1, 2, 3]
    assert got[1]["payload"]["body"] == "while redis was down"
    await communicator.disconnect()


@pytest.mark.slow
async def test_an_idle_socket_outlives_the_redis_client_read_timeout():
    """redis-py 8 times out blocking reads after 5 s by default, which would
    crash every idle consumer; the layer is configured without a timeout."""
    world = await create_world()
    with override_settings(HEARTBEAT_SECONDS=60):
        communicator = await open_socket(world.alice)
        await hello(communicator)
        started = time.monotonic()
        assert await communicator.receive_nothing(timeout=11)
        assert time.monotonic() - started >= 11
        await ingest_sync(world.practice, body="still here?")
        got = await receive_until(communicator, lambda m: m["type"] == "conversation.updated")
        assert got[1]["payload"]["body"] == "still here?"
        await communicator.disconnect()


assert asyncio
