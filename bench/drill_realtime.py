"""Realtime drills: consoles and chat widgets connected to both web
processes while events flow, through a Redis restart (`redis-restart`) and
through the SIGKILL of one ASGI process (`web-kill`).

Afterwards every console's sequence on every department and practice
stream must run from the head it started at to the database's head with no
gap, no duplicate and no resync, and every widget must have shown exactly the events its visitor may
see, each once, with every message it sent acknowledged and stored once.
"""

from __future__ import annotations

import asyncio
import signal
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from drill_clients import ChatReplies, ConsoleClient, InboundFlow, WidgetClient, chatter, until
from drill_env import (Report, cluster, console_cookie, make_staff, practice, spread, start_redis, stop_redis,
                       stream_heads)

DEPARTMENTS = ["scheduling", "billing", "intake", "nurse"]


@dataclass
class Crowd:
    """Everything connected to the hub during a realtime drill."""

    consoles: list[ConsoleClient]
    widgets: list[WidgetClient]
    flow: InboundFlow
    replies: ChatReplies
    traffic: asyncio.Event = field(default_factory=asyncio.Event)
    clients: asyncio.Event = field(default_factory=asyncio.Event)
    tasks: list[asyncio.Task] = field(default_factory=list)
    traffic_tasks: list[asyncio.Task] = field(default_factory=list)


def _widget_visible(widget: WidgetClient, practice_id: int) -> list[tuple[int, int]]:
    """The (conversation, seq) of every event this visitor may see."""
    from channels_app.webchat import service, tokens
    from hub.models import Event

    visitor_id = tokens.verify(widget.token, practice_id) if widget.token else None
    visitor = service.visitor_for(practice_id, visitor_id) if visitor_id else None
    if visitor is None:
        return []
    rows = Event.objects.filter(conversation__patient_id=visitor.patient_id, kind=Event.Kind.MESSAGE,
                                direction__in=[Event.Direction.IN, Event.Direction.OUT])
    return sorted((c, s) for c, s, data in rows.values_list("conversation_id", "seq", "data")
                  if not (data or {}).get("purged_at"))


def _stored_messages(widget: WidgetClient, practice_id: int) -> dict[str, int]:
    """How many times each of the widget's messages is on the timeline."""
    from channels_app.webchat import tokens
    from hub.models import Event

    visitor_id = tokens.verify(widget.token, practice_id) if widget.token else None
    counts = dict.fromkeys(widget.sent, 0)
    if visitor_id:
        for provider_id in Event.objects.filter(channel="web", provider_id__startswith=f"{visitor_id}:").values_list(
                "provider_id", flat=True):
            client_id = provider_id.split(":", 1)[1]
            counts[client_id] = counts.get(client_id, 0) + 1
    return counts


async def gather_crowd(env: dict, hub, *, consoles_per_web: int, widgets_per_web: int, rate: float) -> Crowd:
    """Supervisors' consoles and visitors' widgets spread over the web
    processes, all connected, and the traffic ready to start."""
    from asgiref.sync import sync_to_async

    staff = await sync_to_async(make_staff)("drillsup", 2)
    (integration,) = await sync_to_async(make_staff)("drillapi", 1, role="integration")
    home = await sync_to_async(practice)()
    urls, heartbeat = hub.web_urls, float(env["HEARTBEAT_SECONDS"])
    cookies = [await console_cookie(urls[0], person.username) for person in staff]
    consoles = [ConsoleClient(f"c{i}", urls, cookies[i % len(cookies)], home=i % len(urls), heartbeat=heartbeat)
                for i in range(consoles_per_web * len(urls))]
    # The hub's own origin is one every practice's widget may use (its demo page).
    widgets = [WidgetClient(f"w{i}", urls, home.widget_key, env["PUBLIC_BASE_URL"], home=i % len(urls))
               for i in range(widgets_per_web * len(urls))]
    crowd = Crowd(consoles, widgets, InboundFlow(urls, integration.token, DEPARTMENTS, rate=rate),
                  ChatReplies(urls, staff[0].token, widgets))
    crowd.tasks += [asyncio.create_task(c.run(crowd.clients)) for c in consoles + widgets]
    await asyncio.wait_for(asyncio.gather(*(c.welcomed.wait() for c in consoles)), 30)
    return crowd


async def flow(crowd: Crowd, chat_every: float) -> None:
    crowd.traffic_tasks += [asyncio.create_task(crowd.flow.run(crowd.traffic)),
                    asyncio.create_task(crowd.replies.run(crowd.traffic)),
                    asyncio.create_task(chatter(crowd.widgets, crowd.traffic, chat_every))]


async def settle(crowd: Crowd, practice_id: int, timeout: float) -> tuple[float, dict[str, int]]:
    """Stop the traffic and wait until every client has caught up with the
    database; how long that took, and the heads it caught up with."""
    crowd.traffic.set()
    started = time.monotonic()
    await asyncio.gather(*crowd.traffic_tasks)  # the last requests answered
    heads: dict[str, int] = {}

    def caught_up() -> bool:
        heads.clear()
        heads.update(stream_heads())
        consoles = all(c.caught_up(heads) for c in crowd.consoles)
        widgets = all(not w.outbox and set(_widget_visible(w, practice_id)) <= set(w.received)
                      for w in crowd.widgets)
        return consoles and widgets

    await until(caught_up, timeout, step=0.5)
    return time.monotonic() - started, dict(heads)


async def disperse(crowd: Crowd) -> None:
    crowd.traffic.set()
    crowd.clients.set()
    await asyncio.gather(*crowd.traffic_tasks, *crowd.tasks, return_exceptions=True)


def judge(report: Report, crowd: Crowd, practice_id: int, heads: dict[str, int]) -> None:
    """Print what every client received and check it against the database
    (`heads`: the streams' heads once the traffic had stopped)."""
    console_totals: dict[str, int] = {}
    for client in crowd.consoles:
        for key, value in client.problems(heads).items():
            console_totals[key] = console_totals.get(key, 0) + value
    widget_totals: dict[str, int] = {}
    doubles = lost = 0
    for widget in crowd.widgets:
        for key, value in widget.problems(_widget_visible(widget, practice_id)).items():
            widget_totals[key] = widget_totals.get(key, 0) + value
        stored = _stored_messages(widget, practice_id)
        doubles += sum(1 for n in stored.values() if n > 1)
        lost += sum(1 for n in stored.values() if n == 0)
    flow_ = crowd.flow
    report.figure("inbound posted (created / retried / abandoned)",
                  f"{flow_.posted} ({flow_.created} / {flow_.retries} / {flow_.abandoned})")
    report.figure("replies to chats (sent / failed)", f"{crowd.replies.sent} / {crowd.replies.failed}")
    report.figure("console sockets / messages received",
                  f"{len(crowd.consoles)} / {sum(c.delivered() for c in crowd.consoles)}")
    report.figure("console reconnects", sum(len(c.reconnects) for c in crowd.consoles))
    report.figure("console problems", console_totals)
    report.figure("widget sockets / events shown / messages sent",
                  f"{len(crowd.widgets)} / {sum(len(w.received) for w in crowd.widgets)} / "
                  f"{sum(len(w.sent) for w in crowd.widgets)}")
    report.figure("widget reconnects", sum(len(w.reconnects) for w in crowd.widgets))
    report.figure("widget problems", widget_totals)
    report.figure("widget errors", sorted({e for w in crowd.widgets for e in w.errors}) or "none")
    report.check("every inbound message stored (none abandoned)", flow_.abandoned == 0)
    report.check("consoles: no gap, duplicate, resync or refusal; caught up with the database",
                 not any(console_totals.values()))
    report.check("widgets: every visible event shown once, in order; every message acknowledged",
                 not any(widget_totals.values()))
    report.check("widgets: every message stored exactly once", doubles == 0 and lost == 0)


async def _realtime(env: dict, report: Report, hub, fault: Callable[[Crowd], Awaitable[None]], *, consoles_per_web: int,
                    widgets_per_web: int, rate: float, before: float, after: float) -> Crowd:
    from asgiref.sync import sync_to_async

    practice_id = (await sync_to_async(practice)()).pk
    crowd = await gather_crowd(env, hub, consoles_per_web=consoles_per_web, widgets_per_web=widgets_per_web, rate=rate)
    try:
        await flow(crowd, chat_every=2.0)
        await asyncio.sleep(before)
        await fault(crowd)
        await asyncio.sleep(after)
        took, heads = await settle(crowd, practice_id, timeout=60)
        report.figure("caught up after the traffic stopped in", f"{took:.1f} s")
    finally:
        await disperse(crowd)
    await sync_to_async(judge)(report, crowd, practice_id, heads)
    return crowd


# --- redis-restart ------------------------------------------------------------

def redis_restart(env: dict, report: Report, *, down: float = 1.0) -> None:
    async def restart(crowd: Crowd) -> None:
        connected = sum(c.connected_to is not None for c in crowd.consoles + crowd.widgets)
        report.figure("clients connected before the restart", connected)
        started = time.monotonic()
        try:
            await asyncio.to_thread(stop_redis)
            report.figure("Redis stopped after", f"{time.monotonic() - started:.2f} s")
            await asyncio.sleep(down)
        finally:
            await asyncio.to_thread(start_redis)
        report.figure("Redis down for", f"{time.monotonic() - started:.2f} s")

    with cluster(env) as hub:
        before = hub.processes()
        crowd = asyncio.run(_realtime(env, report, hub, restart, consoles_per_web=4, widgets_per_web=3, rate=8,
                                      before=6, after=30))
        after = hub.processes()
        report.figure("reconnect times (consoles)", spread([r.seconds for c in crowd.consoles for r in c.reconnects]))
        report.figure("reconnect times (widgets)", spread([r.seconds for w in crowd.widgets for r in w.reconnects]))
        report.check("every hub process survived the restart", before == after)


# --- web-kill -------------------------------------------------------------------

@dataclass
class Kill:
    victims: list = field(default_factory=list)
    at: float = 0.0

    def moves(self, kind: type | None = None) -> list:
        """Each victim's reconnects away from the killed process."""
        return [r for c in self.victims if kind is None or isinstance(c, kind) for r in c.reconnects if r.from_web == 0]


def web_kill(env: dict, report: Report) -> None:
    kill = Kill()

    async def sigkill_web0(crowd: Crowd) -> None:
        kill.victims = [c for c in crowd.consoles + crowd.widgets if c.connected_to == 0]
        report.figure("clients on the killed process", len(kill.victims))
        kill.at = time.monotonic()
        hub.kill_web(0, signal.SIGKILL)
        report.figure("SIGKILL sent and the process reaped in", f"{time.monotonic() - kill.at:.3f} s")

    with cluster(env) as hub:
        asyncio.run(_realtime(env, report, hub, sigkill_web0, consoles_per_web=5, widgets_per_web=3, rate=8,
                              before=6, after=15))
        moved = kill.moves()
        report.figure("reconnect times of its consoles", spread([r.seconds for r in kill.moves(ConsoleClient)]))
        report.figure("reconnect times of its widgets", spread([r.seconds for r in kill.moves(WidgetClient)]))
        report.figure("from the kill to the drops being noticed", spread([r.dropped_at - kill.at for r in moved]))
        report.figure("from the kill to the last reconnect",
                      f"{max((r.welcomed_at for r in moved), default=kill.at) - kill.at:.3f} s")
        report.check("every client of the killed process reconnected to the other",
                     bool(kill.victims) and all(any(r.from_web == 0 and r.to_web != 0 for r in c.reconnects)
                                                for c in kill.victims))
        hub.start_web(0)
