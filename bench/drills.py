"""Fault drills: the hub's promises, checked while parts of it fail.

    python bench/drills.py [name ...]     # no name: every drill, in order

Each drill starts the production shape on this machine (two ASGI processes,
two Celery workers and beat; hub.devtools.cluster) on the PostgreSQL
database `hub_drills` (created afresh) and Redis db 12, breaks something,
prints its figures and PASS or FAIL. The exit status is non-zero when any
drill failed. What each drill proves: docs/reliability.md.

    redis-restart    the machine's Redis restarted under connected consoles
                     and widgets; it runs last, and Redis is started again
                     whatever happens
    worker-kill      Celery workers SIGKILLed 100 times while texting
                     patients through a local Twilio contract server
    sla-worker-stop  every worker and beat down across SLA deadlines
    web-kill         one ASGI process SIGKILLed under its consoles
    pickup-race      1,000 simultaneous pick-ups of 100 conversations
    postgres-blip    PostgreSQL cut off for seconds under Twilio webhooks
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
import traceback

from drill_celery import sla_worker_stop, worker_kill
from drill_env import Report, drill_environment, interrupt_on_sigterm, prepare, redis_up, start_redis
from drill_pickup import pickup_race
from drill_postgres import postgres_blip
from drill_realtime import redis_restart, web_kill

# The Redis restart disturbs every user of the machine's Redis: last, so
# the others never run on a Redis restarted under them.
DRILLS = {
    "worker-kill": worker_kill,
    "sla-worker-stop": sla_worker_stop,
    "web-kill": web_kill,
    "pickup-race": pickup_race,
    "postgres-blip": postgres_blip,
    "redis-restart": redis_restart,
}


def run(name: str, env: dict) -> Report:
    report = Report(name)
    print(f"\n=== {name}", flush=True)
    started = time.monotonic()
    try:
        DRILLS[name](env, report)
    except KeyboardInterrupt:
        raise
    except Exception:
        traceback.print_exc()
        report.check("the drill ran to its end", False)
    print(f"--- {name}: {'PASS' if report.passed else 'FAIL'} ({time.monotonic() - started:.0f} s)", flush=True)
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("names", nargs="*", metavar="name", help=f"drills to run (default: all): {', '.join(DRILLS)}")
    args = parser.parse_args(argv)
    unknown = [n for n in args.names if n not in DRILLS]
    if unknown:
        parser.error(f"unknown drill(s) {', '.join(unknown)}; choose from {', '.join(DRILLS)}")
    names = [n for n in DRILLS if n in args.names] if args.names else list(DRILLS)
    interrupt_on_sigterm()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, 8192)), hard))
    env = drill_environment()
    if not redis_up():
        start_redis()  # a previous run interrupted at the worst moment
    prepare(env)
    print(f"database: {env['DATABASE_URL']}\nredis:    {env['REDIS_URL']}", flush=True)
    try:
        reports = [run(name, env) for name in names]
    finally:
        start_redis()
    print("\n=== summary")
    for report in reports:
        print(f"  {report.name:<18} {'PASS' if report.passed else 'FAIL'}")
    return 0 if all(r.passed for r in reports) else 1


if __name__ == "__main__":
    sys.exit(main())
