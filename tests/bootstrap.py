"""Loaded by pytest before Django reads its settings (pytest.ini: -p).

Selects the test profile and, when REDIS_URL is unset, starts an embedded
Redis for the run, so `make test` passes with nothing configured. CI sets
DATABASE_URL and REDIS_URL to the real servers instead.
"""

import atexit
import os

os.environ["HUB_ENV"] = "test"
# Test runs that share a Redis (two people, or CI and a developer) must not
# see each other's cache entries or channel groups.
os.environ.setdefault("CACHE_KEY_PREFIX", f"hubtest{os.getpid()}")
os.environ.setdefault("CHANNEL_LAYER_PREFIX", f"hubtest{os.getpid()}")

if not os.environ.get("REDIS_URL"):
    from hub.lib import embedded_redis

    _server = embedded_redis.start(write_state=False)
    os.environ["REDIS_URL"] = _server.url
    atexit.register(_server.stop)
