"""The hub's busiest ORM reads, compiled once (hub.lib.fastsql.objects)
against the ORM compiling them at every call.

Each query is run inside its own transaction (BEGIN, the read, COMMIT), as
the actions run it, through the ORM and then through the compiled path, in
alternating rounds; the figure is the best round's time per call, and the
ratio is the ORM's time over the compiled one's. Both paths return the
same rows; the bench checks that before timing.

    python bench/compiled_queries.py [--calls 500] [--rounds 5]

Uses DATABASE_URL when set, else the local PostgreSQL (database
hub_compiled, emptied first), else SQLite.
"""

from __future__ import annotations

import argparse
import sys
import time

from common import bench_environment, fresh_database, manage, setup_django


def environment() -> dict:
    return bench_environment("postgres://postgres@127.0.0.1:5432/hub_compiled", "bench-compiled")


def cases():
    """(name, run once) pairs; each run reads through whichever path
    `hub.lib.fastsql` is set to."""
    from django.contrib.auth import get_user_model

    from hub.actions import assignment, calls, outbound
    from hub.lib import access
    from hub.models import AgentProfile, Call, Conversation, Department, Event
    from tests.factories import inbound

    practice = Department.objects.get(slug="billing").practice
    billing = Department.objects.get(practice=practice, slug="billing")
    conversation = inbound(practice, phone="+15555550199", topic_slug="bill").conversation
    agent = AgentProfile.objects.filter(practice=practice, role="agent", departments=conversation.department_id)
    agent = agent.select_related("user").first() or AgentProfile.objects.filter(role="agent").first()
    AgentProfile.objects.filter(practice=practice).update(presence=AgentProfile.Presence.AVAILABLE)
    supervisor = AgentProfile.objects.filter(practice=practice, role="supervisor").select_related("user").first()
    as_agent, as_supervisor = access.viewer_for(agent.user), access.viewer_for(supervisor.user)
    Conversation.objects.filter(pk=conversation.pk).update(assignee=agent.user)
    reply = Event.objects.create(practice=practice, conversation=conversation, patient=conversation.patient, seq=999,
                                 kind=Event.Kind.MESSAGE, direction=Event.Direction.OUT, channel="sms", body="x",
                                 author=get_user_model().objects.get(pk=agent.user_id), created_at=conversation.created_at)
    call = Call.objects.create(practice=practice, conversation=conversation, call_sid="CA" + "0" * 32,
                               started_at=conversation.created_at)
    return [
        ("access.get_conversation, agent, FOR UPDATE",
         lambda: access.get_conversation(as_agent, conversation.pk, for_update=True)),
        ("access.get_conversation, supervisor", lambda: access.get_conversation(as_supervisor, conversation.pk)),
        ("assignment.eligible_agents", lambda: assignment.eligible_agents(billing, exclude={agent.user_id})),
        ("outbound._locked_event", lambda: outbound._locked_event(reply.pk)),
        ("calls._locked (call and conversation)", lambda: calls._locked(call.call_sid)),
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=500, help="calls per round")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()

    env = environment()
    print(f"database: {env.get('DATABASE_URL', 'SQLite')}", flush=True)
    fresh_database(env)
    manage(env, "migrate", "--noinput", "-v", "0")
    manage(env, "seed_demo")
    setup_django(env)
    from django.db import transaction

    from hub.lib import fastsql

    def through(orm: bool, run):
        # The ORM path: every shape marked "not cached" (what a shape whose
        # parameters cannot be compiled once does).
        original = fastsql._learn
        fastsql._compiled.clear()
        if orm:
            fastsql._learn = lambda *a: None
        try:
            with transaction.atomic():
                first = run()
            best = float("inf")
            for _ in range(args.rounds):
                started = time.perf_counter()
                for _ in range(args.calls):
                    with transaction.atomic():
                        run()
                best = min(best, (time.perf_counter() - started) / args.calls)
            return first, best
        finally:
            fastsql._learn = original
            fastsql._compiled.clear()

    print(f"\nbest of {args.rounds} rounds of {args.calls} calls, each in its own transaction")
    print(f"{'query':<46}{'ORM µs':>10}{'compiled µs':>13}{'ratio':>8}")
    for name, run in cases():
        orm_rows, orm = through(True, run)
        fast_rows, fast = through(False, run)
        if _plain(orm_rows) != _plain(fast_rows):
            print(f"{name}: the two paths returned different rows", file=sys.stderr)
            return 1
        print(f"{name:<46}{orm * 1e6:>10.0f}{fast * 1e6:>13.0f}{orm / fast:>8.2f}", flush=True)
    return 0


def _plain(found):
    """What a result holds, comparable across the two paths."""
    items = found if isinstance(found, (list, tuple)) else [found]
    out = []
    for item in items:
        if item is None:
            out.append(None)
            continue
        values = {f.attname: getattr(item, f.attname) for f in item._meta.concrete_fields}
        values.update({k: v for k, v in vars(item).items() if k in ("load", "pending")})
        related = {name: getattr(cached, "pk", None) for name, cached in item._state.fields_cache.items()}
        out.append((type(item).__name__, values, related))
    return out


if __name__ == "__main__":
    sys.exit(main())
