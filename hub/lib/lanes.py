"""A fixed number of threads for Django's HTTP requests in an ASGI process.

Django's ASGI handler runs each request's synchronous part (middleware,
view, signals) in a `ThreadSensitiveContext`: asgiref starts a new thread
for every request and stops it at the end, and sets no bound on how many
run at once. Under a burst (Twilio's webhooks arrive open loop) a web
process then has a hundred threads fighting for one GIL and for its pool
of database connections, while the event loop thread, which reads and
writes every socket of the process, waits its turn among them. Throughput
falls as the burst grows, and the websockets of the same process stall.

`RequestLanes` gives each request one of a fixed set of lanes. A lane is a
one-thread executor that outlives the request: the request runs in a
thread-sensitive context given that executor (asgiref's
`ThreadSensitiveContext(executor=...)`), so the thread is reused. With
every lane busy a request waits, in arrival order, on the event loop
(cheap) rather than as a thread. Each request still runs all of its
synchronous work on one thread, as Django requires. The number of lanes is
`HTTP_THREADS` (docs/deployment.md); 0 turns the bound off.
"""

from __future__ import annotations

import asyncio
import weakref
from collections import deque
from concurrent.futures import ThreadPoolExecutor

from asgiref.sync import ThreadSensitiveContext


class RequestLanes:
    """ASGI middleware around Django's HTTP application (hub/asgi.py)."""

    def __init__(self, app, size: int):
        self.app = app
        self.size = size
        # Idle lanes: each a one-thread executor that outlives its requests.
        self._idle: deque[ThreadPoolExecutor] = deque()
        self._gates: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = \
            weakref.WeakKeyDictionary()

    def _gate(self) -> asyncio.Semaphore:
        loop = asyncio.get_running_loop()
        gate = self._gates.get(loop)
        if gate is None:
            gate = self._gates[loop] = asyncio.Semaphore(self.size)
        return gate

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or self.size <= 0:
            return await self.app(scope, receive, send)
        async with self._gate():
            try:
                lane = self._idle.pop()
            except IndexError:
                lane = ThreadPoolExecutor(max_workers=1, thread_name_prefix="http")
            try:
                # Django's own ThreadSensitiveContext, inside, finds this
                # one and uses it; the thread is not stopped at the end.
                async with ThreadSensitiveContext(executor=lane):
                    return await self.app(scope, receive, send)
            finally:
                self._idle.append(lane)
