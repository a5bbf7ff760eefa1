"""Inbound-to-console latency, against a bare Django Channels floor.

For each of N inbound messages: the time from the HTTP POST leaving the
client to the event's arrival on an agent's console websocket. The same run
measures the floor (bench/floor: a view that inserts one row and does one
group_send, to a consumer that forwards it) on the same database pool and
Redis, interleaved in rounds so drift hits both alike, and prints both and
their ratio.

    python bench/latency.py [--events 500] [--rounds 5] [--variant NAME:SETTING=VALUE,...]

`--variant` adds a hub server with the given environment (for example
`--variant no-token-cache:API_TOKEN_CACHE_SECONDS=0`), measured on the
custom-channel path in the same rounds, so one run compares a setting's
effect against the floor and the default hub alike.

Uses DATABASE_URL/REDIS_URL when set, else the local PostgreSQL and Redis
when they run, else SQLite and an embedded Redis.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import subprocess
import sys
import time
import uuid

from common import ROOT, Server, bench_environment, manage, percentiles, seeded_database

import httpx
import websockets

CREATE_FLOOR_TABLE = """
import django; django.setup()
from django.db import connection
pk = "id bigserial primary key" if connection.vendor == "postgresql" else "id integer primary key autoincrement"
with connection.cursor() as c:
    c.execute(f"CREATE TABLE IF NOT EXISTS bench_floor ({pk}, body text, created_at timestamp with time zone)")
"""


def setup(env: dict) -> str:
    seeded_database(env)
    subprocess.run([sys.executable, "-c", CREATE_FLOOR_TABLE], cwd=ROOT, env={**env, "DJANGO_SETTINGS_MODULE": "hub.settings"}, check=True)
    return manage(env, "create_api_token", "integration", "--name", "latency bench").strip()


async def console_session(base: str, username: str, password: str) -> str:
    async with httpx.AsyncClient(base_url=base) as client:
        page = await client.get("/console/login/")
        csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
        response = await client.post("/console/login/", data={"username": username, "password": password,
                                                              "csrfmiddlewaretoken": csrf, "next": "/console/"},
                                     headers={"Referer": base + "/console/login/"})
        assert response.status_code == 302, response.status_code
        return "; ".join(f"{k}={v}" for k, v in client.cookies.items())


async def measure_hub(base: str, token: str, cookie: str, n: int, warmup: int) -> list[float]:
    ws_url = base.replace("http", "ws") + "/ws/console/"
    samples = []
    async with websockets.connect(ws_url, origin=base, additional_headers={"Cookie": cookie}) as ws, \
            httpx.AsyncClient(base_url=base, headers={"Authorization": f"Bearer {token}"}) as client:
        await ws.send(json.dumps({"type": "hello", "cursors": {}}))
        while json.loads(await ws.recv())["type"] != "welcome":
            pass
        for i in range(warmup + n):
            marker = f"latency {uuid.uuid4().hex}"
            payload = {"source_id": marker, "contact": {"phone": "+15555550142", "first_name": "Bench"}, "body": marker,
                       "topic": "appointment"}
            started = time.perf_counter()
            post = asyncio.create_task(client.post("/api/v1/inbound", json=payload))
            while True:
                message = json.loads(await ws.recv())
                if message["type"] == "event.created" and message["payload"]["body"] == marker:
                    break
            elapsed = (time.perf_counter() - started) * 1000
            response = await post
            assert response.status_code == 201, response.text
            if i >= warmup:
                samples.append(elapsed)
    return samples


async def measure_sms(base: str, cookie: str, n: int, warmup: int) -> list[float]:
    """The same path through Twilio's signed SMS webhook."""
    from twilio.request_validator import RequestValidator

    validator = RequestValidator(os.environ.get("TWILIO_SANDBOX_AUTH_TOKEN", "sandbox-auth-token"))
    ws_url = base.replace("http", "ws") + "/ws/console/"
    url = base + "/webhooks/twilio/sms"
    samples = []
    async with websockets.connect(ws_url, origin=base, additional_headers={"Cookie": cookie}) as ws, \
            httpx.AsyncClient() as client:
        await ws.send(json.dumps({"type": "hello", "cursors": {}}))
        while json.loads(await ws.recv())["type"] != "welcome":
            pass
        for i in range(warmup + n):
            sid = "SM" + uuid.uuid4().hex
            params = {"MessageSid": sid, "SmsSid": sid, "AccountSid": "AC" + "0" * 32, "From": "+15555550143",
                      "To": "+15550100100", "Body": f"sms {sid}", "NumMedia": "0", "NumSegments": "1",
                      "SmsStatus": "received", "ApiVersion": "2010-04-01"}
            headers = {"X-Twilio-Signature": validator.compute_signature(url, params)}
            started = time.perf_counter()
            post = asyncio.create_task(client.post(url, data=params, headers=headers))
            while True:
                message = json.loads(await ws.recv())
                if message["type"] == "event.created" and message["payload"]["body"] == params["Body"]:
                    break
            elapsed = (time.perf_counter() - started) * 1000
            response = await post
            assert response.status_code == 200, response.text
            if i >= warmup:
                samples.append(elapsed)
    return samples


async def measure_floor(base: str, n: int, warmup: int) -> list[float]:
    ws_url = base.replace("http", "ws") + "/ws/floor/"
    samples = []
    async with websockets.connect(ws_url, origin=base) as ws, httpx.AsyncClient(base_url=base) as client:
        for i in range(warmup + n):
            marker = f"floor {uuid.uuid4().hex}"
            started = time.perf_counter()
            post = asyncio.create_task(client.post("/floor/", content=marker))
            while json.loads(await ws.recv())["body"] != marker:
                pass
            elapsed = (time.perf_counter() - started) * 1000
            assert (await post).status_code == 201
            if i >= warmup:
                samples.append(elapsed)
    return samples


def table(rows: dict[str, dict[str, float]]) -> str:
    width = max(34, *(len(name) + 2 for name in rows))
    lines = [f"{'path':<{width}}{'n':>6}{'p50 ms':>10}{'p95 ms':>10}{'p99 ms':>10}{'max ms':>10}"]
    for name, p in rows.items():
        lines.append(f"{name:<{width}}{p['n']:>6}{p['p50']:>10.2f}{p['p95']:>10.2f}{p['p99']:>10.2f}{p['max']:>10.2f}")
    return "\n".join(lines)


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=500, help="measured events per path (default 500)")
    parser.add_argument("--rounds", type=int, default=5, help="alternate hub and floor this many times")
    parser.add_argument("--warmup", type=int, default=30)
    parser.add_argument("--variant", action="append", default=[], metavar="NAME:SETTING=VALUE,...",
                        help="another hub server with these environment variables (repeatable)")
    args = parser.parse_args()
    variants = {}
    for spec in args.variant:
        name, _, assignments = spec.partition(":")
        variants[name] = dict(pair.split("=", 1) for pair in assignments.split(",") if pair)

    env = bench_environment()
    print(f"database: {env.get('DATABASE_URL', 'SQLite')}\nredis:    {env['REDIS_URL']}", flush=True)
    token = setup(env)
    hub = Server(env, "hub.asgi:application")
    floor = Server(env, "bench.floor.asgi:application", settings_module="bench.floor.settings")
    others = {name: Server({**env, **extra}, "hub.asgi:application") for name, extra in variants.items()}
    try:
        cookie = await console_session(hub.base, "alice", "hub-alice-demo")
        other_cookies = {name: await console_session(server.base, "alice", "hub-alice-demo")
                         for name, server in others.items()}
        per_round = max(1, args.events // args.rounds)
        hub_samples, sms_samples, floor_samples = [], [], []
        other_samples = {name: [] for name in others}
        for round_ in range(args.rounds):
            warmup = args.warmup if round_ == 0 else 5
            floor_samples += await measure_floor(floor.base, per_round, warmup)
            hub_samples += await measure_hub(hub.base, token, cookie, per_round, warmup)
            sms_samples += await measure_sms(hub.base, cookie, per_round, warmup)
            for name, server in others.items():
                other_samples[name] += await measure_hub(server.base, token, other_cookies[name], per_round, warmup)
        results = {
            "floor: bare Channels insert+send": percentiles(floor_samples),
            "hub: POST /api/v1/inbound": percentiles(hub_samples),
            "hub: signed Twilio SMS webhook": percentiles(sms_samples),
        }
        for name, samples in other_samples.items():
            results[f"hub ({name}): POST /api/v1/inbound"] = percentiles(samples)
        print()
        print(table(results))
        ratio = results["hub: POST /api/v1/inbound"]["p50"] / results["floor: bare Channels insert+send"]["p50"]
        ratio99 = results["hub: POST /api/v1/inbound"]["p99"] / results["floor: bare Channels insert+send"]["p99"]
        sms_ratio = results["hub: signed Twilio SMS webhook"]["p50"] / results["floor: bare Channels insert+send"]["p50"]
        print(f"\nratio hub/floor: p50 {ratio:.2f}  p99 {ratio99:.2f}  (target: p50 <= 1.5)")
        print(f"ratio sms/floor: p50 {sms_ratio:.2f}")
        for name in others:
            other = results[f"hub ({name}): POST /api/v1/inbound"]["p50"]
            print(f"ratio {name}/floor: p50 {other / results['floor: bare Channels insert+send']['p50']:.2f}")
        return 0
    finally:
        for server in (hub, floor, *others.values()):
            server.stop()


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
