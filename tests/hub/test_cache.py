"""The hub's Redis cache backend (hub/lib/cache.py): Django's, with one
client per pool and the rate limits' counter in one round trip."""

from __future__ import annotations

import uuid

from django.core.cache import cache, caches


def test_the_counter_is_shared_by_every_process_and_expires_from_its_first_use():
    key = f"test-count-{uuid.uuid4().hex}"
    other_process = caches.create_connection("default")  # its own client and pool
    assert cache.count(key, 30) == 1
    assert other_process.count(key, 30) == 2
    assert cache.count(key, 30) == 3
    assert cache.get(key) == 3  # the same key Django's own calls use
    client = cache._cache.get_client(write=True)
    ttl = client.ttl(cache.make_key(key))
    assert 0 < ttl <= 30
    client.expire(cache.make_key(key), 100)
    cache.count(key, 30)  # later uses leave the expiry alone
    assert client.ttl(cache.make_key(key)) > 30
    cache.delete(key)


def test_a_client_is_made_once_per_pool_and_the_cache_still_works():
    first = cache._cache.get_client(write=True)
    assert cache._cache.get_client(write=True) is first
    key = f"test-reuse-{uuid.uuid4().hex}"
    assert cache.add(key, {"a": 1}, 30)
    assert not cache.add(key, {"a": 2}, 30)
    assert cache.get(key) == {"a": 1}
    cache.set(key, 5, 30)
    assert cache.incr(key) == 6
    cache.delete(key)
    assert cache.get(key) is None
