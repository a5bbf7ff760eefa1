"""The simulated people and systems of a load run (bench/load.py): chat
widget patients, agents on the console, and Twilio posting webhooks.

All of them run on the generator's one event loop and report to its
`Recorder`. Each patient and agent talks to one web process (they
alternate); the webhooks are spread over all of them. Sending stops when
`Stops.sending` is set; sockets stay open, still receiving, until
`Stops.all` is set.
"""

from __future__ import annotations

import asyncio
import json
import random
import secrets
import time
from collections import deque
from dataclasses import dataclass

import httpx
import websockets
from twilio.request_validator import RequestValidator

from load_metrics import TAG_IN, TAG_REPLY, Recorder, find_tag

# Console close codes after which reconnecting cannot help (docs/protocol.md).
FINAL_CLOSE_CODES = {4400, 4401, 4403, 4440, 4441}
# How long Twilio waits for a webhook's answer before it gives up (and retries).
TWILIO_TIMEOUT = 15.0
# Words the demo practice's routing rules send to each department.
ROUTING_WORDS = ["appointment", "bill", "new patient", "refill"]


def new_tag() -> str:
    return secrets.token_hex(8)


def ws_url(http_url: str, path: str) -> str:
    return "ws" + http_url[len("http"):] + path


async def _until(event: asyncio.Event, seconds: float) -> bool:
    """Sleep `seconds`, or less when `event` is set; whether it is set."""
    try:
        await asyncio.wait_for(event.wait(), timeout=max(seconds, 0))
    except asyncio.TimeoutError:
        pass
    return event.is_set()


@dataclass(frozen=True)
class Target:
    """The hub under load, as the generator sees it."""

    web_urls: list[str]
    public_base_url: str  # what Twilio signs, whichever process it reaches
    widget_key: str
    practice_number: str
    account_sid: str
    auth_token: str


@dataclass(frozen=True)
class Stops:
    """When to stop sending, and when to close every socket."""

    sending: asyncio.Event
    all: asyncio.Event


class Slots:
    """At most `limit` requests of one kind awaiting an answer. Past it a
    request is not sent, and counted: an overloaded hub must not make the
    generator queue requests inside its HTTP client (whose pool is sized to
    the limit), where waiting requests cost it time on every request."""

    def __init__(self, limit: int, rec: Recorder, what: str):
        self.limit, self.rec, self.what = limit, rec, what
        self.used = 0

    def take(self) -> bool:
        if self.used >= self.limit:
            self.rec.error(f"{self.what} not sent: {self.limit} already awaiting an answer")
            return False
        self.used += 1
        return True

    def give(self) -> None:
        self.used -= 1


# --- chat widget patients ------------------------------------------------------

class Patient:
    """A visitor on the practice's website: bootstraps the widget over HTTP,
    starts a chat, writes now and then, pings as the widget does, and reads
    the practice's replies."""

    def __init__(self, index: int, base: str, target: Target, rec: Recorder, http: httpx.AsyncClient, *,
                 every: tuple[float, float], ping_every: float, topic: str):
        self.index, self.base, self.target, self.rec, self.http = index, base, target, rec, http
        self.every, self.ping_every, self.topic = every, ping_every, topic
        self.token: str | None = None
        self.socket_path = f"/ws/widget/{target.widget_key}/"
        self.ready = asyncio.Event()

    async def run(self, stops: Stops) -> None:
        try:
            await self._bootstrap()
        except httpx.HTTPError as exc:
            self.rec.error(f"widget config: {type(exc).__name__}")
        while not stops.all.is_set():
            try:
                await self._session(stops)
            except (OSError, asyncio.TimeoutError, websockets.WebSocketException) as exc:
                if stops.all.is_set():
                    return  # a slow close at the end of the run is not the hub's fault
                self.rec.error(f"widget socket: {type(exc).__name__}")
            if stops.all.is_set():
                return
            self.rec.count("widget reconnect")
            await _until(stops.all, random.uniform(1, 3))

    async def _bootstrap(self) -> None:
        """What widget.js does first: the practice's configuration, from the
        page's origin."""
        response = await self.http.get(f"{self.base}/webchat/{self.target.widget_key}/config",
                                       headers={"Origin": self.target.public_base_url})
        if response.status_code != 200:
            self.rec.error(f"widget config: HTTP {response.status_code}")
            return
        self.socket_path = response.json()["socket"]

    async def _session(self, stops: Stops) -> None:
        async with websockets.connect(ws_url(self.base, self.socket_path), origin=self.target.public_base_url,
                                      ping_interval=None, open_timeout=60, close_timeout=2) as ws:
            start = ({"type": "resume", "token": self.token} if self.token
                     else {"type": "start", "name": f"Load{self.index}"})
            await ws.send(json.dumps(start))
            if not await self._welcomed(ws):
                self.rec.error(f"widget closed before welcome: {ws.close_code}")
                return
            self.ready.set()
            sender = asyncio.create_task(self._send(ws, stops))
            try:
                async for raw in ws:
                    self._on_message(json.loads(raw), time.perf_counter())
            finally:
                sender.cancel()
            if ws.close_code not in (1000, None) and not stops.all.is_set():
                self.rec.error(f"widget closed: {ws.close_code}")

    async def _welcomed(self, ws) -> bool:
        async for raw in ws:
            message = json.loads(raw)
            self._on_message(message, time.perf_counter())
            if message.get("type") == "welcome":
                return True
        return False

    async def _send(self, ws, stops: Stops) -> None:
        next_message = time.perf_counter() + random.uniform(0, self.every[1])
        next_ping = time.perf_counter() + random.uniform(0, self.ping_every)
        try:
            while not stops.all.is_set():
                now = time.perf_counter()
                if now >= next_ping:
                    await ws.send('{"type": "ping"}')
                    next_ping = now + self.ping_every
                if now >= next_message and not stops.sending.is_set():
                    await self._message(ws)
                    next_message = now + random.uniform(*self.every)
                await _until(stops.all, min(next_ping, next_message) - time.perf_counter())
            await ws.close()
        except websockets.ConnectionClosed:
            pass  # the receiving side notices and reconnects

    async def _message(self, ws) -> None:
        tag = new_tag()
        self.rec.sent_inbound(tag, "widget", time.perf_counter())
        self.rec.count("in: widget message")
        await ws.send(json.dumps({"type": "message", "id": tag, "topic": self.topic,
                                  "body": f"Hello, a question for you please {TAG_IN}{tag}]"}))

    def _on_message(self, message: dict, at: float) -> None:
        kind = message.get("type")
        if kind == "welcome":
            self.token = message["token"]
            self.ready.set()
        elif kind == "ack":
            tag = message.get("id")
            item = self.rec.inbound.get(tag)
            if item is not None:
                self.rec.answered_inbound(tag, True)
                self.rec.timing("widget message ack", item.sent, at)
        elif kind == "event":
            event = message["event"]
            if event.get("direction") == "out":
                tag = find_tag(event.get("body") or "", TAG_REPLY)
                if tag:
                    self.rec.reply_at_widget(tag, at)
        elif kind == "error":
            self.rec.error(f"widget error: {message.get('code')}")
            if message.get("id"):
                self.rec.answered_inbound(message["id"], False)


# --- agents ----------------------------------------------------------------------

class Agent:
    """A staff member with the console open: follows their departments'
    streams by sequence and, if a replier, answers some of the inbound
    messages they own (by conversation) through the REST API."""

    def __init__(self, index: int, account: dict, base: str, rec: Recorder, http: httpx.AsyncClient, *,
                 owners: dict[int, list[int]], reply_ratio: float, think: tuple[float, float], slots: Slots):
        self.index, self.account, self.base, self.rec, self.http = index, account, base, rec, http
        self.owners, self.reply_ratio, self.think, self.slots = owners, reply_ratio, think, slots
        self.state = rec.socket(index, frozenset(account["departments"]))
        self.ready = asyncio.Event()
        self.replies: set[asyncio.Task] = set()
        self.stops: Stops | None = None

    async def run(self, stops: Stops) -> None:
        self.stops = stops
        while not stops.all.is_set():
            try:
                code = await self._session(stops)
            except (OSError, asyncio.TimeoutError, websockets.WebSocketException) as exc:
                code = None
                if not stops.all.is_set():
                    self.rec.error(f"console socket: {type(exc).__name__}")
            if stops.all.is_set():
                break
            if code in FINAL_CLOSE_CODES:
                self.rec.error(f"console closed for good: {code}")
                break
            self.state.reconnects += 1
            await _until(stops.all, random.uniform(0.5, 2))
        await asyncio.gather(*self.replies, return_exceptions=True)

    async def _session(self, stops: Stops) -> int | None:
        async with websockets.connect(ws_url(self.base, "/ws/console/"), origin=self.base,
                                      additional_headers={"Cookie": self.account["cookie"]},
                                      ping_interval=None, open_timeout=60, close_timeout=2) as ws:
            # A reconnect says where it was: the server replays the rest.
            await ws.send(json.dumps({"type": "hello", "cursors": dict(self.state.cursors)}))
            closer = asyncio.create_task(self._close_when(ws, stops))
            try:
                async for raw in ws:
                    self._on_message(json.loads(raw), time.perf_counter())
            finally:
                closer.cancel()
            return ws.close_code

    @staticmethod
    async def _close_when(ws, stops: Stops) -> None:
        await stops.all.wait()
        await ws.close()

    def _on_message(self, message: dict, at: float) -> None:
        kind = message.get("type")
        self.rec.count("console message", at)
        if kind == "welcome":
            self.rec.welcomed(self.index, message["heads"], at)
            self.ready.set()
            return
        if kind == "resync":
            self.rec.resynced(self.index, message["stream"], message["seq"])
            return
        seq = message.get("seq")
        if seq is None:
            return
        stream = message["stream"]
        self.rec.sequenced(self.index, stream, seq)
        payload = message.get("payload") or {}
        if kind == "event.created" and payload.get("direction") == "in":
            tag = find_tag(payload.get("body") or "", TAG_IN)
            item = self.rec.arrived(tag, self.index, stream, at) if tag else None
            if item is not None and self._owns(item.department, payload["conversation_id"]):
                self._maybe_reply(payload["conversation_id"], item.kind)
        elif kind == "event.updated":
            tag = find_tag(payload.get("body") or "", TAG_REPLY)
            if tag:
                self.rec.delivery_update(tag, payload.get("delivery_status", ""), at)

    def _owns(self, department: int | None, conversation_id: int) -> bool:
        """One replier per conversation, so replies do not pile onto one thread."""
        repliers = self.owners.get(department) or []
        return bool(repliers) and repliers[conversation_id % len(repliers)] == self.index

    def _maybe_reply(self, conversation_id: int, channel: str) -> None:
        if self.stops.sending.is_set() or random.random() >= self.reply_ratio:
            return
        task = asyncio.create_task(self._reply(conversation_id, channel))
        self.replies.add(task)
        task.add_done_callback(self.replies.discard)

    async def _reply(self, conversation_id: int, channel: str) -> None:
        if await _until(self.stops.sending, random.uniform(*self.think)) or not self.slots.take():
            return
        tag = new_tag()
        reply = self.rec.posted_reply(tag, channel, time.perf_counter())
        try:
            response = await self.http.post(
                f"{self.base}/api/v1/conversations/{conversation_id}/messages",
                json={"body": f"Thanks, we are looking into it. {TAG_REPLY}{tag}]"},
                headers={"Authorization": f"Bearer {self.account['token']}"})
        except httpx.HTTPError as exc:
            self.rec.error(f"reply: {type(exc).__name__}")
            return
        finally:
            self.slots.give()
        reply.answered, reply.status = time.perf_counter(), response.status_code
        if response.status_code != 201:
            self.rec.error(f"reply: HTTP {response.status_code}")


# --- Twilio ------------------------------------------------------------------------

class Webhooks:
    """Twilio's side: signed incoming texts, and calls (the incoming-call
    webhook, then the status callback when the caller hangs up in the menu),
    at a fixed total rate, open loop, spread over the web processes."""

    def __init__(self, target: Target, rec: Recorder, http: list[httpx.AsyncClient], *, rate: float,
                 voice_share: float, sms_numbers: int, voice_numbers: int, call_seconds: tuple[float, float],
                 slots: Slots):
        self.target, self.rec, self.http = target, rec, http
        self.rate, self.voice_share, self.call_seconds = rate, voice_share, call_seconds
        self.slots = slots
        self.validator = RequestValidator(target.auth_token)
        self.sms_from = [f"+1555555{1000 + i:04d}" for i in range(sms_numbers)]
        self.voice_from = [f"+1555556{1000 + i:04d}" for i in range(voice_numbers)]
        self.calls: deque[tuple[float, str, str]] = deque()  # (hang-up time, CallSid, From), in time order
        self.in_flight: set[asyncio.Task] = set()
        self.sent = 0

    async def run(self, stops: Stops, tick: float = 0.01) -> None:
        credit, last = 0.0, time.perf_counter()
        while not stops.sending.is_set():
            now = time.perf_counter()
            credit += (now - last) * self.rate
            last = now
            while credit >= 1:
                credit -= 1
                self._launch(now)
            await asyncio.sleep(tick)
        await asyncio.gather(*self.in_flight, return_exceptions=True)

    def _launch(self, now: float) -> None:
        if not self.slots.take():
            return
        if random.random() < self.voice_share:
            # Taken off the list here, not in the task: two tasks must not end one call.
            ended = self.calls.popleft() if self.calls and self.calls[0][0] <= now else None
            post = self._call_status(*ended[1:]) if ended else self._incoming_call(now)
        else:
            post = self._incoming_sms()
        task = asyncio.create_task(post)
        self.in_flight.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task) -> None:
        self.in_flight.discard(task)
        self.slots.give()

    def _common(self, from_: str) -> dict:
        return {"AccountSid": self.target.account_sid, "From": from_, "To": self.target.practice_number,
                "ApiVersion": "2010-04-01"}

    async def _incoming_sms(self) -> None:
        tag, sid = new_tag(), "SM" + secrets.token_hex(16)
        from_ = random.choice(self.sms_from)
        word = ROUTING_WORDS[hash(from_) % len(ROUTING_WORDS)]  # a number keeps its department
        body = f"Hi, about my {word}, could someone get back to me {TAG_IN}{tag}]"
        params = {**self._common(from_), "MessageSid": sid, "SmsSid": sid, "SmsMessageSid": sid, "Body": body,
                  "NumMedia": "0", "NumSegments": "1", "SmsStatus": "received", "FromCountry": "US",
                  "ToCountry": "US"}
        self.rec.sent_inbound(tag, "sms", time.perf_counter())
        status = await self._post("/webhooks/twilio/sms", params, "webhook: SMS")
        if status is not None:
            self.rec.answered_inbound(tag, 200 <= status < 300)

    async def _incoming_call(self, now: float) -> None:
        sid, from_ = "CA" + secrets.token_hex(16), random.choice(self.voice_from)
        self.calls.append((now + random.uniform(*self.call_seconds), sid, from_))
        params = {**self._common(from_), "CallSid": sid, "CallStatus": "ringing", "Direction": "inbound"}
        await self._post("/webhooks/twilio/voice", params, "webhook: voice incoming")

    async def _call_status(self, sid: str, from_: str) -> None:
        params = {**self._common(from_), "CallSid": sid, "CallStatus": "completed", "Direction": "inbound",
                  "CallDuration": str(random.randint(3, 30))}
        await self._post("/webhooks/twilio/voice/status", params, "webhook: voice status")

    async def _post(self, path: str, params: dict, name: str) -> int | None:
        """Signed over the public URL, as Twilio signs; sent to the next web process."""
        base = self.target.web_urls[self.sent % len(self.target.web_urls)]
        self.sent += 1
        headers = {"X-Twilio-Signature": self.validator.compute_signature(self.target.public_base_url + path, params),
                   "I-Twilio-Idempotency-Token": secrets.token_hex(8)}
        started = time.perf_counter()
        self.rec.count(f"in: {name}", started)
        try:
            client = self.http[self.sent % len(self.http)]
            response = await client.post(base + path, data=params, headers=headers)
        except httpx.HTTPError as exc:
            self.rec.error(f"{name}: {type(exc).__name__}")
            return None
        self.rec.timing(name, started, time.perf_counter())
        if response.status_code >= 300:
            self.rec.error(f"{name}: HTTP {response.status_code}")
        return response.status_code

