"""SLA timer lateness with many open deadlines.

Creates N conversations (default 10,000) whose first-response deadlines fall
over the next few minutes, then runs the production shape (two Celery
workers and beat with its sweep, which fires them) until every deadline has
breached, and reports how late each breach
fired (breached_at - deadline: p50, p99, max) and how many fired twice.

    python bench/sla_timers.py [--deadlines 10000] [--spread 240] [--lead 30]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time

from common import ROOT, bench_environment, seeded_database, setup_django


def start(env: dict, *args: str, log: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "celery", "--app", "hub", *args], cwd=ROOT, env=env,
                            stdout=open(log, "w"), stderr=subprocess.STDOUT)


def populate(n: int, lead: float, spread: float) -> None:
    from datetime import timedelta

    from django.db import transaction

    from hub.lib import clock
    from hub.models import ContactPoint, Conversation, Patient, Practice, SlaClock

    practice = Practice.objects.get(slug="riverside")
    department_id = practice.default_department_id
    now = clock.now()
    with transaction.atomic():
        patients = Patient.objects.bulk_create([Patient(practice=practice, first_name=f"Sla{i}") for i in range(n)],
                                               batch_size=2000)
        ContactPoint.objects.bulk_create([ContactPoint(practice=practice, patient=p, kind="phone",
                                                       address=f"+1555{8000000 + i}") for i, p in enumerate(patients)],
                                         batch_size=2000)
        conversations = Conversation.objects.bulk_create([Conversation(
            practice=practice, patient=p, department_id=department_id, status="queued", channel="sms",
            created_at=now, waiting_since=now, last_activity_at=now) for p in patients], batch_size=2000)
        clocks = []
        for i, conversation in enumerate(conversations):
            deadline = now + timedelta(seconds=lead + spread * i / n)
            clocks.append(SlaClock(practice=practice, conversation=conversation, kind="first_response",
                                   target_seconds=int((deadline - now).total_seconds()), started_at=now,
                                   warn_at=now + (deadline - now) * 0.75, deadline=deadline))
        SlaClock.objects.bulk_create(clocks, batch_size=2000)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--deadlines", type=int, default=10000)
    parser.add_argument("--spread", type=float, default=240.0, help="seconds over which the deadlines fall")
    parser.add_argument("--lead", type=float, default=30.0, help="seconds before the first deadline")
    args = parser.parse_args()
    env = bench_environment()
    env["CELERY_QUEUE"] = f"slabench{os.getpid()}"
    env["DB_POOL_MAX"] = "8"
    seeded_database(env)
    setup_django(env)
    from django.db.models import Count

    from hub.models import Event, SlaClock

    SlaClock.objects.all().delete()  # the demo's own clocks are not part of the run
    print(f"database: {env.get('DATABASE_URL', 'SQLite')}")
    started = time.perf_counter()
    populate(args.deadlines, args.lead, args.spread)
    print(f"{args.deadlines} deadlines created in "
          f"{time.perf_counter() - started:.1f} s")
    var = env["HUB_VAR_DIR"]
    os.makedirs(var, exist_ok=True)
    processes = [
        start(env, "worker", "--queues", env["CELERY_QUEUE"], "--concurrency", "2", "--hostname", "sla1@%h",
              "--loglevel", "WARNING", log=f"{var}/sla-worker1.log"),
        start(env, "worker", "--queues", env["CELERY_QUEUE"], "--concurrency", "2", "--hostname", "sla2@%h",
              "--loglevel", "WARNING", log=f"{var}/sla-worker2.log"),
        start(env, "beat", "--schedule", f"{var}/sla-beat-schedule", "--loglevel", "WARNING", log=f"{var}/sla-beat.log"),
    ]
    try:
        limit = time.monotonic() + args.lead + args.spread + 120
        while time.monotonic() < limit:
            left = SlaClock.objects.filter(state="running").count()
            if left == 0:
                break
            time.sleep(2)
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
    fired = list(SlaClock.objects.filter(state="breached").values_list("breached_at", "deadline"))
    late = sorted((b - d).total_seconds() for b, d in fired)
    doubles = (Event.objects.filter(body__contains="breached").values("conversation_id")
               .annotate(n=Count("id")).filter(n__gt=1).count())
    q = statistics.quantiles(late, n=100) if len(late) > 1 else [0] * 99
    print(f"\nbreaches fired          {len(late)} of {args.deadlines}")
    print(f"fired twice             {doubles}")
    print(f"lateness p50            {statistics.median(late):.3f} s")
    print(f"lateness p99            {q[98]:.3f} s")
    print(f"lateness max            {late[-1]:.3f} s")
    print("target: p99 under 2 s")
    return 0 if len(late) == args.deadlines and doubles == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
