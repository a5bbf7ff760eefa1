"""Fixed-window rate limits kept in Redis (the cache), so every server
process counts the same visitor and the same address together."""

from __future__ import annotations

import time

from django.core.cache import cache


def hit(key: str, limit: int, window: int) -> tuple[bool, int]:
    """Count one use of `key`; (allowed, seconds until the window resets)."""
    bucket = int(time.time() // window)
    count = cache.count(f"rl:{key}:{bucket}", window + 1)
    retry_after = int(window - (time.time() % window)) + 1
    return count <= limit, retry_after
