"""The channel layer: channels_redis's, with each send in one round trip.

channels_redis stores a process's messages in one sorted set per process
(and one per general channel), and a group send writes one message per
process, naming the sockets it is for. Its `group_send` talks to Redis four
times (trim the group, read it, trim the receiving sets, then a Lua script
that adds the messages) and its `send` four times (trim, count, add, set the
expiry). Every realtime event the hub publishes is a group send, so those
round trips are on the path from a stored event to an agent's screen.

Here each is one Lua script, one round trip. For a group send the script
reads the group and builds each process's message itself: the message is
msgpack-encoded once, without its map header, and the script appends the
`__asgi_channel__` list it found for that process (Redis's Lua has
cmsgpack). What lands in Redis is byte for byte what channels_redis would
write, with its random prefix, keys, capacities and expiries, so processes
on either class read each other's messages (tests/test_channel_layer.py).
With a configuration that needs Python per channel (several Redis servers,
per-channel capacities, encryption, another serializer) a group send takes
two round trips: the group read, then one script for every receiver.

Receiving is batched the same way: a process takes up to a hundred of
the messages waiting for its sockets per round trip (`receive_single`),
where channels_redis takes one per four round trips.

The group script reaches sorted sets it does not name in KEYS (it learns
them from the group), which standalone Redis and Sentinel allow and Redis
Cluster does not; channels_redis does not run on Redis Cluster either.
"""

from __future__ import annotations

import collections
import logging
import os
import time

import msgpack

from channels.exceptions import ChannelFull
from channels_redis.core import RedisChannelLayer as StockRedisChannelLayer
from channels_redis.serializers import MsgPackSerializer
from redis.commands.core import AsyncScript
from redis.exceptions import ConnectionError, ResponseError

log = logging.getLogger(__name__)

# channels_redis's way of adding a message to a receiving sorted set: drop
# what expired, refuse when full (1), else add and push back the expiry (0).
_ADD = """
local function add(key, message, capacity, score, cutoff, expiry)
    redis.call('ZREMRANGEBYSCORE', key, 0, cutoff)
    if redis.call('ZCARD', key) >= capacity then
        return 1
    end
    redis.call('ZADD', key, score, message)
    redis.call('EXPIRE', key, expiry)
    return 0
end
"""
# KEYS: the receiving sorted sets. ARGV: one message per key, then one
# capacity per key, then the score (now), the trim cut-off and the expiry.
# Returns how many sets were full (their message dropped), as channels_redis.
_DELIVER = _ADD + """
local n = #KEYS
local full = 0
for i = 1, n do
    full = full + add(KEYS[i], ARGV[i], tonumber(ARGV[n + i]), ARGV[2 * n + 1], ARGV[2 * n + 2], ARGV[2 * n + 3])
end
return full
"""
# KEYS[1]: the group. ARGV: the group's trim cut-off, the layer's key prefix,
# the message's start (random prefix and map header, one entry more than
# the message has), its entries, then the score, the trim cut-off, the
# expiry and the capacity of the receiving sets. Returns {full, members}.
_GROUP_SEND = _ADD + """
redis.call('ZREMRANGEBYSCORE', KEYS[1], 0, ARGV[1])
local members = redis.call('ZRANGE', KEYS[1], 0, -1)
local names, order = {}, {}
for _, name in ipairs(members) do
    local bang = string.find(name, '!', 1, true)
    local key = ARGV[2] .. (bang and string.sub(name, 1, bang) or name)
    if names[key] == nil then
        names[key] = {}
        order[#order + 1] = key
    end
    table.insert(names[key], name)
end
local full = 0
local tag = cmsgpack.pack('__asgi_channel__')
for _, key in ipairs(order) do
    local message = ARGV[3] .. ARGV[4] .. tag .. cmsgpack.pack(names[key])
    full = full + add(key, message, tonumber(ARGV[8]), ARGV[5], ARGV[6], ARGV[7])
end
return {full, #members}
"""
# KEYS: the process's receiving sorted set and its backup. ARGV: "drop" (the
# last batch was handed on: forget its backup) or "restore" (it may not have
# been: put the backup back first, in order), then the most to take. Moves
# up to that many of the oldest messages into the backup and returns them
# (member, score, member, score, ...).
_RECEIVE = """
if ARGV[1] == 'restore' then
    local backed_up = redis.call('ZRANGE', KEYS[2], 0, -1, 'WITHSCORES')
    for i = #backed_up, 1, -2 do
        redis.call('ZADD', KEYS[1], backed_up[i], backed_up[i - 1])
    end
end
redis.call('DEL', KEYS[2])
local popped = redis.call('ZPOPMIN', KEYS[1], ARGV[2])
for i = 1, #popped, 2 do
    redis.call('ZADD', KEYS[2], popped[i + 1], popped[i])
end
return popped
"""
RECEIVE_BATCH = 100

# Bytes: the SHA needs no client's encoder. Each call names its client, and
# a server that has not seen a script yet gets it loaded (NOSCRIPT).
_SCRIPT = AsyncScript(None, _DELIVER.encode())
_GROUP_SCRIPT = AsyncScript(None, _GROUP_SEND.encode())
_RECEIVE_SCRIPT = AsyncScript(None, _RECEIVE.encode())


def _map_header(entries: int) -> bytes:
    if entries < 16:
        return bytes([0x80 | entries])
    if entries < 1 << 16:
        return b"\xde" + entries.to_bytes(2, "big")
    return b"\xdf" + entries.to_bytes(4, "big")


def _map_entries(packed: bytes) -> tuple[int, bytes]:
    """(entries, the entries' bytes) of a msgpack-encoded map."""
    first = packed[0]
    if 0x80 <= first <= 0x8F:
        return first & 0x0F, packed[1:]
    if first == 0xDE:
        return int.from_bytes(packed[1:3], "big"), packed[3:]
    return int.from_bytes(packed[1:5], "big"), packed[5:]


class RedisChannelLayer(StockRedisChannelLayer):
    """Drop-in for `channels_redis.core.RedisChannelLayer` (same CONFIG)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Per receiving set: whether the last batch taken from it was handed
        # on (else its backup goes back first), and what of it is still to
        # be given out, in order.
        self._handed_on: dict[str, bool] = {}
        self._taken: dict[str, collections.deque] = collections.defaultdict(collections.deque)

    async def receive_single(self, channel):
        """The next message for this process's sockets: taken from Redis up
        to RECEIVE_BATCH messages at a time, in one round trip, and given
        out one per call in order (channels_redis's `receive` hands each to
        its sockets' buffers).

        channels_redis takes one message per call, in four round trips (put
        back the backup, pop, back it up, clean the backup), one call at a
        time for the whole process. Every realtime message reaches a socket
        this way, so under load the process's set filled up to its capacity
        and sends to it were dropped (the console's heartbeat then replays
        them, seconds late). Here a batch is backed up in the same script
        that takes it, and the next call's script forgets the backup once
        the batch is in this process's hands; a call cancelled while its
        batch was on the way leaves it in the backup, and the next call
        puts it back first. When nothing waits, the call blocks for the
        next message as channels_redis does."""
        if not channel.endswith("!"):
            return await super().receive_single(channel)
        assert self.require_valid_channel_name(channel, receive=True), "Channel name invalid"
        key = self.prefix + channel
        taken = self._taken[key]
        if taken:
            return taken.popleft()
        index = self.consistent_hash(channel)
        connection = self.connection(index)
        popped = None
        while not popped:
            mode = "drop" if self._handed_on.get(key, True) else "restore"
            self._handed_on[key] = False
            popped = await self._script(_RECEIVE_SCRIPT, connection, [key, self._backup_channel_name(key)],
                                        [mode, RECEIVE_BATCH])
            if popped:
                break
            # Nothing waiting (and the backup is empty): wait for one.
            self._handed_on[key] = True
            result = await connection.bzpopmin(key, timeout=self.brpop_timeout)
            if result is not None:
                popped = [result[1], result[2]]
        taken.extend(self._unpack(popped[i], channel) for i in range(0, len(popped), 2))
        self._handed_on[key] = True
        return taken.popleft()

    async def flush(self):
        self._taken.clear()
        self._handed_on.clear()
        await super().flush()

    def _unpack(self, content: bytes, channel: str):
        message = self.deserialize(content)
        if "__asgi_channel__" in message:
            channel = message.pop("__asgi_channel__")
        return channel, message

    def _one_trip_group_send(self) -> bool:
        """Whether the group script can build every message itself."""
        serializer = self._serializer
        return (self.ring_size == 1 and not self.channel_capacity and type(serializer) is MsgPackSerializer
                and serializer.crypter is None)

    async def _script(self, script: AsyncScript, client, keys: list, args: list):
        try:
            return await script(keys=keys, args=args, client=client)
        except ResponseError as error:
            if "READONLY" not in str(error):
                raise
            # The server demoted to a replica (a Sentinel failover) refused
            # the script's write. A plain command's READONLY makes redis-py
            # drop the connection and ask the Sentinels again; inside a
            # script it arrives as a script error, so do the same here.
            await client.connection_pool.disconnect()
            raise ConnectionError("the channel layer's Redis is now a replica") from error

    async def _deliver(self, index: int, keys: list[bytes | str], messages: list[bytes], capacities: list[int]) -> int:
        now = time.time()
        args = [*messages, *capacities, now, int(now) - int(self.expiry), int(self.expiry)]
        return await self._script(_SCRIPT, self.connection(index), keys, args)

    async def send(self, channel, message):
        """Send a message onto a (general or specific) channel: one round trip."""
        assert isinstance(message, dict), "message is not a dict"
        assert self.require_valid_channel_name(channel), "Channel name not valid"
        assert "__asgi_channel__" not in message
        channel_non_local_name = channel
        if "!" in channel:
            message = dict(message.items())
            message["__asgi_channel__"] = channel
            channel_non_local_name = self.non_local_name(channel)
        channel_key = self.prefix + channel_non_local_name
        # As channels_redis: consistent for specific channels, round robin
        # for general ones.
        index = self.consistent_hash(channel) if "!" in channel else next(self._send_index_generator)
        if await self._deliver(index, [channel_key], [self.serialize(message)], [self.get_capacity(channel)]):
            raise ChannelFull()

    async def group_send(self, group, message):
        """Send a message to every channel of a group: one round trip (two
        where the layer's configuration needs Python per channel)."""
        assert self.require_valid_group_name(group), "Group name not valid"
        if "__asgi_channel__" in message or not self._one_trip_group_send():
            return await self._group_send_in_two(group, message)
        entries, body = _map_entries(msgpack.packb(message))
        start = os.urandom(self._serializer.random_prefix_length) + _map_header(entries + 1)
        now = time.time()
        args = [int(now) - self.group_expiry, self.prefix, start, body, now, int(now) - int(self.expiry),
                int(self.expiry), self.capacity]
        full, members = await self._script(_GROUP_SCRIPT, self.connection(0), [self._group_key(group)], args)
        if full:
            log.info("%s of %s channels over capacity in group %s", full, members, group)

    async def _group_send_in_two(self, group, message):
        key = self._group_key(group)
        connection = self.connection(self.consistent_hash(group))
        async with connection.pipeline(transaction=False) as pipe:
            pipe.zremrangebyscore(key, min=0, max=int(time.time()) - self.group_expiry)
            pipe.zrange(key, 0, -1)
            _, members = await pipe.execute()
        if not members:
            return
        channel_names = [member.decode("utf8") for member in members]
        by_connection, messages, capacities = self._map_channel_keys_to_connection(channel_names, message)
        for index, keys in by_connection.items():
            full = await self._deliver(index, keys, [messages[k] for k in keys], [capacities[k] for k in keys])
            if full:
                log.info("%s of %s channels over capacity in group %s", full, len(channel_names), group)
