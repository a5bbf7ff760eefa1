"""The wallboard's socket: /ws/wallboard/.

On connect it sends the practice's live snapshot, then relays what
kpi.tasks.refresh pushes to the practice's wallboard group whenever the
snapshot changes. While it is open it marks the practice as watched (the
refresh task computes snapshots only for watched practices).

Server -> client: {"type": "snapshot" | "update", "data": <kpi.live.snapshot>},
{"type": "pong", "ts": <server time>}. Client -> server: {"type": "ping"},
{"type": "refresh"} (a fresh snapshot, at most every few seconds).
"""

from __future__ import annotations

import asyncio
import logging
import time

from django.core.cache import cache

from hub.lib import access, clock
from hub.lib.sessions import SessionBoundSocket
from hub.lib.ws import CLOSE_FORBIDDEN, CLOSE_PROTOCOL, CLOSE_UNAUTHENTICATED, HubSocket, db
from kpi import live

log = logging.getLogger(__name__)

WATCH_SECONDS = 30  # how long one mark lasts
REFRESH_EVERY = 10  # how often an open socket renews it (and its group membership)
MIN_REFRESH_INTERVAL = 5.0


class WallboardConsumer(SessionBoundSocket, HubSocket):
    practice_id: int | None = None
    group: str | None = None
    keepalive: asyncio.Task | None = None
    last_refresh = 0.0

    async def connect(self):
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self._refuse(CLOSE_UNAUTHENTICATED, "sign in first")
            return
        viewer = await db(access.viewer_for)(user)
        if viewer is None:
            await self._refuse(CLOSE_FORBIDDEN, "not a staff member of any practice")
            return
        if not viewer.may_supervise:
            await self._refuse(CLOSE_FORBIDDEN, "the wallboard is for supervisors and practice admins")
            return
        self.practice_id = viewer.practice_id
        self.group = live.wallboard_group(self.practice_id)
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()
        if not await self.bind_session():
            return
        await self._watch()
        await self._send_snapshot("snapshot")
        self.keepalive = asyncio.create_task(self._keep_watching())

    async def _refuse(self, code: int, reason: str) -> None:
        await self.accept()
        await self.close(code=code, reason=reason)

    async def disconnect(self, code):
        if self.keepalive is not None:
            self.keepalive.cancel()
        await self.unbind_session()
        if self.group is not None:
            try:
                await self.channel_layer.group_discard(self.group, self.channel_name)
            except Exception:
                pass  # membership expires by itself

    async def _watch(self) -> None:
        await cache.aset(live.watchers_key(self.practice_id), 1, timeout=WATCH_SECONDS)

    async def _keep_watching(self) -> None:
        while True:
            await asyncio.sleep(REFRESH_EVERY)
            try:
                if not await self.check_session():
                    return
                await self._watch()
                # Idempotent; restores membership lost with a Redis restart.
                await self.channel_layer.group_add(self.group, self.channel_name)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.warning("wallboard keepalive failed", exc_info=True)

    async def _send_snapshot(self, kind: str) -> None:
        self.last_refresh = time.monotonic()
        data = await db(live.snapshot)(self.practice_id)
        await self.send_json({"type": kind, "data": data})

    # --- client -> server --------------------------------------------------------

    async def receive(self, text_data=None, bytes_data=None, **kwargs):
        if self.practice_id is None:
            return
        if text_data is None:
            await self.close(code=CLOSE_PROTOCOL, reason="text frames only")
            return
        try:
            content = await self.decode_json(text_data)
        except ValueError:
            content = None
        kind = content.get("type") if isinstance(content, dict) else None
        if not await self.check_session():
            return
        if kind == "ping":
            await self.send_json({"type": "pong", "ts": clock.now().isoformat()})
        elif kind == "refresh":
            if time.monotonic() - self.last_refresh >= MIN_REFRESH_INTERVAL:
                await self._send_snapshot("snapshot")
        else:
            await self.send_json({"type": "error", "code": "unknown_type", "detail": "send ping or refresh"})

    # --- server -> client --------------------------------------------------------

    async def wallboard_update(self, message):
        await self.send_json({"type": "update", "data": message["data"]})
