"""The hub as production runs it, several processes sharing one PostgreSQL
and one Redis (hub.devtools.cluster: two web servers, two workers, beat):
what reaches one process is seen through every other, and a console whose
server is killed reconnects to another and gets exactly what it missed.

Everything goes through public surfaces (HTTP, signed webhooks, console
sockets). Uses the PostgreSQL and Redis on 127.0.0.1 (database
hub_cluster_test, Redis db 10); skipped when either is not there.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import random
import re
import signal
import socket
import uuid
from dataclasses import dataclass

import httpx
import pytest
import websockets

from hub.demo.staff import STAFF
from hub.devtools.cluster import Cluster
from tests import phi_scan

pytestmark = pytest.mark.slow

DATABASE = "hub_cluster_test"
SERVER_URL = "postgres://postgres@127.0.0.1:5432"
REDIS_URL = "redis://127.0.0.1:6379/10"
PRACTICE_NUMBER = "+15550100100"  # the demo practice's (hub.demo.seed)
HEARTBEAT_SECONDS = 2
PASSWORDS = {username: password for username, *_, password in STAFF}


@dataclass
class Hub:
    cluster: Cluster
    token: str  # the demo integration's API token

    def url(self, i: int) -> str:
        return self.cluster.web_urls[i]


def _reachable(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        return True
    except OSError:
        return False


def _ensure_database() -> None:
    import psycopg

    try:
        with psycopg.connect(f"{SERVER_URL}/postgres", autocommit=True, connect_timeout=3) as conn:
            if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [DATABASE]).fetchone():
                conn.execute(f'CREATE DATABASE "{DATABASE}"')
    except psycopg.OperationalError as exc:
        pytest.skip(f"PostgreSQL on 127.0.0.1 refused us: {exc}")


def _free_ports(count: int) -> int:
    """The first of `count` free consecutive ports, outside the ephemeral range."""
    while True:
        base = random.randint(20000, 29000)
        try:
            for port in range(base, base + count):
                with socket.socket() as probe:
                    probe.bind(("127.0.0.1", port))
            return base
        except OSError:
            continue


@pytest.fixture(scope="module")
def hub(tmp_path_factory):
    if not (_reachable(5432) and _reachable(6379)):
        pytest.skip("needs the PostgreSQL (5432) and Redis (6379) on 127.0.0.1")
    _ensure_database()
    prefix = f"hubcluster{os.getpid()}"
    cluster = Cluster(
        database_url=f"{SERVER_URL}/{DATABASE}", redis_url=REDIS_URL, base_port=_free_ports(2), webs=2, workers=2,
        beat=True, var_dir=tmp_path_factory.mktemp("cluster"), queue=f"cluster-{uuid.uuid4().hex[:8]}",
        env={"HUB_ENV": "development", "CHANNEL_LAYER_PREFIX": prefix, "CACHE_KEY_PREFIX": prefix,
             "HEARTBEAT_SECONDS": str(HEARTBEAT_SECONDS), "LOG_LEVEL": "WARNING", "EHR_DEMO": "0",
             "SMS_BACKEND": "sandbox", "VOICE_BACKEND": "sandbox", "TWILIO_ACCOUNT_SID": "", "TWILIO_AUTH_TOKEN": "",
             "TWILIO_API_BASE_URL": ""})
    cluster.start(timeout=90)
    try:
        cluster.manage("seed_demo")
        token = cluster.manage("create_api_token", "integration", "--name", "cluster test").strip().splitlines()[-1]
        yield Hub(cluster, token)
    finally:
        cluster.stop()


# --- clients ---------------------------------------------------------------------

async def sign_in(base: str, username: str) -> httpx.Cookies:
    async with httpx.AsyncClient(base_url=base) as client:
        page = await client.get("/console/login/")
        csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
        response = await client.post("/console/login/", data={
            "username": username, "password": PASSWORDS[username], "csrfmiddlewaretoken": csrf, "next": "/console/"})
        assert response.status_code == 302, response.text[:500]
        return client.cookies


def cookie_header(cookies: httpx.Cookies) -> str:
    return "; ".join(f"{name}={value}" for name, value in cookies.items())


class Console:
    """A console socket as the page drives it: hello with its cursors, and
    the last sequence applied on each stream."""

    def __init__(self, base: str, cookies: httpx.Cookies):
        self.base, self.cookies = base, cookies
        self.cursors: dict[str, int] = {}
        self.socket = None

    async def open(self, base: str | None = None) -> dict:
        self.base = base or self.base
        self.socket = await websockets.connect(self.base.replace("http", "ws", 1) + "/ws/console/", origin=self.base,
                                               additional_headers={"Cookie": cookie_header(self.cookies)})
        await self.socket.send(json.dumps({"type": "hello", "cursors": self.cursors}))
        welcome = await self.next()
        assert welcome["type"] == "welcome", welcome
        for stream, head in welcome["heads"].items():
            self.cursors.setdefault(stream, head)
        return welcome

    async def next(self, timeout: float = 10) -> dict:
        """The next message other than a heartbeat; sequenced ones must come
        in order, each once."""
        while True:
            message = json.loads(await asyncio.wait_for(self.socket.recv(), timeout))
            if message["type"] == "heartbeat":
                continue
            if "seq" in message:
                stream = message["stream"]
                assert message["seq"] > self.cursors.get(stream, 0), ("sent twice", message)
                self.cursors[stream] = message["seq"]
            return message

    async def until(self, predicate, timeout: float = 10) -> list[dict]:
        """Messages up to and including the first that matches."""
        seen = []
        async with asyncio.timeout(timeout):
            while not seen or not predicate(seen[-1]):
                seen.append(await self.next(timeout))
        return seen

    async def until_closed(self, timeout: float = 5) -> None:
        """Apply what was already received, then see the socket end."""
        with contextlib.suppress(websockets.ConnectionClosed):
            while True:
                await self.next(timeout)

    async def close(self) -> None:
        await self.socket.close()


def body_is(text: str):
    return lambda m: m["type"] == "event.created" and m["payload"].get("body") == text


def patient_phone() -> str:
    phone = f"+1555{random.randint(2000000, 9999999)}"
    phi_scan._remember_phone(phone)  # the cluster's logs are scanned for it too
    return phone


async def post_inbound(hub: Hub, i: int, phone: str, body: str) -> None:
    phi_scan._remember(body, "message body")
    async with httpx.AsyncClient(base_url=hub.url(i), headers={"Authorization": f"Bearer {hub.token}"}) as client:
        response = await client.post("/api/v1/inbound", json={
            "source_id": uuid.uuid4().hex, "contact": {"phone": phone, "first_name": "Cluster"}, "body": body})
    assert response.status_code == 201, response.text


async def text_from_patient(hub: Hub, i: int, phone: str, body: str) -> None:
    """A Twilio SMS webhook to web `i`, signed for the hub's one public URL."""
    from twilio.request_validator import RequestValidator

    from channels_app.twilio_common.simulate import incoming_sms

    phi_scan._remember(body, "message body")
    params = incoming_sms(from_=phone, to=PRACTICE_NUMBER, body=body)
    params["AccountSid"] = "AC" + "0" * 32
    path = "/webhooks/twilio/sms"
    signature = RequestValidator("sandbox-auth-token").compute_signature(hub.cluster.env["PUBLIC_BASE_URL"] + path,
                                                                         params)
    async with httpx.AsyncClient() as client:
        response = await client.post(hub.url(i) + path, data=params, headers={"X-Twilio-Signature": signature})
    assert response.status_code == 200, response.text


def marker(label: str) -> str:
    return f"{label} {uuid.uuid4().hex[:12]}"


# --- the tests -----------------------------------------------------------------------

@pytest.mark.asyncio
async def test_what_one_process_ingests_reaches_sockets_on_the_others(hub):
    cookies = await sign_in(hub.url(0), "sam")  # a supervisor follows every department
    on_web1, on_web0 = Console(hub.url(1), cookies), Console(hub.url(0), cookies)
    await on_web1.open()
    await on_web0.open()
    phone = patient_phone()

    rest = marker("Through the API on web0:")
    await post_inbound(hub, 0, phone, rest)
    await on_web1.until(body_is(rest))

    sms = marker("A text through web1:")
    await text_from_patient(hub, 1, phone, sms)  # signed for web0's URL, answered by web1
    await on_web0.until(body_is(sms))
    await on_web1.close()
    await on_web0.close()


@pytest.mark.asyncio
async def test_presence_set_through_one_process_is_seen_through_another(hub):
    alice = await sign_in(hub.url(0), "alice")
    sam = Console(hub.url(1), await sign_in(hub.url(1), "sam"))
    await sam.open()
    async with httpx.AsyncClient(base_url=hub.url(0), cookies=alice,
                                 headers={"X-CSRFToken": alice["csrftoken"]}) as client:

        async def set_presence(presence: str) -> None:
            response = await client.put("/api/v1/me/presence", json={"presence": presence})
            assert response.status_code == 200, response.text

        await set_presence("available")  # from wherever an earlier run left her
        for presence in ("busy", "available"):
            await set_presence(presence)
            await sam.until(lambda m, presence=presence: presence_of(m, "Alice") == presence)
    async with httpx.AsyncClient(base_url=hub.url(1), cookies=alice) as client:
        staff = (await client.get("/api/v1/directory")).json()["staff"]
    assert {s["name"].split()[0]: s["presence"] for s in staff}["Alice"] == "available"
    await sam.close()


@pytest.mark.asyncio
async def test_a_console_whose_server_is_killed_gets_exactly_what_it_missed_from_another(hub):
    sam = Console(hub.url(0), await sign_in(hub.url(0), "sam"))
    await sam.open()
    # Bob's only console is on web0 too, and he never comes back.
    bob = Console(hub.url(0), await sign_in(hub.url(0), "bob"))
    await bob.open()
    phone = patient_phone()
    live = marker("Before the crash:")
    await post_inbound(hub, 1, phone, live)
    stream = (await sam.until(body_is(live)))[-1]["stream"]
    old_pid = hub.cluster.processes()["web0"]

    hub.cluster.kill_web(0, signal.SIGKILL)
    await sam.until_closed()
    before = sam.cursors[stream]
    missed = [marker(f"Missed {n}:") for n in range(3)]
    for body in missed:
        await post_inbound(hub, 1, phone, body)

    welcome = await sam.open(hub.url(1))  # hello with the cursors of what it applied
    head = welcome["heads"][stream]
    replayed = await sam.until(lambda m: sam.cursors[stream] >= head)
    assert [m["seq"] for m in replayed if m.get("stream") == stream] == list(range(before + 1, head + 1))
    assert [m["payload"]["body"] for m in replayed if m["type"] == "event.created"
            and m["payload"].get("body", "").startswith("Missed ")] == missed

    # Nobody closed Bob's socket, so nobody scheduled his presence check:
    # the sweep notices that his console went quiet.
    await sam.until(lambda m: presence_of(m, "Bob") == "offline", timeout=3 * HEARTBEAT_SECONDS + 25)
    await sam.close()

    hub.cluster.start_web(0)
    assert hub.cluster.processes()["web0"] != old_pid
    async with httpx.AsyncClient() as client:
        assert (await client.get(hub.url(0) + "/healthz")).status_code == 200


def presence_of(message: dict, first_name: str) -> str | None:
    if message["type"] == "presence.updated" and message["payload"]["name"].startswith(first_name):
        return message["payload"]["presence"]
    return None
