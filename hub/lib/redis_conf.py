"""Connection options for the hub's Redis clients, and Redis Sentinel.

The hub uses Redis three ways: the channel layer (channels-redis), the
Celery broker (kombu) and Django's cache. With `REDIS_SENTINELS` set
(`host:port,host:port`) and `REDIS_SENTINEL_MASTER` naming the monitored
master, all three ask the Sentinels where the master is, and ask again
after a failover; `REDIS_URL` then only gives the database number and the
master's password (`redis://:password@mymaster/0`: its host is not used).
`REDIS_SENTINEL_PASSWORD` is for Sentinels that require one.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import unquote, urlparse

import redis
import redis.sentinel
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError


@dataclass(frozen=True)
class Sentinels:
    hosts: tuple[tuple[str, int], ...]
    master: str
    password: str | None = None

    @classmethod
    def from_env(cls, hosts: str, master: str, password: str = "") -> Sentinels | None:
        if not hosts:
            return None
        if not master:
            raise ValueError("REDIS_SENTINELS is set: REDIS_SENTINEL_MASTER must name the master")
        pairs = []
        for item in hosts.split(","):
            host, _, port = item.strip().rpartition(":")
            if not host or not port.isdigit():
                raise ValueError(f"REDIS_SENTINELS entries are host:port, not {item.strip()!r}")
            pairs.append((host, int(port)))
        return cls(tuple(pairs), master, password or None)

    @property
    def sentinel_kwargs(self) -> dict:
        return {"password": self.password} if self.password else {}


def _database_and_password(url: str) -> tuple[int, str | None]:
    parsed = urlparse(url)
    path = parsed.path.strip("/")
    return (int(path) if path.isdigit() else 0), (unquote(parsed.password) if parsed.password else None)


def sentinels() -> Sentinels | None:
    from django.conf import settings

    return getattr(settings, "REDIS_SENTINEL", None)


def channel_layer_host(url: str, max_connections: int = 1000, sentinel: Sentinels | None = None) -> dict:
    """One `hosts` entry of channels_redis's configuration."""
    if sentinel is None:
        where = {"address": url}
    else:
        db, password = _database_and_password(url)
        where = {"sentinels": list(sentinel.hosts), "master_name": sentinel.master,
                 "sentinel_kwargs": sentinel.sentinel_kwargs, "db": db, "password": password}
    return {
        **where,
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


def broker_url(url: str, sentinel: Sentinels | None) -> str:
    """Celery's broker URL: kombu's `sentinel://` transport lists every
    Sentinel (the master's name goes in the transport options)."""
    if sentinel is None:
        return url
    db, password = _database_and_password(url)
    auth = f":{password}@" if password else ""
    return ";".join(f"sentinel://{auth}{host}:{port}/{db}" for host, port in sentinel.hosts)


def broker_transport_options(sentinel: Sentinels | None) -> dict:
    if sentinel is None:
        return {}
    options = {"master_name": sentinel.master}
    if sentinel.password:
        options["sentinel_kwargs"] = sentinel.sentinel_kwargs
    return options


def broker_lists(queue: str) -> list[str]:
    """The Redis lists Celery's transport keeps for one queue, one per
    priority step, in the order a worker empties them (hub.celery routes
    background tasks to a later step)."""
    from kombu.transport.redis import PRIORITY_STEPS, Channel

    return [f"{queue}{Channel.sep}{step}" if step else queue for step in PRIORITY_STEPS]


class SentinelPool(redis.sentinel.SentinelConnectionPool):
    """Django's Redis cache builds its pools with `from_url`: this one finds
    the master through the Sentinels in settings (REDIS_SENTINEL)."""

    @classmethod
    def from_url(cls, url: str, **kwargs) -> SentinelPool:
        sentinel = sentinels()
        db, password = _database_and_password(url)
        manager = redis.sentinel.Sentinel(list(sentinel.hosts), sentinel_kwargs=sentinel.sentinel_kwargs,
                                          socket_timeout=kwargs.get("socket_timeout"))
        return cls(sentinel.master, manager, db=db, password=password, **kwargs)


def client(url: str, **kwargs) -> redis.Redis:
    """A synchronous client of the hub's Redis (its master, with Sentinel)."""
    sentinel = sentinels()
    if sentinel is None:
        return redis.Redis.from_url(url, **kwargs)
    return redis.Redis(connection_pool=SentinelPool.from_url(url, **kwargs))
