"""The clients the drills put on the hub, behaving as the real ones do
(docs/protocol.md): agent consoles that say `hello` with their cursors after
every reconnect, chat widgets that `resume` from the last event they showed
and resend unacknowledged messages with the same ids, and the traffic that
makes events flow (custom-channel inbound messages, replies to the chats).

Each client fails over to the next web process when its own drops, as a
load balancer in front of the ASGI processes would, and remembers every
sequenced message it received so the drill can check the sequences for
gaps and duplicates against the database.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import random
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass, field

import httpx
import websockets

RETRYABLE = (OSError, asyncio.TimeoutError, websockets.WebSocketException, httpx.TransportError)
FINAL_CLOSE_CODES = {4400, 4401, 4403, 4404, 4440, 4441}


def ws_url(base: str, path: str) -> str:
    return base.replace("http://", "ws://", 1) + path


class Failover:
    """Which web process a client talks to: its home first, the next one
    after each failure."""

    def __init__(self, urls: list[str], home: int):
        self.urls, self.index = urls, home % len(urls)

    @property
    def url(self) -> str:
        return self.urls[self.index]

    def next(self) -> None:
        self.index = (self.index + 1) % len(self.urls)


@dataclass
class Reconnect:
    dropped_at: float
    welcomed_at: float
    from_web: int
    to_web: int

    @property
    def seconds(self) -> float:
        return self.welcomed_at - self.dropped_at


class _Dead(Exception):
    """No message within the liveness window: the socket is gone."""


def checked(stream: str) -> bool:
    """Streams whose every entry reaches a supervisor's console. A person's
    own `agent.<id>` stream skips the entries that also arrive on a
    department stream they follow (docs/protocol.md), so its sequence has
    holes by design; those entries are checked on the department stream."""
    return not stream.startswith("agent.")


class _ReconnectingClient:
    """A socket client that reconnects, with backoff, to the next web process
    after a drop, as a browser behind a load balancer would. Subclasses give
    `_connect()` and `_session()`, and set `web`, `refused`, `connected_to`
    and `_dropped`."""

    async def run(self, stop: asyncio.Event) -> None:
        backoff = 0.25
        while not stop.is_set():
            web = self.web.index
            try:
                async with self._connect() as ws:
                    await self._session(ws, web, stop)
                    backoff = 0.25
            except websockets.ConnectionClosed as closed:
                code = closed.rcvd.code if closed.rcvd else None
                if code in FINAL_CLOSE_CODES:
                    self.refused.append(code)
                    return
            except (*RETRYABLE, _Dead):
                pass
            self.connected_to = None
            if stop.is_set():
                return
            if self._dropped is None:
                self._dropped = (time.monotonic(), web)
            self.web.next()
            await asyncio.sleep(backoff)
            backoff = min(2.0, backoff * 2)


class ConsoleClient(_ReconnectingClient):
    """An agent console on /ws/console/."""

    def __init__(self, name: str, urls: list[str], cookie: str, *, home: int, heartbeat: float):
        self.name, self.cookie, self.heartbeat = name, cookie, heartbeat
        self.web = Failover(urls, home)
        self.start: dict[str, int] = {}
        self.cursors: dict[str, int] = {}
        self.received: dict[str, list[int]] = defaultdict(list)
        self.resyncs: list[dict] = []
        self.reconnects: list[Reconnect] = []
        self.refused: list[int] = []
        self.connected_to: int | None = None
        self._dropped: tuple[float, int] | None = None
        self.welcomed = asyncio.Event()

    def _connect(self):
        return websockets.connect(ws_url(self.web.url, "/ws/console/"), origin=self.web.url,
                                  additional_headers={"Cookie": self.cookie}, open_timeout=5, ping_interval=None,
                                  close_timeout=1)

    async def _session(self, ws, web: int, stop: asyncio.Event) -> None:
        await ws.send(json.dumps({"type": "hello", "cursors": self.cursors}))
        last_message = time.monotonic()
        while not stop.is_set():
            try:
                raw = await asyncio.wait_for(ws.recv(), timeout=0.5)
            except asyncio.TimeoutError:
                # No message for 2.5 heartbeats: the stream is dead.
                if time.monotonic() - last_message > 2.5 * self.heartbeat:
                    raise _Dead from None
                continue
            last_message = time.monotonic()
            self._on(json.loads(raw), web)

    def _on(self, message: dict, web: int) -> None:
        kind = message.get("type")
        if kind == "welcome":
            self.connected_to = web
            if not self.start:
                self.start = dict(message["heads"])
                self.cursors = dict(message["heads"])
            if self._dropped is not None:
                dropped_at, from_web = self._dropped
                self.reconnects.append(Reconnect(dropped_at, time.monotonic(), from_web, web))
                self._dropped = None
            self.welcomed.set()
        elif kind == "resync":
            self.resyncs.append(message)
            self.cursors[message["stream"]] = message["seq"]
        elif "stream" in message and "seq" in message:
            stream, seq = message["stream"], message["seq"]
            self.received[stream].append(seq)
            self.cursors[stream] = max(self.cursors.get(stream, 0), seq)

    def problems(self, heads: dict[str, int]) -> dict[str, int]:
        """Gaps, duplicates, out-of-order deliveries, resyncs, and how far
        behind the database's heads it ended."""
        counts = {"gaps": 0, "duplicates": 0, "out_of_order": 0, "behind": 0, "resyncs": len(self.resyncs),
                  "refused": len(self.refused)}
        for stream, first in self.start.items():
            if not checked(stream):
                continue
            got = self.received.get(stream, [])
            last = max(got, default=first)
            counts["duplicates"] += len(got) - len(set(got))
            counts["gaps"] += len(set(range(first + 1, last + 1)) - set(got))
            counts["out_of_order"] += sum(1 for a, b in zip(got, got[1:]) if b <= a)
            counts["behind"] += max(0, heads.get(stream, 0) - last)
        return counts

    def caught_up(self, heads: dict[str, int]) -> bool:
        return self.connected_to is not None and all(
            self.cursors.get(s, 0) >= heads.get(s, 0) for s in self.start if checked(s))

    def delivered(self) -> int:
        return sum(len(seqs) for seqs in self.received.values())


@dataclass
class _Outgoing:
    client_id: str
    body: str


class WidgetClient(_ReconnectingClient):
    """A patient's chat widget on /ws/widget/<key>/."""

    PING_EVERY = 20.0  # as widget.js
    PONG_WITHIN = 10.0

    def __init__(self, name: str, urls: list[str], key: str, origin: str, *, home: int):
        self.name, self.key, self.origin = name, key, origin
        self.web = Failover(urls, home)
        self.token: str | None = None
        self.cursor: tuple[int, int] | None = None
        self.conversation_id: int | None = None
        self.received: list[tuple[int, int]] = []
        self.outbox: dict[str, _Outgoing] = {}
        self.sent: dict[str, _Outgoing] = {}
        self.acked: dict[str, int] = {}
        self.errors: list[str] = []
        self.reconnects: list[Reconnect] = []
        self.refused: list[int] = []
        self.connected_to: int | None = None
        self._dropped: tuple[float, int] | None = None
        self._counter = itertools.count(1)

    def say(self) -> None:
        """Queue a new message; it goes out now or after the next resume."""
        client_id = f"{self.name}-{next(self._counter)}-{uuid.uuid4().hex[:6]}"
        outgoing = _Outgoing(client_id, f"drill widget message {client_id}")
        self.outbox[client_id] = outgoing
        self.sent[client_id] = outgoing

    def _connect(self):
        return websockets.connect(ws_url(self.web.url, f"/ws/widget/{self.key}/"), origin=self.origin,
                                  open_timeout=5, ping_interval=None, close_timeout=1)

    async def _session(self, ws, web: int, stop: asyncio.Event) -> None:
        if self.token:
            cursor = {"conversation_id": self.cursor[0], "seq": self.cursor[1]} if self.cursor else None
            await ws.send(json.dumps({"type": "resume", "token": self.token, "cursor": cursor}))
        else:
            await ws.send(json.dumps({"type": "start", "name": self.name}))
        ready, in_flight = False, set()
        next_ping, pong_due = time.monotonic() + self.PING_EVERY, None
        while not stop.is_set():
            if ready:
                for client_id in [c for c in self.outbox if c not in in_flight]:
                    out = self.outbox[client_id]
                    await ws.send(json.dumps({"type": "message", "id": out.client_id, "body": out.body}))
                    in_flight.add(client_id)
            now = time.monotonic()
            if pong_due is not None and now > pong_due:
                raise _Dead
            if now >= next_ping and pong_due is None:
                await ws.send(json.dumps({"type": "ping"}))
                next_ping, pong_due = now + self.PING_EVERY, now + self.PONG_WITHIN
            try:
                raw = await asyncio.wait_for(ws.recv(), timeout=0.2)
            except asyncio.TimeoutError:
                continue
            message = json.loads(raw)
            kind = message.get("type")
            if kind == "welcome":
                ready = True
                self._welcomed(message, web)
            elif kind == "pong":
                pong_due = None
            elif kind == "event":
                self._event(message["event"])
            elif kind == "ack":
                self.acked[message["id"]] = message["event_id"]
                self.outbox.pop(message["id"], None)
                self.conversation_id = message["conversation_id"]
            elif kind == "error":
                self.errors.append(message.get("code", "?"))
                in_flight.discard(message.get("id"))

    def _welcomed(self, message: dict, web: int) -> None:
        self.token = message["token"]
        self.connected_to = web
        if self._dropped is not None:
            dropped_at, from_web = self._dropped
            self.reconnects.append(Reconnect(dropped_at, time.monotonic(), from_web, web))
            self._dropped = None

    def _event(self, event: dict) -> None:
        key = (event["conversation_id"], event["seq"])
        self.received.append(key)
        if self.cursor is None or key > self.cursor:
            self.cursor = key
        self.conversation_id = event["conversation_id"]

    def problems(self, visible: list[tuple[int, int]]) -> dict[str, int]:
        """Against the events the database says this visitor may see."""
        got = set(self.received)
        return {
            "missing": len(set(visible) - got),
            "duplicates": len(self.received) - len(got),
            "unexpected": len(got - set(visible)),
            "out_of_order": sum(1 for a, b in zip(self.received, self.received[1:]) if b <= a),
            "unacked": len(self.outbox),
            "refused": len(self.refused),
        }


@dataclass
class InboundFlow:
    """Custom-channel messages posted round the web processes at a steady
    rate. A request that fails is retried on the next process with the same
    source id, as an integration would; the hub ignores repeats."""

    urls: list[str]
    token: str
    departments: list[str]
    rate: float = 10.0
    tag: str = field(default_factory=lambda: uuid.uuid4().hex[:8])
    posted: int = 0
    created: int = 0
    retries: int = 0
    abandoned: int = 0
    source_ids: list[str] = field(default_factory=list)

    async def run(self, stop: asyncio.Event) -> None:
        async with httpx.AsyncClient(headers={"Authorization": f"Bearer {self.token}"}, timeout=15) as client:
            tasks = []
            for n in itertools.count():
                if stop.is_set():
                    break
                tasks.append(asyncio.create_task(self._post(client, n)))
                await asyncio.sleep(1 / self.rate)
            await asyncio.gather(*tasks)

    async def _post(self, client: httpx.AsyncClient, n: int) -> None:
        source_id = f"drill-{self.tag}-{n}"
        payload = {"source_id": source_id, "body": f"drill inbound {source_id}",
                   "contact": {"phone": f"+1555{7000000 + n % 40:07d}", "first_name": "Drill"},
                   "department": self.departments[n % len(self.departments)]}
        self.source_ids.append(source_id)
        web = Failover(self.urls, n)
        for attempt in range(40):
            try:
                response = await client.post(web.url + "/api/v1/inbound", json=payload)
                if response.status_code in (200, 201):
                    self.posted += 1
                    self.created += response.status_code == 201
                    return
            except httpx.TransportError:
                pass
            self.retries += 1
            web.next()
            await asyncio.sleep(0.5)
        self.abandoned += 1


@dataclass
class ChatReplies:
    """Agents answering the chats now and then, through the REST API."""

    urls: list[str]
    token: str
    widgets: list[WidgetClient]
    every: float = 1.0
    sent: int = 0
    failed: int = 0

    async def run(self, stop: asyncio.Event) -> None:
        async with httpx.AsyncClient(headers={"Authorization": f"Bearer {self.token}"}, timeout=15) as client:
            for n in itertools.count():
                if stop.is_set():
                    return
                await asyncio.sleep(self.every)
                open_chats = [w for w in self.widgets if w.conversation_id]
                if not open_chats:
                    continue
                widget = random.choice(open_chats)
                ok = await self._reply(client, widget.conversation_id, n)
                self.sent += ok
                self.failed += not ok

    async def _reply(self, client: httpx.AsyncClient, conversation_id: int, n: int) -> bool:
        """Tried on the next process only when the request never arrived:
        a reply carries no id that would make a second one harmless."""
        for attempt in range(len(self.urls)):
            url = self.urls[(n + attempt) % len(self.urls)]
            try:
                response = await client.post(f"{url}/api/v1/conversations/{conversation_id}/messages",
                                             json={"body": f"drill reply {n}"})
                return response.status_code == 201
            except httpx.ConnectError:
                continue
            except httpx.TransportError:
                return False
        return False


async def chatter(widgets: list[WidgetClient], stop: asyncio.Event, every: float) -> None:
    """Each widget says something every `every` seconds, give or take."""
    while not stop.is_set():
        for widget in widgets:
            widget.say()
        await asyncio.sleep(every * random.uniform(0.8, 1.2))


async def until(condition, timeout: float, step: float = 0.25) -> bool:
    """Wait until `condition()` (sync, may read the database) holds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if await asyncio.to_thread(condition):
            return True
        await asyncio.sleep(step)
    return await asyncio.to_thread(condition)
