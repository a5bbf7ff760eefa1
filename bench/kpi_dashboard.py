"""The KPI dashboard on a large history.

Writes N timeline events (default 1,000,000) over the last 90 days: texts,
web chats and calls, with pick-ups, replies, transfers, abandons and
resolutions, shaped like the events the hub itself writes. Then rolls them
up into the KPI facts (what Celery keeps doing as events arrive), and times
every query the dashboard makes for the last 30 days: without filters, for
one department and for one agent. Also times the wallboard's snapshot and
one incremental rollup after a new text.

    python bench/kpi_dashboard.py [--events 1000000] [--days 90] [--repeat 5]
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from datetime import datetime, timedelta

from common import bench_environment, seeded_database, setup_django

CHANNEL_MIX = (("sms", 0.45), ("web", 0.2), ("voice", 0.35))


def conversation_events(rng: random.Random, start: datetime, channel: str, departments: list[int],
                        agents: dict[int, list[int]], topics: list[int]) -> list[dict]:
    """One conversation's events, as the hub's actions write them."""
    events = []
    t = start
    department = rng.choice(departments)
    events.append(dict(kind="status", channel="internal", direction="internal", at=t, author=None,
                       data={"action": "routed", "department_id": department, "topic_id": None}))
    if channel == "voice":
        sid = "CA" + "%032x" % rng.getrandbits(128)
        events.append(dict(kind="call", channel="voice", direction="in", at=t, author=None,
                           data={"phase": "started", "call_sid": sid}))
        events.append(dict(kind="call", channel="internal", direction="internal", at=t + timedelta(seconds=8),
                           author=None, data={"phase": "menu", "call_sid": sid, "department_id": department,
                                              "moved": True}))
        events.append(dict(kind="call", channel="voice", direction="in", at=t + timedelta(seconds=9), author=None,
                           data={"phase": "queued", "call_sid": sid}))
        wait = int(rng.expovariate(1 / 40))
        t += timedelta(seconds=9 + wait)
        if rng.random() < 0.12:  # hung up on hold
            events.append(dict(kind="call", channel="voice", direction="in", at=t, author=None,
                               data={"phase": "abandoned", "call_sid": sid, "queue_seconds": wait,
                                     "queue_result": "hangup"}))
            events.append(dict(kind="call", channel="internal", direction="internal", at=t, author=None,
                               data={"phase": "ended", "call_sid": sid, "call_status": "abandoned",
                                     "queue_seconds": wait}))
            agent = rng.choice(agents[department])
            t += timedelta(minutes=rng.randint(5, 120))
            events.append(dict(kind="status", channel="internal", direction="internal", at=t, author=agent,
                               data={"action": "resolved", "disposition": "follow_up", "assignee_id": agent,
                                     "topic_id": None}))
            return events
        agent = rng.choice(agents[department])
        events.append(dict(kind="assignment", channel="internal", direction="internal", at=t, author=agent,
                           data={"action": "picked_up", "assignee_id": agent}))
        events.append(dict(kind="call", channel="voice", direction="in", at=t, author=None,
                           data={"phase": "dequeued", "call_sid": sid, "queue_seconds": wait,
                                 "queue_result": "redirected"}))
        events.append(dict(kind="call", channel="internal", direction="internal", at=t + timedelta(seconds=3),
                           author=None, data={"phase": "answered", "call_sid": sid, "agent_id": agent,
                                              "queue_seconds": wait}))
        talk = int(rng.expovariate(1 / 200)) + 20
        t += timedelta(seconds=3 + talk)
        events.append(dict(kind="call", channel="internal", direction="internal", at=t, author=None,
                           data={"phase": "ended", "call_sid": sid, "call_status": "completed",
                                 "talk_seconds": talk, "queue_seconds": wait}))
    else:
        events.append(dict(kind="message", channel=channel, direction="in", at=t, author=None, data={}))
        wait = int(rng.expovariate(1 / 150))
        if channel == "web" and rng.random() < 0.1:  # left before anyone picked it up
            t += timedelta(seconds=min(wait, 300))
            events.append(dict(kind="status", channel="internal", direction="internal", at=t + timedelta(seconds=60),
                               author=None, data={"action": "visitor_left", "left_at": t.isoformat()}))
            t += timedelta(seconds=wait + 60)
        else:
            t += timedelta(seconds=wait)
        agent = rng.choice(agents[department])
        events.append(dict(kind="assignment", channel="internal", direction="internal", at=t, author=agent,
                           data={"action": "picked_up", "assignee_id": agent}))
        if rng.random() < 0.15:  # the wrong department
            other = rng.choice([d for d in departments if d != department])
            t += timedelta(seconds=rng.randint(20, 120))
            events.append(dict(kind="transfer", channel="internal", direction="internal", at=t, author=agent,
                               data={"action": "transferred", "from_department_id": department,
                                     "to_department_id": other, "assignee_id": None}))
            department, agent = other, rng.choice(agents[other])
            t += timedelta(seconds=rng.randint(10, 300))
            events.append(dict(kind="assignment", channel="internal", direction="internal", at=t, author=agent,
                               data={"action": "picked_up", "assignee_id": agent}))
        for turn in range(rng.choice((1, 1, 2, 3))):
            t += timedelta(seconds=rng.randint(15, 90))
            events.append(dict(kind="message", channel=channel, direction="out", at=t, author=agent, data={}))
            if turn < 2 and rng.random() < 0.5:
                t += timedelta(seconds=rng.randint(30, 600))
                events.append(dict(kind="message", channel=channel, direction="in", at=t, author=None, data={}))
    t += timedelta(seconds=rng.randint(30, 900))
    events.append(dict(kind="status", channel="internal", direction="internal", at=t, author=agent,
                       data={"action": "resolved", "disposition": "resolved", "assignee_id": agent,
                             "topic_id": rng.choice(topics) if rng.random() < 0.7 else None}))
    return events


def populate(target: int, days: int, seed: int = 7) -> int:
    from django.db import transaction

    from hub.lib import clock
    from hub.models import AgentProfile, Conversation, Department, Event, Patient, Practice, PresenceChange, Topic

    rng = random.Random(seed)
    practice = Practice.objects.get(slug="riverside")
    departments = list(Department.objects.filter(practice=practice).values_list("pk", flat=True))
    staff = list(AgentProfile.objects.filter(practice=practice, role="agent").values_list("user_id", flat=True))
    agents = {d: staff for d in departments}
    topics = list(Topic.objects.filter(practice=practice).values_list("pk", flat=True))
    tz = practice.tz
    now = clock.now()
    first_day = (now - timedelta(days=days)).astimezone(tz).date()
    per_day = target / days
    written = 0
    patients_pool: list[int] = []
    day_index = 0
    while written < target:
        day = first_day + timedelta(days=day_index % days)
        day_index += 1
        rows, conversations = [], []
        budget = min(per_day, target - written)
        planned = 0
        while planned < budget:
            hour = rng.choices(range(8, 18), weights=(4, 9, 10, 9, 7, 7, 8, 8, 6, 3))[0]
            start = datetime(day.year, day.month, day.day, hour, rng.randint(0, 59), rng.randint(0, 59), tzinfo=tz)
            channel = rng.choices([c for c, _ in CHANNEL_MIX], weights=[w for _, w in CHANNEL_MIX])[0]
            events = conversation_events(rng, start, channel, departments, agents, topics)
            conversations.append((start, channel, events))
            planned += len(events)
        with transaction.atomic():
            new_patients = Patient.objects.bulk_create(
                [Patient(practice=practice, first_name="Bench") for _ in range(int(len(conversations) * 0.6))],
                batch_size=5000)
            patients_pool.extend(p.pk for p in new_patients)
            conversation_rows = Conversation.objects.bulk_create([Conversation(
                practice=practice, patient_id=rng.choice(patients_pool), department_id=events[0]["data"]["department_id"],
                status="resolved", channel=channel, created_at=start, last_activity_at=events[-1]["at"],
                resolved_at=events[-1]["at"], last_event_seq=len(events))
                for start, channel, events in conversations], batch_size=5000)
            for conversation, (_, _, events) in zip(conversation_rows, conversations):
                for seq, e in enumerate(events, start=1):
                    rows.append(Event(practice=practice, conversation_id=conversation.pk,
                                      patient_id=conversation.patient_id, seq=seq, kind=e["kind"],
                                      channel=e["channel"], direction=e["direction"], data=e["data"],
                                      author_id=e["author"], created_at=e["at"],
                                      delivery_status="delivered" if e["direction"] == "out" else ""))
            Event.objects.bulk_create(rows, batch_size=5000)
        written += len(rows)
    # Two shifts of presence a day for every agent.
    changes = []
    for d in range(days + 1):
        day = first_day + timedelta(days=d)
        for user_id in staff:
            on = datetime(day.year, day.month, day.day, 8, rng.randint(0, 20), tzinfo=tz)
            changes += [PresenceChange(practice=practice, user_id=user_id, presence="available", at=on),
                        PresenceChange(practice=practice, user_id=user_id, presence="away",
                                       at=on + timedelta(hours=4)),
                        PresenceChange(practice=practice, user_id=user_id, presence="available",
                                       at=on + timedelta(hours=4, minutes=45)),
                        PresenceChange(practice=practice, user_id=user_id, presence="offline",
                                       at=on + timedelta(hours=9))]
    PresenceChange.objects.bulk_create(changes, batch_size=5000)
    return written


def timed(fn, repeat: int) -> list[float]:
    out = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        out.append((time.perf_counter() - started) * 1000)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    env = bench_environment()
    seeded_database(env)
    setup_django(env)
    from django.db import connection

    from hub.lib import clock
    from hub.models import AgentProfile, Department, Event, Practice
    from kpi import live, rollup, tables
    from kpi.metrics import Scope
    from tests.factories import inbound

    print(f"database: {connection.vendor} {env.get('DATABASE_URL', '')}")
    started = time.perf_counter()
    written = populate(args.events, args.days)
    total = Event.objects.count()
    print(f"{written:,} events written ({total:,} in the table) over {args.days} days "
          f"in {time.perf_counter() - started:.0f} s")
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")

    started = time.perf_counter()
    patients = rollup.rebuild()
    print(f"full rollup: {patients:,} patients in {time.perf_counter() - started:.0f} s")
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    from kpi.models import AgentSpan, Contact, Episode

    print(f"facts: {Contact.objects.count():,} contacts, {Episode.objects.count():,} episodes, "
          f"{AgentSpan.objects.count():,} agent spans")

    practice = Practice.objects.get(slug="riverside")
    today = clock.now().astimezone(practice.tz).date()
    base = Scope.days(practice.pk, practice.tz, today - timedelta(days=29), today)
    department = Department.objects.filter(practice=practice).order_by("pk").first()
    agent = AgentProfile.objects.filter(practice=practice, role="agent").order_by("user_id").first()
    scopes = {"no filter": base,
              f"department {department.slug}": Scope.days(practice.pk, practice.tz, today - timedelta(days=29), today,
                                                         department_id=department.pk),
              f"agent {agent.user_id}": Scope.days(practice.pk, practice.tz, today - timedelta(days=29), today,
                                                   agent_id=agent.user_id)}
    dashboard = [name for name in tables.TABLES if name not in tables.ROW_TABLES]
    print(f"\n30-day dashboard queries ({args.repeat} runs each; ms)")
    print(f"{'table':24} {'filter':20} {'p50':>8} {'max':>8}")
    worst = 0.0
    for label, scope in scopes.items():
        for name in dashboard:
            build = tables.TABLES[name]
            runs = timed(lambda: list(build(scope).rows), args.repeat)
            worst = max(worst, max(runs))
            print(f"{name:24} {label:20} {statistics.median(runs):8.1f} {max(runs):8.1f}")
    first_rows = timed(lambda: next(iter(tables.TABLES["contacts"](base).rows)), args.repeat)
    print(f"{'contacts (first CSV row)':24} {'no filter':20} {statistics.median(first_rows):8.1f} "
          f"{max(first_rows):8.1f}")
    board = timed(lambda: live.snapshot(practice.pk), args.repeat)
    print(f"{'wallboard snapshot':24} {'today':20} {statistics.median(board):8.1f} {max(board):8.1f}")
    worst = max(worst, max(board))

    inbound(practice, phone="+15559990000", channel="sms")
    rollup.roll_up()  # first run marks the whole history as read
    inbound(practice, phone="+15559990001", channel="sms")
    incremental = timed(rollup.roll_up, 1)[0]
    print(f"\nincremental rollup after one new text: {incremental:.1f} ms")
    print(f"slowest dashboard query: {worst:.1f} ms (target: under 500 ms each)")
    return 0 if worst < 500 else 1


if __name__ == "__main__":
    sys.exit(main())
