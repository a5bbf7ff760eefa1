"""Django's Redis cache, with its client made once and a counter in one trip.

Django's `RedisCacheClient` builds a new `redis.Redis` object for every
cache call (on the same pool of connections); building one fills its table
of response callbacks, which cost more than the call's round trip. The web
processes use the cache on every widget ping (presence) and every rate
limit check, so here each pool gets one client, made on first use (a
`redis.Redis` is safe to share between threads).

`count(key, timeout)` is the rate limits' counter: one script that
increments and, on the first use, sets the expiry, where Django's own
`add` then `incr` take three round trips.
"""

from __future__ import annotations

from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient as DjangoRedisCacheClient
from redis.commands.core import Script

# Bytes: the SHA needs no client's encoder. Each call names its client, and
# a server that has not seen the script yet gets it loaded (NOSCRIPT), as
# the channel layer's scripts do (hub/lib/channel_layer.py).
_COUNT = Script(None, b"""
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
return n
""")


class RedisCacheClient(DjangoRedisCacheClient):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._clients: dict[int, object] = {}

    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        client = self._clients.get(id(pool))
        if client is None:
            client = self._clients[id(pool)] = self._client(connection_pool=pool)
        return client

    def count(self, key, timeout: int) -> int:
        return int(_COUNT(keys=[key], args=[timeout], client=self.get_client(key, write=True)))


class RedisCache(DjangoRedisCache):
    """settings.CACHES' backend (same LOCATION and OPTIONS as Django's)."""

    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = RedisCacheClient

    def count(self, key: str, timeout: int, version=None) -> int:
        """Add one to the counter `key` (created at 1, expiring `timeout`
        seconds after its creation) and return it."""
        key = self.make_and_validate_key(key, version=version)
        return self._cache.count(key, max(1, int(timeout)))
