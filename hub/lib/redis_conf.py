"""Connection options for the hub's Redis clients."""

from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError


def channel_layer_host(url: str, max_connections: int = 1000) -> dict:
    """One `hosts` entry of channels_redis's configuration."""
    return {
        "address": url,
        # None: redis-py 8 otherwise times out the layer's blocking read after
        # 5 s and crashes every idle consumer.
        "socket_timeout": None,
        "socket_connect_timeout": 5,
        # After a Redis restart every pooled connection is dead; retrying
        # reconnects instead of failing the first command on each.
        "retry": Retry(ExponentialBackoff(cap=1.0, base=0.05), 5),
        "retry_on_error": [RedisConnectionError, RedisTimeoutError],
        # Bursts of connects and disconnects each take a connection; the
        # default pool of 100 fails at once when full.
        "max_connections": max_connections,
    }
