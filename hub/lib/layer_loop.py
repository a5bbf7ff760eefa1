"""Running channel-layer calls from synchronous code.

Inside the ASGI server, sync code runs in threads that asgiref started from
the server's event loop, and async_to_sync sends on that loop. Everywhere
else (Celery workers, management commands) async_to_sync would build a new
event loop for every call, and channels_redis a new connection pool with
it: about 2 ms per send instead of 0.3. There, one long-lived loop in a
background thread does the sending.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine

from asgiref.sync import SyncToAsync, async_to_sync

_loop: asyncio.AbstractEventLoop | None = None
_lock = threading.Lock()


def _background_loop() -> asyncio.AbstractEventLoop:
    global _loop
    with _lock:
        if _loop is None or _loop.is_closed():
            _loop = asyncio.new_event_loop()
            threading.Thread(target=_loop.run_forever, name="channel-layer-loop", daemon=True).start()
        return _loop


def run(coroutine_function, *args, timeout: float = 10.0):
    """Await `coroutine_function(*args)` from sync code and return its result."""
    main_loop = getattr(SyncToAsync.threadlocal, "main_event_loop", None)
    if main_loop is not None and main_loop.is_running():
        return async_to_sync(coroutine_function)(*args)
    coroutine: Coroutine = coroutine_function(*args)
    return asyncio.run_coroutine_threadsafe(coroutine, _background_loop()).result(timeout)
