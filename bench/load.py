"""The hub as a cluster under a day's peak: web-chat patients, agents on
the console and Twilio's webhooks at once.

Starts the production shape on this machine (`hub.devtools.cluster`: two
Daphne web processes, two Celery workers and beat on one PostgreSQL
database and one Redis database), prepares it (bench/load_setup.py: the
demo practice, open around the clock, and the run's agents), then drives it
from one event loop:

- N chat-widget patients, each on its own socket (alternating web
  processes) after the widget's HTTP bootstrap, writing every 20-40 s
  (jittered), pinging as the widget does, reading the practice's replies;
- M agents on `/ws/console/` (alternating web processes), following their
  departments' streams by sequence; a share of them answer some of the
  inbound messages through the REST API, which sends through Celery to
  Twilio (the local contract server, bench/load_twilio.py, or the sandbox);
- signed Twilio webhooks at R per second in total, spread over the web
  processes: incoming texts, and calls (incoming, then the status callback
  when the caller hangs up), from pools of distinct patient numbers.

After a warm-up it measures for D seconds, stops sending, waits for what is
still on its way (up to the loss deadline), and prints throughput, webhook
answer times, inbound-to-agent latency (each message's tag from its send
to each following agent socket), lost and duplicated events, and CPU and
memory of every hub process (and of PostgreSQL, Redis and the generator
itself, which share the cores). The figures also go to a JSON file, and
with --plot to an HTML page of charts.

    python bench/load.py                                # the full run: 500, 50, 50/s, 300 s
    python bench/load.py --patients 100 --agents 10 --webhook-rate 10 --duration 60
    python bench/load.py --duration 60 --plot var/load/run.html

Uses PostgreSQL database hub_load and Redis database 11 (both emptied first
unless --keep-database) unless told otherwise. Exits 1 when an event was
lost or a sequence repeated; latency is a figure to read, not a verdict.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import shlex
import shutil
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from pathlib import Path

import httpx

from common import ROOT, fresh_database
from load_actors import TWILIO_TIMEOUT, Agent, Patient, Slots, Stops, Target, Webhooks
from load_metrics import Recorder, percentiles
from load_report import series, table, write_html, write_json
from load_resources import BrokerQueue, DatabaseWaits, ResourceSampler
from load_selfcheck import StallWatch, watch_loop
from widget_idle import raise_fd_limit

from hub.devtools.cluster import Cluster

# httpcore asks `import sniffio` on every request and connection; sniffio is
# not installed, so each ask searched sys.path on disk, stalling the event
# loop under load. A None entry makes the failing import immediate.
sys.modules.setdefault("sniffio", None)

ACCOUNT_SID = "AC" + "10ad" * 8
AUTH_TOKEN = "load-run-auth-token"
SANDBOX_TOKEN = "sandbox-auth-token"
TARGET_P99_MS = 100.0
PROFILE_DIR = ROOT / "var" / "load" / "profile"
QUEUE = "hubload"
WEBHOOK_POOL = 16


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    load = p.add_argument_group("the load")
    load.add_argument("--patients", type=int, default=500, help="chat-widget patients, one socket each")
    load.add_argument("--message-every", type=float, nargs=2, default=(20.0, 40.0), metavar=("MIN", "MAX"),
                      help="seconds between one patient's messages (uniform)")
    load.add_argument("--widget-ping", type=float, default=20.0, help="seconds between a widget's pings")
    load.add_argument("--agents", type=int, default=50)
    load.add_argument("--departments-per-agent", type=int, default=1)
    load.add_argument("--manual-assignment", action="store_true",
                      help="every department assigns manually (the demo's Billing offers round robin)")
    load.add_argument("--reply-share", type=float, default=0.5, help="share of the agents who reply")
    load.add_argument("--reply-ratio", type=float, default=0.3,
                      help="share of the inbound messages a replier answers (one replier per conversation)")
    load.add_argument("--think", type=float, nargs=2, default=(1.0, 5.0), metavar=("MIN", "MAX"),
                      help="seconds before a reply is posted")
    load.add_argument("--webhook-rate", type=float, default=50.0, help="Twilio webhooks per second, in total")
    load.add_argument("--voice-share", type=float, default=0.3, help="share of the webhooks that are voice")
    load.add_argument("--call-seconds", type=float, nargs=2, default=(2.0, 8.0), metavar=("MIN", "MAX"),
                      help="from a call's incoming webhook to its status callback")
    load.add_argument("--sms-numbers", type=int, default=2000, help="distinct patients texting")
    load.add_argument("--voice-numbers", type=int, default=1000, help="distinct patients calling")
    load.add_argument("--duration", type=float, default=300.0, help="seconds measured")
    load.add_argument("--warmup", type=float, default=30.0, help="seconds of load before measuring")
    load.add_argument("--deadline", type=float, default=10.0,
                      help="seconds after which an inbound not on a following agent socket counts as lost")
    load.add_argument("--connect-rate", type=float, default=50.0, help="widget sockets opened per second")
    load.add_argument("--max-in-flight", type=int, default=150,
                      help="webhooks (and, apart, agent replies) awaiting an answer, at most")
    hub = p.add_argument_group("the hub")
    hub.add_argument("--webs", type=int, default=2)
    hub.add_argument("--workers", type=int, default=2)
    hub.add_argument("--base-port", type=int, default=8340, help="the first web's port; the others follow")
    hub.add_argument("--database-url", default="postgres://postgres@127.0.0.1:5432/hub_load")
    hub.add_argument("--redis-url", default="redis://127.0.0.1:6379/11")
    hub.add_argument("--keep-database", action="store_true",
                     help="do not drop and create the database (nor empty the Redis database) first")
    hub.add_argument("--twilio", choices=("contract", "sandbox"), default="contract",
                     help="Twilio's REST API: the local contract server, or the hub's sandbox backend")
    hub.add_argument("--generator-niceness", type=int, default=-10,
                     help="the generator's CPU priority once the hub runs (0: the same as the hub's)")
    hub.add_argument("--env", action="append", default=[], metavar="NAME=VALUE",
                     help="an extra setting for every hub process (repeatable)")
    hub.add_argument("--profile", action="store_true",
                     help="sample the hub processes' stacks (bench/load_profile.py) into var/load/profile/")
    out = p.add_argument_group("output")
    out.add_argument("--json", type=Path, default=ROOT / "var" / "load" / "last-run.json")
    out.add_argument("--plot", type=Path, help="write an HTML page of charts here")
    args = p.parse_args(argv)
    if args.agents < 1 or args.patients < 0 or args.duration <= 0:
        p.error("at least one agent and a positive duration")
    return args


# --- the Twilio side ---------------------------------------------------------------

class TwilioStub:
    """bench/load_twilio.py in its own process (its CPU is sampled apart)."""

    def __init__(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, str(ROOT / "bench" / "load_twilio.py"), "--account-sid", ACCOUNT_SID,
             "--auth-token", AUTH_TOKEN], cwd=ROOT, stdout=subprocess.PIPE, text=True)
        self.base_url = self.process.stdout.readline().strip()
        if not self.base_url.startswith("http"):
            self.stop()
            raise RuntimeError("the Twilio contract server did not start")

    def stop(self) -> dict | None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            rest, _ = self.process.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            return None
        return json.loads(rest.strip().splitlines()[-1]) if rest.strip() else None


def hub_settings(args: argparse.Namespace, twilio: TwilioStub | None) -> dict:
    env = {
        "HUB_ENV": "development",
        "LOG_LEVEL": "WARNING",
        "CHANNEL_LAYER_PREFIX": "hubload",
        "CACHE_KEY_PREFIX": "hubload",
        # Every simulated visitor comes from 127.0.0.1: lift the per-address
        # budgets a real crowd never shares (the per-visitor ones stay).
        "WIDGET_CONNECTS_PER_IP": "1000000",
        "WIDGET_MESSAGES_PER_IP": "1000000",
    }
    if twilio is not None:
        env.update(SMS_BACKEND="twilio", VOICE_BACKEND="twilio", TWILIO_ACCOUNT_SID=ACCOUNT_SID,
                   TWILIO_AUTH_TOKEN=AUTH_TOKEN, TWILIO_API_BASE_URL=twilio.base_url)
    else:
        env.update(SMS_BACKEND="sandbox", VOICE_BACKEND="sandbox", TWILIO_ACCOUNT_SID="", TWILIO_AUTH_TOKEN="",
                   TWILIO_SANDBOX_AUTH_TOKEN=SANDBOX_TOKEN)
    if args.profile:
        env.update(DJANGO_SETTINGS_MODULE="load_profile", LOAD_PROFILE_DIR=str(PROFILE_DIR),
                   PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT / "bench"), os.environ.get("PYTHONPATH")])))
    for item in args.env:
        name, _, value = item.partition("=")
        env[name] = value
    return env


def favour_generator(niceness: int) -> int:
    """Run the generator ahead of the hub for the CPU (the hub's processes,
    started before, keep the default priority), so that on a saturated
    machine the times it takes are the hub's, not its own queue's. The
    niceness now in effect."""
    if niceness:
        try:
            os.setpriority(os.PRIO_PROCESS, 0, niceness)
        except PermissionError:
            print(f"cannot set the generator's niceness to {niceness}; it runs at the hub's", flush=True)
    return os.getpriority(os.PRIO_PROCESS, 0)


def fresh_redis(url: str) -> None:
    """Empty the run's own Redis database (only that one): no task or group
    left from an earlier run."""
    import redis

    client = redis.Redis.from_url(url)
    try:
        client.flushdb()
    finally:
        client.close()


def prepare(cluster: Cluster, args: argparse.Namespace) -> dict:
    done = subprocess.run([sys.executable, str(ROOT / "bench" / "load_setup.py"), "--agents", str(args.agents),
                           "--departments-per-agent", str(args.departments_per_agent),
                           *(["--manual-assignment"] if args.manual_assignment else [])],
                          cwd=ROOT, env=cluster.env, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"load_setup.py failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


# --- driving it ------------------------------------------------------------------------

def build_agents(args, setup: dict, target: Target, rec: Recorder, http: httpx.AsyncClient) -> list[Agent]:
    slots = Slots(args.max_in_flight, rec, "reply")
    accounts = setup["agents"]
    repliers = set(range(round(len(accounts) * args.reply_share)))
    owners: dict[int, list[int]] = {}
    for index, account in enumerate(accounts):
        if index in repliers:
            for department in account["departments"]:
                owners.setdefault(department, []).append(index)
    return [Agent(i, account, target.web_urls[i % len(target.web_urls)], rec, http, owners=owners,
                  reply_ratio=args.reply_ratio, think=tuple(args.think), slots=slots)
            for i, account in enumerate(accounts)]


def build_patients(args, setup: dict, target: Target, rec: Recorder, http: httpx.AsyncClient) -> list[Patient]:
    topics = [t for slugs in setup["topics"].values() for t in slugs]
    return [Patient(i, target.web_urls[i % len(target.web_urls)], target, rec, http, every=tuple(args.message_every),
                    ping_every=args.widget_ping, topic=topics[i % len(topics)])
            for i in range(args.patients)]


async def _ready(events: list[asyncio.Event], timeout: float) -> int:
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline and not all(e.is_set() for e in events):
        await asyncio.sleep(0.2)
    return sum(e.is_set() for e in events)


async def _sample(samplers: list, rec: Recorder, stop: asyncio.Event) -> None:
    """Once a second, each probe in a thread of its own: /proc, PostgreSQL
    and Redis can keep a probe waiting, never the event loop."""
    loop = asyncio.get_running_loop()
    with ThreadPoolExecutor(1, thread_name_prefix="load-probe") as pool:
        while not stop.is_set():
            second = time.perf_counter()
            for sampler in samplers:
                started = time.perf_counter()
                await loop.run_in_executor(pool, sampler.sample, started)
                rec.timing(f"generator probe: {type(sampler).__name__}", started, time.perf_counter())
            await asyncio.sleep(max(0.0, 1.0 - (time.perf_counter() - second)))


async def _progress(rec: Recorder, stop: asyncio.Event, every: float = 15.0) -> None:
    last_second = rec.second(time.perf_counter())
    while not stop.is_set():
        await asyncio.sleep(every)
        now = rec.second(time.perf_counter())
        span = range(last_second, now)
        counts = {name: sum(c[s] for s in span) / max(len(span), 1) for name, c in rec.events.items()}
        inbound = sum(v for k, v in counts.items() if k in ("in: widget message", "in: webhook: SMS"))
        print(f"  [{now:4d} s] inbound {inbound:5.1f}/s  webhooks "
              f"{sum(v for k, v in counts.items() if k.startswith('in: webhook')):5.1f}/s  replies "
              f"{counts.get('out: agent reply', 0):4.1f}/s  console messages {counts.get('console message', 0):6.0f}/s"
              f"  errors {sum(rec.errors.values())}", flush=True)
        last_second = now


async def _drain(rec: Recorder, deadline: float) -> None:
    """Until every measured inbound reached every socket that should have
    it, or its deadline passed."""
    end = time.perf_counter() + deadline
    while time.perf_counter() < end and rec.pending_inbound(deadline, time.perf_counter()):
        await asyncio.sleep(0.5)


async def drive(args, setup: dict, target: Target, rec: Recorder, probes: dict) -> None:
    """Connect everyone, load the hub for the warm-up and the measured
    window, then let what is on its way arrive."""
    stops = Stops(sending=asyncio.Event(), all=asyncio.Event())
    samplers = [probes["resources"], probes["waits"], probes["broker"]]
    # Pools no larger than the requests allowed in flight: httpcore looks at
    # every pooled connection for each request (a system call or two each).
    # Twilio's side, with up to --max-in-flight webhooks open, is spread
    # over clients of WEBHOOK_POOL connections each, so that each request
    # looks at a few connections, not at all of them.
    pool = httpx.Limits(max_connections=args.max_in_flight, max_keepalive_connections=args.max_in_flight)
    per_client = min(WEBHOOK_POOL, args.max_in_flight)
    small = httpx.Limits(max_connections=per_client, max_keepalive_connections=per_client)
    async with contextlib.AsyncExitStack() as clients:
        http = await clients.enter_async_context(httpx.AsyncClient(timeout=30, limits=pool))
        twilio_http = [await clients.enter_async_context(httpx.AsyncClient(timeout=TWILIO_TIMEOUT, limits=small))
                       for _ in range(-(-args.max_in_flight // per_client))]
        background = [asyncio.create_task(_sample(samplers, rec, stops.all)),
                      asyncio.create_task(watch_loop(rec, probes["stalls"], stops.all))]
        agents = build_agents(args, setup, target, rec, http)
        tasks = [asyncio.create_task(a.run(stops)) for a in agents]
        print(f"agents on the console: {await _ready([a.ready for a in agents], 60)} of {len(agents)}", flush=True)
        patients = build_patients(args, setup, target, rec, http)
        for patient in patients:
            tasks.append(asyncio.create_task(patient.run(stops)))
            await asyncio.sleep(1 / args.connect_rate)
        print(f"widget patients chatting: {await _ready([p.ready for p in patients], 120)} of {len(patients)}",
              flush=True)
        webhooks = Webhooks(target, rec, twilio_http, rate=args.webhook_rate, voice_share=args.voice_share,
                            sms_numbers=args.sms_numbers, voice_numbers=args.voice_numbers,
                            call_seconds=tuple(args.call_seconds), slots=Slots(args.max_in_flight, rec, "webhook"))
        sending = asyncio.create_task(webhooks.run(stops))
        start = time.perf_counter() + args.warmup
        rec.set_window(start, start + args.duration)
        print(f"load on: {args.warmup:g} s warm-up, then {args.duration:g} s measured", flush=True)
        background.append(asyncio.create_task(_progress(rec, stops.all)))
        await asyncio.sleep(args.warmup + args.duration)
        await asyncio.to_thread(probes["broker"].snapshot)
        stops.sending.set()
        await sending
        await _drain(rec, args.deadline)
        stops.all.set()
        await asyncio.gather(*tasks, return_exceptions=True)
        for task in background:
            task.cancel()


# --- the figures ---------------------------------------------------------------------------

def judge(correctness: dict) -> tuple[bool, list[str]]:
    reasons = []
    p99 = correctness["inbound_to_agent"]["p99"]
    if p99 is None or p99 >= TARGET_P99_MS:
        reasons.append(f"inbound-to-agent p99 is {p99 if p99 is None else round(p99, 1)} ms")
    for key in ("lost_inbound", "lost_deliveries", "late_deliveries", "sequence_gaps", "duplicate_sequences",
                "duplicate_inbound_events"):
        if correctness[key]:
            reasons.append(f"{key.replace('_', ' ')}: {correctness[key]}")
    return not reasons, reasons


def run_facts(args, niceness: int | None) -> dict:
    return {"command": shlex.join([sys.executable, *sys.argv]),
            "at": datetime.now(timezone.utc).isoformat(timespec="seconds"), "cores": os.cpu_count(),
            "webs": args.webs, "workers": args.workers, "patients": args.patients, "agents": args.agents,
            "repliers": round(args.agents * args.reply_share), "webhook_rate": args.webhook_rate,
            "duration": args.duration, "warmup": args.warmup, "deadline": args.deadline, "twilio": args.twilio,
            "assignment": "manual everywhere" if args.manual_assignment else "as seeded (Billing: round robin)",
            "profiled": args.profile, "hub_settings": args.env, "generator_niceness": niceness}


def results(args, rec: Recorder, probes: dict, twilio_summary: dict | None, niceness: int | None) -> dict:
    correctness = rec.evaluate(args.deadline)
    replies = rec.reply_figures()
    timings = rec.timing_figures()
    latency = {
        **{name: p for name, p in timings.items() if name.startswith("webhook")},
        "inbound -> agent socket (every follower)": correctness["inbound_to_agent"],
        **{f"  of which {kind}": p for kind, p in sorted(correctness["inbound_to_agent_by_kind"].items())},
        "inbound -> first agent socket": correctness["inbound_to_first_agent"],
        "widget message -> ack": timings.get("widget message ack", percentiles([])),
        "reply: REST answer": replies["answer"],
        "reply -> past pending (sent on by Celery)": replies["to_provider"],
        "reply -> on the patient's widget": replies["to_widget"],
        "generator event-loop lag": timings.get("generator event-loop lag", percentiles([])),
        **{name: p for name, p in timings.items() if name.startswith("generator probe")},
    }
    if replies["to_delivered"]["n"]:
        latency["reply -> delivered (sandbox callbacks)"] = replies["to_delivered"]
    met, reasons = judge(correctness)
    return {
        "run": run_facts(args, niceness),
        "throughput": {name: rate for name, rate in rec.rates().items() if name.startswith(("in:", "out:", "console"))},
        "latency": latency,
        "correctness": {k: v for k, v in correctness.items() if not k.startswith("inbound_to")},
        "replies": replies,
        "errors": dict(rec.errors.most_common()),
        "processes": probes["resources"].summary(*rec.window),
        "database_sessions": probes["waits"].summary(*rec.window) if "waits" in probes else {},
        "celery_queue": probes["broker"].summary(*rec.window) if "broker" in probes else {},
        "generator_stalls": probes["stalls"].summary(),
        "twilio_server": twilio_summary,
        "target": {"p99_ms": TARGET_P99_MS, "met": met, "reasons": reasons},
    }


def report(args, result: dict, data: dict) -> None:
    text = table(result)
    print(text, flush=True)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    write_json(result, data, args.json)
    print(f"\nfigures: {args.json}")
    if args.plot:
        args.plot.parent.mkdir(parents=True, exist_ok=True)
        write_html(result, data, text, args.plot)
        print(f"charts:  {args.plot}")


def main() -> int:
    args = parse_args()
    raise_fd_limit(4 * (args.patients + args.agents) + 1000)
    if not args.keep_database:
        fresh_database({"DATABASE_URL": args.database_url})
        fresh_redis(args.redis_url)
    if args.profile:
        shutil.rmtree(PROFILE_DIR, ignore_errors=True)
    twilio = TwilioStub() if args.twilio == "contract" else None
    cluster = Cluster(database_url=args.database_url, redis_url=args.redis_url, base_port=args.base_port,
                      webs=args.webs, workers=args.workers, beat=True, var_dir=ROOT / "var" / "load",
                      env=hub_settings(args, twilio), queue=QUEUE)
    rec = Recorder()
    roles = {"generator": os.getpid(), **({"twilio server": twilio.process.pid} if twilio else {})}
    probes = {"stalls": StallWatch(),
              "resources": ResourceSampler(lambda: {**cluster.processes(), **roles}, alone=frozenset(roles))}
    twilio_summary, niceness = None, None
    try:
        print(f"starting the cluster: {', '.join(cluster.web_urls)} (logs in {cluster.var_dir})", flush=True)
        cluster.start(timeout=120)
        setup = prepare(cluster, args)
        target = Target(web_urls=cluster.web_urls, public_base_url=cluster.env["PUBLIC_BASE_URL"],
                        widget_key=setup["widget_key"], practice_number=setup["practice_number"],
                        account_sid=ACCOUNT_SID, auth_token=AUTH_TOKEN if twilio else SANDBOX_TOKEN)
        probes.update(waits=DatabaseWaits(args.database_url), broker=BrokerQueue(args.redis_url, QUEUE))
        niceness = favour_generator(args.generator_niceness)
        probes["stalls"].start()
        asyncio.run(drive(args, setup, target, rec, probes))
    finally:
        probes["stalls"].stop()
        cluster.stop()
        for name in ("waits", "broker"):
            if name in probes:
                probes[name].close()
        if twilio is not None:
            twilio_summary = twilio.stop()
    result = results(args, rec, probes, twilio_summary, niceness)
    report(args, result, series(rec, probes["resources"]))
    c = result["correctness"]
    return 1 if c["lost_inbound"] or c["lost_deliveries"] or c["duplicate_sequences"] else 0


if __name__ == "__main__":
    sys.exit(main())
