"""The agent console's realtime stream: /ws/console/.

Every sequenced message is delivered exactly once and in order per stream:
the consumer remembers the last sequence it sent on each stream, drops what
the client already has, and fills any gap from the database before sending
what comes after it. See docs/protocol.md.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time

from django.conf import settings

from hub.actions import presence
from hub.lib import access, clock, replay
from hub.lib.sessions import SessionBoundSocket
from hub.lib.events import group_for
from hub.lib.ws import CLOSE_FORBIDDEN, CLOSE_PROTOCOL, CLOSE_UNAUTHENTICATED, HubSocket, db
from hub.tasks import check_presence

log = logging.getLogger(__name__)


def _agent_typing(viewer: access.Viewer, conversation_id: int) -> None:
    from hub.lib.events import notify_patient

    try:
        conversation = access.get_conversation(viewer, conversation_id)
    except access.NotVisible:
        return
    if conversation.patient.web_chat:
        notify_patient(conversation.patient_id, {"type": "patient.typing", "name": viewer.display_name.split(" ")[0]})


def _viewer_with_streams(user) -> access.Viewer | None:
    viewer = access.viewer_for(user)
    if viewer is not None:
        viewer.streams  # noqa: B018  (loads the department list while database access is allowed)
    return viewer


class ConsoleConsumer(SessionBoundSocket, HubSocket):
    viewer: access.Viewer | None = None

    async def connect(self):
        self.cursors: dict[str, int] = {}
        # Entries that arrived ahead of one still on its way, per stream,
        # and the timer that gives up waiting for it (see stream_batch).
        self.held: dict[str, dict[int, dict]] = {}
        self.gap_timers: dict[str, asyncio.Task] = {}
        # Per stream, the head and this socket's cursor at the last heartbeat.
        self.last_beat: dict[str, tuple[int, int]] = {}
        self.lock = asyncio.Lock()
        self.heartbeat_task = None
        self.joined: list[str] = []
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.accept()
            await self.close(code=CLOSE_UNAUTHENTICATED, reason="sign in first")
            return
        self.viewer = await db(_viewer_with_streams)(user)
        if self.viewer is None:
            await self.accept()
            await self.close(code=CLOSE_FORBIDDEN, reason="not a staff member of any practice")
            return
        await self._join()
        await self.accept()
        if not await self.bind_session():
            return
        await db(presence.signed_in)(self.viewer.user_id, settings.HEARTBEAT_SECONDS)
        self.heartbeat_task = asyncio.create_task(self._heartbeats())

    async def disconnect(self, code):
        if self.heartbeat_task is not None:
            self.heartbeat_task.cancel()
        for timer in getattr(self, "gap_timers", {}).values():
            timer.cancel()
        await self.unbind_session()
        if self.viewer is not None:
            try:
                await db(check_presence.apply_async)(
                    (self.viewer.user_id,), countdown=settings.HEARTBEAT_SECONDS * 3 + 2)
            except Exception:
                log.warning("could not schedule the presence check", exc_info=True)
        for stream in self.joined:
            try:
                await self.channel_layer.group_discard(group_for(stream), self.channel_name)
            except Exception:
                # Membership expires by itself; a failed discard during a mass
                # disconnect must not keep the rest from being cleaned up.
                pass

    async def _join(self) -> None:
        for stream in self.viewer.streams:
            await self.channel_layer.group_add(group_for(stream), self.channel_name)
        self.joined = list(self.viewer.streams)

    # --- client -> server -----------------------------------------------------

    async def receive_json(self, content, **kwargs):
        if self.viewer is None:
            return
        kind = content.get("type") if isinstance(content, dict) else None
        if not await self.check_session():
            return
        if kind == "hello":
            await self._hello(content.get("cursors", {}))
        elif kind == "typing":
            await self._typing(content.get("conversation_id"))
        elif kind == "ping":
            await self.send_json({"type": "pong", "ts": clock.now().isoformat()})
        elif kind == "activity":
            await self.note_activity()  # keys, clicks, scrolling: not idle
        else:
            await self.send_json({"type": "error", "code": "unknown_type", "detail": "unknown message type"})

    async def decode_json(self, text_data):
        try:
            return await super().decode_json(text_data)
        except ValueError:
            return None

    async def receive(self, text_data=None, bytes_data=None, **kwargs):
        if text_data is None:
            await self.close(code=CLOSE_PROTOCOL, reason="text frames only")
            return
        content = await self.decode_json(text_data)
        if content is None:
            await self.send_json({"type": "error", "code": "bad_json", "detail": "messages are JSON objects"})
            return
        await self.receive_json(content)

    async def _hello(self, cursors) -> None:
        if not isinstance(cursors, dict) or not all(
                isinstance(k, str) and isinstance(v, int) and not isinstance(v, bool) and v >= 0
                for k, v in cursors.items()):
            await self.close(code=CLOSE_PROTOCOL, reason="cursors must map stream names to sequence numbers")
            return
        streams = self.viewer.streams
        heads = await db(replay.heads)(streams)
        async with self.lock:
            resync = []
            for stream in streams:
                cursor = cursors.get(stream)
                if cursor is None:
                    cursor = heads[stream]  # a new client starts from now
                elif cursor > heads[stream]:
                    resync.append(stream)  # the server's history was reset
                    cursor = heads[stream]
                self.cursors[stream] = cursor
                self.held.pop(stream, None)
            await self.send_json({
                "type": "welcome",
                "user": {"id": self.viewer.user_id, "name": self.viewer.display_name, "role": self.viewer.role},
                "heads": heads,
                "heartbeat": settings.HEARTBEAT_SECONDS,
            })
            for stream in resync:
                await self.send_json({"type": "resync", "stream": stream, "seq": heads[stream]})
            for stream in streams:
                if heads[stream] > self.cursors[stream]:
                    await self._replay(stream, heads[stream])

    async def _typing(self, conversation_id) -> None:
        """The agent is typing: tell the patient's widget (at most every 3 s)."""
        now = time.monotonic()
        if not isinstance(conversation_id, int) or now - getattr(self, "last_typing", 0.0) < 3.0:
            return
        self.last_typing = now
        await db(_agent_typing)(self.viewer, conversation_id)

    # --- server -> client -----------------------------------------------------

    async def typing_notice(self, message):
        """A patient is typing (ephemeral: no sequence, no replay)."""
        await self.send_json({"type": "typing", "conversation_id": message["conversation_id"],
                              "who": message.get("who", "patient")})

    async def stream_batch(self, message):
        """What one transaction published on one stream, in sequence order.

        Transactions that commit close together on one stream may reach
        this socket in the other order (they were sent by different
        processes). An entry that comes ahead of the one before it is held
        for up to GAP_WAIT_SECONDS for that one to arrive; only if it does
        not (a message really lost) is the gap filled from the database.
        Every socket in the process would otherwise read the same rows for
        what is only a reordering."""
        stream = message["stream"]
        async with self.lock:
            cursor = self.cursors.get(stream)
            if cursor is None:
                return  # not said hello yet: its replay will cover these
            held = self.held.setdefault(stream, {})
            for entry in message["entries"]:
                if entry["seq"] > cursor:
                    held[entry["seq"]] = entry
            await self._send_held(stream)

    async def _send_held(self, stream: str) -> None:
        """Send the held entries that follow the cursor without a gap; wait
        for (or stop waiting for) what is missing. Caller holds the lock."""
        held = self.held.get(stream)
        if held:
            while (entry := held.pop(self.cursors[stream] + 1, None)) is not None:
                await self._send_entry(stream, entry["seq"], entry["event"], entry["payload"], entry["dept"])
            for seq in [seq for seq in held if seq <= self.cursors[stream]]:
                del held[seq]  # already sent from the database
        timer = self.gap_timers.get(stream)
        if held and timer is None:
            self.gap_timers[stream] = asyncio.create_task(self._fill_gap_later(stream))
        elif not held and timer is not None and timer is not asyncio.current_task():
            timer.cancel()
            del self.gap_timers[stream]

    async def _fill_gap_later(self, stream: str) -> None:
        await asyncio.sleep(settings.GAP_WAIT_SECONDS)
        async with self.lock:
            self.gap_timers.pop(stream, None)
            held = self.held.get(stream)
            if held:
                # Still missing: send it from the database, up to the last
                # entry held, which goes with it.
                try:
                    await self._replay(stream, max(held))
                except Exception:
                    # The next heartbeat replays from the heads.
                    log.warning("could not fill a gap on a console stream", exc_info=True)

    def _redundant(self, stream: str, department_id) -> bool:
        # A conversation assigned to me in a department I follow arrives on
        # both streams; the department's copy is the one I show.
        return stream.startswith("agent.") and department_id in self.viewer.department_ids

    async def _send_entry(self, stream: str, seq: int, type_: str, payload: dict, department_id) -> None:
        self.cursors[stream] = seq
        if not self._redundant(stream, department_id) and access.may_receive(self.viewer, stream, payload, department_id):
            await self.send_json({"type": type_, "stream": stream, "seq": seq, "payload": payload})

    async def _replay(self, stream: str, upto: int) -> None:
        """Send (cursor, upto] from the database. Caller holds the lock."""
        cursor = self.cursors[stream]
        limit = settings.REPLAY_LIMIT
        rows = await db(replay.entries)(stream, cursor, upto, limit + 1)
        if len(rows) > limit or (rows and rows[0].seq != cursor + 1) or (not rows and upto > cursor):
            # Too far behind, or history already pruned: the client reloads
            # its state instead of replaying.
            self.cursors[stream] = upto
            await self.send_json({"type": "resync", "stream": stream, "seq": upto})
            await self._send_held(stream)
            return
        for row in rows:
            await self._send_entry(stream, row.seq, row.type, row.payload, row.department_id)
        await self._send_held(stream)

    async def _heartbeats(self) -> None:
        interval = settings.HEARTBEAT_SECONDS
        await asyncio.sleep(interval * random.uniform(0.5, 1.0))
        while True:
            try:
                await self._beat()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.warning("console heartbeat failed", exc_info=True)
            await asyncio.sleep(interval)

    async def _beat(self) -> None:
        if not await self.check_session():
            return
        streams = self.viewer.streams
        heads = await db(replay.heads)(streams)
        await db(presence.mark_alive)(self.viewer.user_id, settings.HEARTBEAT_SECONDS * 3)
        # Re-joining is idempotent and restores membership lost with a Redis
        # restart; catching up from the heads repairs any dropped message.
        for stream in streams:
            await self.channel_layer.group_add(group_for(stream), self.channel_name)
        async with self.lock:
            await self.send_json({"type": "heartbeat", "heads": heads, "ts": clock.now().isoformat()})
            for stream in streams:
                cursor = self.cursors.get(stream)
                if cursor is not None and self._lost(stream, cursor, heads[stream]):
                    await self._replay(stream, heads[stream])
                    cursor = self.cursors[stream]
                if cursor is not None:
                    self.last_beat[stream] = (heads[stream], cursor)

    def _lost(self, stream: str, cursor: int, head: int) -> bool:
        """Whether entries behind the head are lost, not on their way.

        On a busy stream the head is nearly always a little ahead of what
        has arrived: entries committed a moment ago are in flight. Reading
        them from the database would send them twice as fast for nothing
        (their own copies are then dropped as already sent). What was
        committed by the last heartbeat and has still not arrived is lost,
        and so is everything behind the head when nothing has arrived on the
        stream since then (it stalled: Redis restarted, a message was
        dropped on an idle stream)."""
        if head <= cursor:
            return False
        last = self.last_beat.get(stream)
        if last is None:
            return True
        last_head, last_cursor = last
        return cursor < last_head or cursor == last_cursor
