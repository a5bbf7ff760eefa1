"""Who can take an offer, as an agent's history grows.

Automatic assignment asks, for every offer it makes, which of a
department's available agents are under their capacity: how many
conversations each holds and how many offers each has pending. This
measures that question (`hub.actions.assignment.eligible_agents`) for a
department of 10 agents whose past holds H resolved conversations and H
expired offers each, for growing H, and prints the time per call (best of
five rounds). A practice's history only grows; the answer should not cost
more because of it.

    python bench/eligibility.py [--history 0 1000 5000]

Uses DATABASE_URL when set, else the local PostgreSQL (database
hub_eligibility, emptied first), else SQLite.
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import timedelta

from common import bench_environment, fresh_database, manage, setup_django

AGENTS = 10


def environment() -> dict:
    return bench_environment("postgres://postgres@127.0.0.1:5432/hub_eligibility", "bench-eligibility")


def grow(practice, department, agents, patient, history: int) -> None:
    """Bring every agent's past up to `history` resolved conversations and
    expired offers."""
    from hub.lib import clock
    from hub.models import Conversation, Offer

    now = clock.now()
    for agent in agents:
        have = Conversation.objects.filter(assignee=agent.user).count()
        if have >= history:
            continue
        conversations = Conversation.objects.bulk_create([
            Conversation(practice=practice, patient=patient, department=department, assignee=agent.user,
                         status=Conversation.Status.RESOLVED, channel="sms", created_at=now, last_activity_at=now,
                         resolved_at=now)
            for _ in range(history - have)])
        Offer.objects.bulk_create([
            Offer(practice=practice, conversation=c, agent=agent.user, status=Offer.Status.EXPIRED,
                  created_at=now, expires_at=now + timedelta(seconds=30), closed_at=now)
            for c in conversations])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--history", type=int, nargs="+", default=[0, 1000, 5000],
                        help="past conversations and offers per agent, in increasing order")
    parser.add_argument("--calls", type=int, default=20, help="calls per round")
    args = parser.parse_args()

    env = environment()
    print(f"database: {env.get('DATABASE_URL', 'SQLite')}", flush=True)
    fresh_database(env)
    manage(env, "migrate", "--noinput", "-v", "0")
    setup_django(env)
    from django.contrib.auth import get_user_model

    from hub.actions import assignment
    from hub.models import AgentProfile, Department, Patient, Practice

    practice = Practice.objects.create(name="Eligibility", timezone="UTC")
    department = Department.objects.create(practice=practice, name="Billing", slug="billing",
                                           assignment=Department.Assignment.ROUND_ROBIN)
    patient = Patient.objects.create(practice=practice, first_name="Past", last_name="Patient")
    agents = []
    for i in range(AGENTS):
        user = get_user_model().objects.create_user(f"agent{i}", password="x")
        profile = AgentProfile.objects.create(user=user, practice=practice, role=AgentProfile.Role.AGENT,
                                              presence=AgentProfile.Presence.AVAILABLE, capacity=4)
        profile.departments.add(department)
        agents.append(profile)

    print(f"\n{AGENTS} available agents; per agent: H resolved conversations and H expired offers")
    print(f"{'H':>8}{'eligible':>10}{'ms per call':>14}")
    for history in args.history:
        grow(practice, department, agents, patient, history)
        best = float("inf")
        for _ in range(5):
            started = time.perf_counter()
            for _ in range(args.calls):
                eligible = assignment.eligible_agents(department, exclude=set())
            best = min(best, (time.perf_counter() - started) / args.calls)
        print(f"{history:>8}{len(eligible):>10}{best * 1000:>14.2f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
