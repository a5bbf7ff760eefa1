"""Celery drills: workers SIGKILLed in the middle of texting patients
(`worker-kill`), and every worker and beat stopped across SLA deadlines
(`sla-worker-stop`)."""

from __future__ import annotations

import asyncio
import random
import signal
import threading
import time
import uuid
from collections import Counter
from datetime import datetime, timezone

import httpx

from drill_env import Report, cluster, make_staff, new_department, practice, spread

# --- worker-kill ----------------------------------------------------------------

def sms_conversations(n: int, tag: str) -> list[int]:
    """n patients who texted the practice, each with an open conversation."""
    from hub.actions.ingest import InboundEvent, ingest
    from hub.models import ContactPoint

    home = practice()
    return [ingest(InboundEvent(practice_id=home.pk, channel="sms", provider_id=f"SMdrill{tag}{i:04d}",
                                contact_kind=ContactPoint.Kind.PHONE, contact_address=f"+1555{6100000 + i:07d}",
                                body="drill: please text me back")).conversation.pk
            for i in range(n)]


async def _send(client: httpx.AsyncClient, urls: list[str], n: int, conversation_id: int, body: str) -> bool:
    """An agent's reply through the REST API (the n-th goes to web n mod
    2), retried on the other web process only when it never arrived."""
    for attempt in range(len(urls) * 3):
        try:
            url = urls[(n + attempt) % len(urls)]
            response = await client.post(f"{url}/api/v1/conversations/{conversation_id}/messages", json={"body": body})
            return response.status_code == 201
        except httpx.ConnectError:
            await asyncio.sleep(0.2)
    return False


def _burst(urls: list[str], token: str, conversations: list[int], bodies: list[str]) -> int:
    async def go() -> int:
        async with httpx.AsyncClient(headers={"Authorization": f"Bearer {token}"}, timeout=30) as client:
            results = await asyncio.gather(*(_send(client, urls, n, random.choice(conversations), body)
                                             for n, body in enumerate(bodies)))
        return sum(results)

    return asyncio.run(go())


def _outbound(conversations: list[int]):
    """Every text the hub sent these patients: the agents' replies and the
    automatic ones (the after-hours answer)."""
    from hub.models import Event

    return Event.objects.filter(conversation_id__in=conversations, direction=Event.Direction.OUT,
                                kind=Event.Kind.MESSAGE, channel="sms")


def _settled(conversations: list[int], timeout: float) -> float:
    """Wait until no text to these patients is pending; how long it took."""
    from hub.models import Event

    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if not _outbound(conversations).filter(delivery_status=Event.Delivery.PENDING).exists():
            break
        time.sleep(1)
    return time.monotonic() - started


def worker_kill(env: dict, report: Report, *, kills: int = 100, per_kill: int = 4, conversations: int = 40) -> None:
    from tests.channels_app.twilio_helpers import ACCOUNT_SID, AUTH_TOKEN
    from tests.contracts.twilio_server import TwilioContractServer

    tag = uuid.uuid4().hex[:6]
    (agent,) = make_staff("drillsender", 1)
    targets = sms_conversations(conversations, tag)
    twilio = TwilioContractServer(account_sid=ACCOUNT_SID, auth_token=AUTH_TOKEN)
    twilio.start()
    # Twilio stores each message, then answers a little later: a worker
    # killed in that window never learns the SID it was given.
    twilio.delay_next("POST", r"/Messages\.json$", seconds=0.3, times=10**6)
    settings = {"TWILIO_ACCOUNT_SID": ACCOUNT_SID, "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
                "TWILIO_API_BASE_URL": twilio.base_url, "SMS_BACKEND": "twilio", "VOICE_BACKEND": "twilio"}
    bodies: list[str] = []
    restart_times = []
    try:
        with cluster(env, extra=settings) as hub:
            started = time.monotonic()
            for k in range(kills):
                burst = [f"drill outbound {tag}-{len(bodies) + j}" for j in range(per_kill)]
                bodies += burst
                _burst(hub.web_urls, agent.token, targets, burst)
                time.sleep(random.uniform(0.05, 0.6))
                victim = k % hub.workers
                hub.kill_worker(victim, signal.SIGKILL)
                restarted = time.monotonic()
                hub.start_worker(victim, timeout=60)
                restart_times.append(time.monotonic() - restarted)
                if (k + 1) % 10 == 0:
                    print(f"  ... {k + 1} kills, {len(bodies)} replies posted", flush=True)
            report.figure("kills (SIGKILL of a worker's process group)", kills)
            report.figure("kill loop took", f"{time.monotonic() - started:.0f} s")
            report.figure("worker restart until it answers a ping", spread(restart_times))
            waited = _settled(targets, timeout=240)
            report.figure("last message settled after the last kill in", f"{waited:.1f} s")
        _judge_sends(report, twilio, targets, bodies)
    finally:
        twilio.stop()


def _judge_sends(report: Report, twilio, conversations: list[int], bodies: list[str]) -> None:
    """Each hub text and each message Twilio stored, matched by (recipient,
    body): every body is unique per recipient in this drill."""
    from hub.models import Event

    with twilio._lock:
        stored = Counter((m["to"], m["body"]) for m in twilio.messages.values() if m["direction"] == "outbound-api")
        sid_of = {(m["to"], m["body"]): m["sid"] for m in twilio.messages.values()}
        creates = twilio.count("POST", r"/Messages\.json$")
        lookups = twilio.count("GET", r"/Messages\.json$")
        fetches = twilio.count("GET", r"/Messages/SM[0-9a-f]+\.json$")
        clean = not twilio.violations and not twilio.self_errors
    events = list(_outbound(conversations).values_list("data__to", "body", "delivery_status", "provider_id",
                                                       "delivery_attempts"))
    sent = Counter((to, body) for to, body, *_ in events)
    consistent = [1 for to, body, status, sid, _ in events
                  if status in (Event.Delivery.QUEUED, Event.Delivery.SENT) and sid and sid == sid_of.get((to, body))]
    replies = {body for _, body, *_ in events} & set(bodies)
    report.figure("texts the hub sent (agents' replies + automatic)",
                  f"{len(events)} ({len(replies)} of {len(bodies)} replies posted)")
    report.figure("Twilio: message creates received", creates)
    report.figure("Twilio: messages stored", sum(stored.values()))
    report.figure("Twilio: duplicates (same recipient and body)", sum(n - 1 for n in stored.values()))
    report.figure("Twilio: reconcile look-ups (list / fetch)", f"{lookups} / {fetches}")
    report.figure("hub delivery statuses", dict(Counter(status for _, _, status, _, _ in events)))
    report.figure("hub attempts per message", dict(sorted(Counter(n for *_, n in events).items())))
    report.check("every posted reply is a hub text", replies == set(bodies))
    report.check("Twilio received each text exactly once (no duplicate)", all(n == 1 for n in stored.values()))
    report.check("no text lost (each hub text reached Twilio), none unknown to the hub",
                 set(stored) == set(sent) and all(n == 1 for n in sent.values()))
    report.check("every text's status is consistent (queued/sent, with Twilio's own SID)",
                 len(consistent) == len(events))
    report.check("no request broke Twilio's contract", clean)


# --- sla-worker-stop -------------------------------------------------------------

def _sla_conversations(urls: list[str], token: str, slug: str, n: int, every: float) -> None:
    """Patients writing in through the API, one every `every` seconds
    (without waiting for the answers, so a slow machine keeps the pace)."""
    async def write_in(client: httpx.AsyncClient, i: int) -> None:
        payload = {"source_id": f"drill-sla-{uuid.uuid4().hex}", "department": slug,
                   "contact": {"phone": f"+1555{6200000 + i:07d}", "first_name": "Sla"},
                   "body": "drill: is anyone there?"}
        (await client.post(urls[i % len(urls)] + "/api/v1/inbound", json=payload)).raise_for_status()

    async def go() -> None:
        async with httpx.AsyncClient(headers={"Authorization": f"Bearer {token}"}, timeout=30) as client:
            patients = []
            for i in range(n):
                patients.append(asyncio.create_task(write_in(client, i)))
                await asyncio.sleep(every)
            await asyncio.gather(*patients)

    asyncio.run(go())


def _start_workers(hub) -> list[datetime]:
    """Start every worker again at once, as a restart of the machine or the
    deployment would; when each answered its first ping."""
    answered: dict[int, datetime] = {}

    def start(i: int) -> None:
        hub.start_worker(i, timeout=90)
        answered[i] = datetime.now(timezone.utc)

    threads = [threading.Thread(target=start, args=(i,)) for i in range(hub.workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return [answered[i] for i in sorted(answered)]


def _breaches(department_id: int) -> tuple[list, Counter]:
    from hub.models import Event, SlaClock

    clocks = list(SlaClock.objects.filter(conversation__department_id=department_id, kind="first_response")
                  .values_list("conversation_id", "state", "deadline", "breached_at"))
    fired = Counter(Event.objects.filter(conversation__department_id=department_id, data__action="sla_breached")
                    .values_list("conversation_id", flat=True))
    return clocks, fired


def sla_worker_stop(env: dict, report: Report, *, conversations: int = 30, target: int = 25) -> None:
    from hub.models import SlaPolicy

    sweep = float(env.get("SLA_SWEEP_SECONDS", 0.5))
    department = new_department(f"drill-sla-{uuid.uuid4().hex[:4]}")
    SlaPolicy.objects.create(practice=practice(), name="Drill: answer within seconds", department=department,
                             first_response_seconds=target, warning_percent=50)
    (integration,) = make_staff("drillapi", 1, role="integration")
    with cluster(env) as hub:
        _sla_conversations(hub.web_urls, integration.token, department.slug, conversations, every=0.1)
        # Everything that could fire a deadline goes away: beat (the sweep),
        # one worker stopped, the other killed mid-work.
        hub.stop_beat()
        hub.kill_worker(0, signal.SIGTERM)
        hub.kill_worker(1, signal.SIGKILL)
        stopped = datetime.now(timezone.utc)
        clocks, _ = _breaches(department.pk)
        last_deadline = max(deadline for _, _, deadline, _ in clocks)
        first_deadline = min(deadline for _, _, deadline, _ in clocks)
        report.figure("conversations with a first-response SLA", f"{len(clocks)} (target {target} s)")
        report.figure("deadlines fall after the stop", f"{(first_deadline - stopped).total_seconds():.1f} s "
                      f"to {(last_deadline - stopped).total_seconds():.1f} s")
        pause = (last_deadline - datetime.now(timezone.utc)).total_seconds() + 3
        time.sleep(max(0.0, pause))
        restarting = datetime.now(timezone.utc)
        hub.start_beat()
        answered = _start_workers(hub)
        ready = min(answered)
        report.figure("workers and beat down for", f"{(restarting - stopped).total_seconds():.1f} s")
        report.figure("restart until each worker answered a ping",
                      ", ".join(f"{(at - restarting).total_seconds():.1f} s" for at in answered))
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            clocks, fired = _breaches(department.pk)
            if all(state == "breached" for _, state, _, _ in clocks):
                break
            time.sleep(0.5)
        time.sleep(2 * sweep + 1)  # room for a second firing, if the hub made one
        clocks, fired = _breaches(department.pk)
    _judge_breaches(report, clocks, fired, restarting, ready, sweep)


def _judge_breaches(report: Report, clocks: list, fired: Counter, restarting: datetime, ready: datetime,
                    sweep: float) -> None:
    """Lateness is counted from the moment the first worker answered again
    (a breach cannot fire while no worker runs), and from the restart's start."""
    breached = [(c, deadline, at) for c, state, deadline, at in clocks if state == "breached" and at]
    after_ready = [(at - max(deadline, ready)).total_seconds() for _, deadline, at in breached]
    after_restart = [(at - max(deadline, restarting)).total_seconds() for _, deadline, at in breached]
    report.figure("breaches fired", f"{len(breached)} of {len(clocks)}")
    report.figure("breach events per conversation", dict(Counter(fired[c] for c, _, _, _ in clocks)))
    report.figure("lateness after a worker answered, each (s)", " ".join(f"{x:.2f}" for x in sorted(after_ready)))
    report.figure("lateness after a worker answered", spread(after_ready))
    report.figure("lateness after the restart began", spread(after_restart))
    report.figure("lateness against the deadline (outage included)",
                  spread([(at - deadline).total_seconds() for _, deadline, at in breached]))
    report.check("every breach fired", len(breached) == len(clocks) and bool(clocks))
    report.check("every breach fired exactly once (one timeline event each)",
                 all(fired[c] == 1 for c, _, _, _ in clocks))
    report.check(f"none later than the sweep interval ({sweep:g} s) after a worker answered again",
                 bool(after_ready) and max(after_ready) <= sweep)
