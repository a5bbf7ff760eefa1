"""`pickup-race`: many agents picking up the same conversations at the same
moment, through both web processes. Exactly one wins each conversation
(one assignee, one line on the timeline); every other gets 409 `taken`."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import Counter, defaultdict

import httpx

from drill_env import Report, cluster, make_staff, new_department, practice, spread


def waiting_conversations(department, n: int) -> list[int]:
    from hub.actions.ingest import InboundEvent, ingest
    from hub.models import ContactPoint

    home, tag = practice(), uuid.uuid4().hex[:6]
    return [ingest(InboundEvent(practice_id=home.pk, channel="api", provider_id=f"drill-pickup-{tag}-{i}",
                                contact_kind=ContactPoint.Kind.PHONE, contact_address=f"+1555{6300000 + i:07d}",
                                body="drill: who will take me?", department_slug=department.slug)).conversation.pk
            for i in range(n)]


async def _race(urls: list[str], attempts: list[tuple[int, str, int]]) -> list[tuple[int, int, int, str, float]]:
    """Every (conversation, token, web) pick-up at once; (conversation,
    attempt index, status, code, seconds) for each."""
    gate = asyncio.Event()
    limits = httpx.Limits(max_connections=len(attempts), max_keepalive_connections=0)

    async def pick(client: httpx.AsyncClient, index: int, conversation_id: int, token: str, web: int):
        await gate.wait()
        started = time.perf_counter()
        try:
            response = await client.post(f"{urls[web]}/api/v1/conversations/{conversation_id}/pick-up",
                                         headers={"Authorization": f"Bearer {token}"})
            status, code = response.status_code, (response.json().get("code", "") if response.status_code >= 400
                                                   else "")
        except httpx.HTTPError as exc:
            status, code = 0, type(exc).__name__
        return conversation_id, index, status, code, time.perf_counter() - started

    async with httpx.AsyncClient(limits=limits, timeout=60) as client:
        tasks = [asyncio.create_task(pick(client, i, c, token, web)) for i, (c, token, web) in enumerate(attempts)]
        await asyncio.sleep(0.5)  # every task is waiting at the gate
        gate.set()
        return await asyncio.gather(*tasks)


def pickup_race(env: dict, report: Report, *, conversations: int = 100, per_conversation: int = 10,
                agents: int = 20) -> None:
    from hub.models import Conversation, Event

    department = new_department(f"drill-pickup-{uuid.uuid4().hex[:4]}")
    staff = make_staff("drillpicker", agents, role="agent", departments=[department], capacity=1000)
    targets = waiting_conversations(department, conversations)
    # Conversation c is raced by `per_conversation` different agents, spread
    # over both web processes.
    attempts = [(c, staff[(n + j) % agents].token, (n * per_conversation + j) % 2)
                for n, c in enumerate(targets) for j in range(per_conversation)]
    who = {staff[i].token: staff[i].user_id for i in range(agents)}
    with cluster(env) as hub:
        started = time.perf_counter()
        results = asyncio.run(_race(hub.web_urls, attempts))
        took = time.perf_counter() - started
    outcomes = Counter((status, code) for _, _, status, code, _ in results)
    winners: dict[int, list[int]] = defaultdict(list)
    for conversation_id, index, status, _, _ in results:
        if status == 200:
            winners[conversation_id].append(who[attempts[index][1]])
    assignees = dict(Conversation.objects.filter(pk__in=targets).values_list("pk", "assignee_id"))
    lines = Counter(Event.objects.filter(conversation_id__in=targets, kind=Event.Kind.ASSIGNMENT,
                                         data__action="picked_up").values_list("conversation_id", flat=True))
    report.figure("pick-ups fired at once", f"{len(attempts)} ({conversations} conversations x {per_conversation} "
                                            f"agents, {agents} agents, 2 web processes)")
    report.figure("all answered in", f"{took:.2f} s")
    report.figure("answers (status, code)", {f"{s} {c}".strip(): n for (s, c), n in sorted(outcomes.items())})
    report.figure("answer times", spread([seconds for *_, seconds in results]))
    report.figure("assignment lines per conversation", dict(Counter(lines[c] for c in targets)))
    report.check("exactly one 200 per conversation",
                 all(len(winners[c]) == 1 for c in targets))
    report.check("every other pick-up got 409 taken",
                 outcomes[(409, "taken")] == len(attempts) - len(targets)
                 and outcomes[(200, "")] == len(targets))
    report.check("the database holds the winner as assignee of each",
                 all(assignees[c] == winners[c][0] for c in targets if len(winners[c]) == 1))
    report.check("one assignment line on each timeline", all(lines[c] == 1 for c in targets))
