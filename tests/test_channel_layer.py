"""The hub's channel layer (hub.lib.channel_layer) against a real Redis:
channels_redis's behaviour, in fewer round trips, and the same messages on
the wire, so a process on either class reads what the other sent."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from channels.exceptions import ChannelFull
from channels_redis.core import RedisChannelLayer as StockLayer
from django.conf import settings

from hub.lib.channel_layer import RedisChannelLayer

pytestmark = pytest.mark.asyncio

# The group send builds messages in its script; a per-channel capacity
# pattern makes it take the two-round-trip path that builds them in Python.
BOTH_PATHS = pytest.mark.parametrize("path", [{}, {"channel_capacity": {"never-matched.*": 5}}],
                                     ids=["one round trip", "two round trips"])


def _config(**config):
    """The hub's layer settings on a prefix of the test's own; layers built
    from one config share it, as the hub's processes do."""
    return {**settings.CHANNEL_LAYERS["default"]["CONFIG"], "prefix": f"layertest-{uuid.uuid4().hex[:8]}", **config}


async def _receive(layer, channel):
    return await asyncio.wait_for(layer.receive(channel), 5)


@BOTH_PATHS
async def test_group_send_reaches_every_member_in_every_process_once(path):
    config = _config(**path)
    one, two = RedisChannelLayer(**config), RedisChannelLayer(**config)
    a1, a2, b1 = await one.new_channel(), await one.new_channel(), await two.new_channel()
    for channel in (a1, a2, b1):
        await one.group_add("dept.1", channel)
    await one.group_send("dept.1", {"type": "stream.batch", "n": 1})
    await two.group_send("dept.1", {"type": "stream.batch", "n": 2})
    for layer, channel in ((one, a1), (one, a2), (two, b1)):
        assert [(await _receive(layer, channel))["n"] for _ in range(2)] == [1, 2]
    # Nothing more: each member had each message once.
    for layer, channel in ((one, a1), (two, b1)):
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(layer.receive(channel), 0.3)
    await one.flush()


async def test_a_group_with_no_members_is_a_no_op():
    layer = RedisChannelLayer(**_config())
    await layer.group_send("nobody", {"type": "x"})
    await layer.flush()


@BOTH_PATHS
async def test_what_it_sends_a_stock_channels_redis_process_reads_and_back(path):
    config = _config(**path)
    ours, stock = RedisChannelLayer(**config), StockLayer(**config)
    on_stock, on_ours = await stock.new_channel(), await ours.new_channel()
    await ours.group_add("g", on_stock)
    await ours.group_add("g", on_ours)
    # A big map (a 16-bit header), text beyond ASCII, bytes, nesting.
    message = {"type": "hello", "body": "to both ☃", "raw": b"\x00\xff", "nested": {"a": [1, None, 2.5]},
               **{f"k{i}": i for i in range(20)}}
    await ours.group_send("g", message)
    assert await _receive(stock, on_stock) == message
    assert await _receive(ours, on_ours) == message
    await stock.send(on_ours, {"type": "direct", "body": "from stock"})
    await ours.send(on_stock, {"type": "direct", "body": "from ours"})
    assert (await _receive(ours, on_ours))["body"] == "from stock"
    assert (await _receive(stock, on_stock))["body"] == "from ours"
    await ours.flush()


async def test_a_full_channel_refuses_a_send_and_a_group_send_skips_it():
    layer = RedisChannelLayer(**_config(capacity=2))
    channel = await layer.new_channel()
    general = f"general.{uuid.uuid4().hex}"
    await layer.send(general, {"type": "one"})
    await layer.send(general, {"type": "two"})
    with pytest.raises(ChannelFull):
        await layer.send(general, {"type": "three"})
    await layer.group_add("g", channel)
    for n in range(3):
        await layer.group_send("g", {"type": "m", "n": n})
    assert [(await _receive(layer, channel))["n"] for _ in range(2)] == [0, 1]
    with pytest.raises(asyncio.TimeoutError):
        await asyncio.wait_for(layer.receive(channel), 0.3)
    assert [(await _receive(layer, general))["type"] for _ in range(2)] == ["one", "two"]
    await layer.flush()


async def test_a_backlog_reaches_its_sockets_in_order_a_batch_per_round_trip():
    """What waits for a process's sockets is taken up to RECEIVE_BATCH at a
    time (channels_redis takes one message per four round trips, and under
    load the process's set filled up and dropped sends)."""
    from hub.lib import channel_layer

    config = _config()
    sender, receiver = RedisChannelLayer(**config), RedisChannelLayer(**config)
    sockets = [await receiver.new_channel() for _ in range(3)]
    for channel in sockets:
        await sender.group_add("dept.9", channel)
    for n in range(150):
        await sender.group_send("dept.9", {"type": "stream.batch", "n": n})
        await sender.send(sockets[n % 3], {"type": "direct", "n": n})
    trips = 0
    script = receiver._script

    async def counted(*args):
        nonlocal trips
        trips += 1
        return await script(*args)

    receiver._script = counted
    got = {channel: [] for channel in sockets}
    for channel in sockets:
        while len(got[channel]) < 200:
            got[channel].append(await _receive(receiver, channel))
    for i, channel in enumerate(sockets):
        assert [m["n"] for m in got[channel] if m["type"] == "stream.batch"] == list(range(150))
        assert [m["n"] for m in got[channel] if m["type"] == "direct"] == list(range(i, 150, 3))
    # 300 messages in Redis (150 group sends, 150 direct), 600 deliveries.
    assert trips <= 300 // channel_layer.RECEIVE_BATCH + 2
    with pytest.raises(asyncio.TimeoutError):
        await asyncio.wait_for(receiver.receive(sockets[0]), 0.3)
    await sender.flush()


async def test_a_batch_taken_but_not_handed_on_is_put_back_first():
    """A receive cancelled while its batch was on the way (the socket that
    was receiving for the process went away) leaves the batch in the
    backup; the next receive puts it back in front, in order."""
    from hub.lib import channel_layer

    layer = RedisChannelLayer(**_config())
    channel = await layer.new_channel()
    for n in range(5):
        await layer.send(channel, {"type": "m", "n": n})
    key = layer.prefix + layer.non_local_name(channel)
    # As a cancelled call leaves it: three taken into the backup, not handed on.
    taken = await layer._script(channel_layer._RECEIVE_SCRIPT, layer.connection(layer.consistent_hash(channel)),
                                [key, layer._backup_channel_name(key)], ["drop", 3])
    assert len(taken) == 6
    layer._handed_on[key] = False
    assert [(await _receive(layer, channel))["n"] for _ in range(5)] == [0, 1, 2, 3, 4]
    with pytest.raises(asyncio.TimeoutError):
        await asyncio.wait_for(layer.receive(channel), 0.3)
    await layer.flush()
