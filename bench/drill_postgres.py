"""`postgres-blip`: PostgreSQL out of reach for a few seconds while Twilio
posts signed SMS webhooks. The hub sits behind a TCP proxy that the drill
cuts (every connection reset, every new one refused) and restores.

Twilio is played as it behaves: a webhook answered 5xx or not answered in
15 s is retried (with the same MessageSid). Every answer during the outage
must be a retryable 5xx (never a 200 for a message that was not stored, no
4xx, no hang), the service must come back by itself, and each message must
end up stored exactly once, whole.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field

import httpx

from drill_env import Report, cluster, spread
from drill_proxy import TcpProxy

TWILIO_TIMEOUT = 15.0  # seconds Twilio waits for a webhook's answer
PRACTICE_NUMBER = "+15550100100"


@dataclass
class Answer:
    sid: str
    sent_at: float
    seconds: float
    status: int  # 0: no answer (connection refused, reset or timed out)
    during_cut: bool


@dataclass
class TwilioWebhooks:
    """Signed inbound-SMS webhooks at a steady rate, retried like Twilio."""

    urls: list[str]
    proxy: TcpProxy
    rate: float = 10.0
    retry_after: float = 1.0
    answers: list[Answer] = field(default_factory=list)
    sids: list[str] = field(default_factory=list)
    gave_up: list[str] = field(default_factory=list)
    tag: str = field(default_factory=lambda: uuid.uuid4().hex[:6])

    async def run(self, stop: asyncio.Event) -> None:
        async with httpx.AsyncClient(timeout=TWILIO_TIMEOUT) as client:
            tasks, n = [], 0
            while not stop.is_set():
                tasks.append(asyncio.create_task(self._deliver(client, n)))
                n += 1
                await asyncio.sleep(1 / self.rate)
            await asyncio.gather(*tasks)

    async def _deliver(self, client: httpx.AsyncClient, n: int) -> None:
        from django.conf import settings

        from channels_app.twilio_common import simulate
        from channels_app.twilio_common.signature import sign

        params = simulate.incoming_sms(from_=f"+1555{6400000 + n % 20:07d}", to=PRACTICE_NUMBER,
                                       body=f"drill text {self.tag}-{n}")
        sid = params["MessageSid"]
        self.sids.append(sid)
        # Signed over the public URL, as Twilio does; posted to either process.
        headers = {"X-Twilio-Signature": sign(settings.PUBLIC_BASE_URL + "/webhooks/twilio/sms", params)}
        for attempt in range(60):
            url = self.urls[(n + attempt) % len(self.urls)] + "/webhooks/twilio/sms"
            cut, started = self.proxy.is_cut, time.monotonic()
            try:
                status = (await client.post(url, data=params, headers=headers)).status_code
            except httpx.HTTPError:
                status = 0
            self.answers.append(Answer(sid, started, time.monotonic() - started, status, cut or self.proxy.is_cut))
            if status == 200:
                return
            if 400 <= status < 500:
                break  # Twilio does not retry a 4xx: the message would be lost
            await asyncio.sleep(self.retry_after)
        self.gave_up.append(sid)


async def _blip(report: Report, proxy: TcpProxy, hooks: TwilioWebhooks, *, before: float, outage: float,
                after: float) -> tuple[float, float]:
    stop = asyncio.Event()
    sender = asyncio.create_task(hooks.run(stop))
    try:
        await asyncio.sleep(before)
        cut_at = time.monotonic()
        report.figure("connections reset at the cut", proxy.cut())
        await asyncio.sleep(outage)
    finally:
        proxy.restore()
    restored_at = time.monotonic()
    await asyncio.sleep(after)
    stop.set()
    await sender
    return cut_at, restored_at


def _stored(sids: list[str]) -> tuple[Counter, list[str]]:
    """How often each message is on a timeline, and which stored ones are
    not whole (no stream entry, or a conversation behind its events)."""
    from django.db.models import Max

    from hub.models import Conversation, Event, StreamEntry

    rows = list(Event.objects.filter(channel="sms", provider_id__in=sids).values_list("pk", "provider_id",
                                                                                      "conversation_id"))
    counts = Counter(sid for _, sid, _ in rows)
    published = set(StreamEntry.objects.filter(type="event.created", payload__id__in=[pk for pk, _, _ in rows])
                    .values_list("payload__id", flat=True))
    broken = [sid for pk, sid, _ in rows if pk not in published]
    conversation_ids = {c for _, _, c in rows}
    heads = dict(Event.objects.filter(conversation_id__in=conversation_ids).values("conversation_id")
                 .annotate(top=Max("seq")).values_list("conversation_id", "top"))
    for pk, last in Conversation.objects.filter(pk__in=conversation_ids).values_list("pk", "last_event_seq"):
        if last != heads.get(pk):
            broken.append(f"conversation {pk}")
    return counts, broken


def postgres_blip(env: dict, report: Report, *, outage: float = 5.0) -> None:
    proxy = TcpProxy().start()
    database_url = f"postgres://postgres@127.0.0.1:{proxy.port}/hub_drills"
    try:
        with cluster(env, database_url=database_url) as hub:
            hooks = TwilioWebhooks(hub.web_urls, proxy)
            cut_at, restored_at = asyncio.run(_blip(report, proxy, hooks, before=5, outage=outage, after=15))
            processes_alive = len(hub.processes())
    finally:
        proxy.stop()
    _judge(report, hooks, cut_at, restored_at, processes_alive)


def _judge(report: Report, hooks: TwilioWebhooks, cut_at: float, restored_at: float, processes_alive: int) -> None:
    answers = hooks.answers
    during = [a for a in answers if a.during_cut]
    after = [a for a in answers if not a.during_cut and a.sent_at >= restored_at]
    first_ok = min((a.sent_at + a.seconds for a in after if a.status == 200), default=None)
    last_failure = max((a.sent_at + a.seconds for a in after if a.status != 200), default=None)
    counts, broken = _stored(hooks.sids)
    report.figure("webhooks (distinct messages) / requests", f"{len(hooks.sids)} / {len(answers)}")
    report.figure("PostgreSQL unreachable for", f"{restored_at - cut_at:.1f} s")
    report.figure("answers while cut (status: count)", dict(Counter(a.status for a in during)))
    report.figure("answer times while cut", spread([a.seconds for a in during]))
    report.figure("answers after the restore (status: count)", dict(Counter(a.status for a in after)))
    report.figure("first 200 after the restore", "none" if first_ok is None else f"{first_ok - restored_at:.2f} s")
    report.figure("last non-200 after the restore",
                  "none" if last_failure is None else f"{last_failure - restored_at:.2f} s")
    report.figure("retries (requests beyond the first)", len(answers) - len(hooks.sids))
    slow = [a for a in answers if a.seconds >= 10]
    report.figure("answers of 10 s or more (sent relative to the cut: status after s)",
                  ", ".join(f"{a.sent_at - cut_at:+.1f} s: {a.status or 'none'} after {a.seconds:.1f} s" for a in slow)
                  or "none")
    report.figure("messages stored (once / more than once / never)",
                  f"{sum(1 for s in hooks.sids if counts[s] == 1)} / {sum(1 for s in hooks.sids if counts[s] > 1)}"
                  f" / {sum(1 for s in hooks.sids if counts[s] == 0)}")
    report.check("the outage was seen (some webhook answered while cut)", bool(during))
    report.check("while cut: only retryable answers (5xx or none), never 2xx or 4xx",
                 all(a.status == 0 or a.status >= 500 for a in during if a.status != 200)
                 and all(counts[a.sid] >= 1 for a in during if a.status == 200)
                 and not any(400 <= a.status < 500 for a in answers))
    report.check(f"no answer took Twilio's {TWILIO_TIMEOUT:.0f} s (no hang)",
                 all(a.seconds < TWILIO_TIMEOUT for a in answers))
    report.check("the service came back by itself (every message answered 200 in the end)", not hooks.gave_up)
    report.check("each message stored exactly once", all(counts[s] == 1 for s in hooks.sids))
    report.check("no half-written message (each published, conversations whole)", not broken)
    report.check("every hub process survived", processes_alive == 5)
