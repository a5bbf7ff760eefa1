"""Redis Sentinel: with REDIS_SENTINELS set, the channel layer, the Celery
broker, the cache and /healthz find the master through the Sentinels, and
find the new one after a failover, without a restart.

Real servers: a master, a replica and a Sentinel, started from the
redis-server binary the embedded Redis uses."""

from __future__ import annotations

import asyncio
import subprocess
import time
from pathlib import Path

import pytest
import redis
from celery import Celery

from hub.lib import embedded_redis
from hub.lib.redis_conf import Sentinels, broker_transport_options, broker_url, channel_layer_host

pytestmark = pytest.mark.slow
MASTER = "hubmaster"


def _server(tmp: Path, name: str, *args: str) -> tuple[subprocess.Popen, int]:
    port = embedded_redis.free_port()
    folder = tmp / name
    folder.mkdir()
    process = subprocess.Popen([embedded_redis._binary(), *args, "--port", str(port), "--bind", "127.0.0.1",
                                "--dir", str(folder), "--save", "", "--appendonly", "no", "--loglevel", "warning"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    _until(lambda: embedded_redis._responds(port), f"{name} did not start")
    return process, port


def _until(condition, message: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            if condition():
                return
        except redis.RedisError:
            pass
        if time.monotonic() > deadline:
            raise AssertionError(message)
        time.sleep(0.1)


@pytest.fixture
def sentinel_set(tmp_path):
    """A master, its replica and one Sentinel watching them; yields the
    Sentinel's port and the two data ports (master first)."""
    processes = []
    try:
        master, master_port = _server(tmp_path, "master")
        processes.append(master)
        replica, replica_port = _server(tmp_path, "replica", "--replicaof", "127.0.0.1", str(0))
        processes.append(replica)
        redis.Redis(port=replica_port).execute_command("REPLICAOF", "127.0.0.1", master_port)
        conf = tmp_path / "sentinel.conf"
        sentinel_port = embedded_redis.free_port()
        conf.write_text(f"port {sentinel_port}\nbind 127.0.0.1\n"
                        f"sentinel monitor {MASTER} 127.0.0.1 {master_port} 1\n"
                        f"sentinel down-after-milliseconds {MASTER} 1000\n"
                        f"sentinel failover-timeout {MASTER} 5000\n")
        sentinel = subprocess.Popen([embedded_redis._binary(), str(conf), "--sentinel"],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        processes.append(sentinel)
        watcher = redis.Redis(port=sentinel_port, decode_responses=True)
        # The Sentinel learns of the replica from the master's INFO (every 10 s).
        _until(lambda: any(r.get("master-link-status") == "ok"
                           for r in watcher.sentinel_slaves(MASTER)), "the Sentinel never saw the replica", 40)
        yield sentinel_port, master_port, replica_port
    finally:
        for process in processes:
            process.kill()
            process.wait()


def test_every_redis_client_follows_the_master_through_a_failover(sentinel_set, settings):
    sentinel_port, master_port, replica_port = sentinel_set
    sentinel = Sentinels.from_env(f"127.0.0.1:{sentinel_port}", MASTER)
    url = "redis://ignored-host/3"  # with Sentinels, REDIS_URL gives the database only
    settings.REDIS_SENTINEL = sentinel
    settings.REDIS_URL = url

    from django.core.cache.backends.redis import RedisCache

    from hub.lib.channel_layer import RedisChannelLayer
    from hub.views.health import _redis

    layer = RedisChannelLayer(hosts=[channel_layer_host(url, 10, sentinel)], prefix="sentinel-test")
    cache = RedisCache(url, {"OPTIONS": {"pool_class": "hub.lib.redis_conf.SentinelPool"}, "KEY_PREFIX": "st"})
    broker = Celery(broker=broker_url(url, sentinel),
                    broker_transport_options=broker_transport_options(sentinel))

    def round_trip(value: str, loop: asyncio.AbstractEventLoop) -> None:
        cache.set("where", value, 60)
        assert cache.get("where") == value

        async def layer_round_trip():
            channel = await layer.new_channel()
            await layer.send(channel, {"type": "hello", "value": value})
            direct = await asyncio.wait_for(layer.receive(channel), 10)
            await layer.group_add("sentinel-group", channel)
            await layer.group_send("sentinel-group", {"type": "hello", "value": value})
            grouped = await asyncio.wait_for(layer.receive(channel), 10)
            return direct["value"], grouped["value"]

        assert loop.run_until_complete(layer_round_trip()) == (value, value)
        with broker.connection_for_write() as connection:
            broker.send_task("sentinel.check", args=[value], queue="sentinel-test", connection=connection)
        assert _redis() == "up"

    def on(port: int) -> redis.Redis:
        return redis.Redis(port=port, db=3)

    loop = asyncio.new_event_loop()
    try:
        round_trip("before", loop)
        assert on(master_port).llen("sentinel-test") == 1
        assert any(b"where" in key for key in on(master_port).keys())

        redis.Redis(port=sentinel_port).execute_command("SENTINEL", "FAILOVER", MASTER)
        _until(lambda: redis.Redis(port=sentinel_port).sentinel_get_master_addr_by_name(MASTER)[1] == replica_port,
               "the failover did not happen")
        _until(lambda: on(replica_port).info("replication")["role"] == "master", "the replica was not promoted")
        _until(lambda: on(master_port).info("replication")["role"] == "slave", "the old master was not demoted")

        # The same clients, no restart: connections still open to the old
        # master get READONLY, drop it and ask the Sentinel again.
        deadline = time.monotonic() + 30
        while True:
            try:
                round_trip("after", loop)
                break
            except (redis.RedisError, OSError, asyncio.TimeoutError, AssertionError):
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.5)
        assert on(replica_port).llen("sentinel-test") == 2  # the first came over by replication
        assert cache.get("where") == "after"
    finally:
        loop.run_until_complete(layer.flush())
        loop.close()
