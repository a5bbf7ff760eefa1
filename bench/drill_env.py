"""What every fault drill shares: the environment (database `hub_drills`,
Redis db 12), a fresh seeded database, Django in the drill's own process,
the cluster under test, the machine's Redis (stopped and started), staff with
tokens and console sessions, and the drill's report (figures and checks)."""

from __future__ import annotations

import os
import signal
import subprocess
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Iterator

from common import ROOT, reachable, seeded_database, setup_django

DATABASE_URL = "postgres://postgres@127.0.0.1:5432/hub_drills"
REDIS_URL = "redis://127.0.0.1:6379/12"
BASE_PORT = 8360
QUEUE = "hubdrills"
VAR_DIR = ROOT / "var" / "drills"
PASSWORD = "drill-staff-passphrase-7"
# How the machine's services are started (see the machine's notes): the
# same command starts one that stopped.
REDIS_START = ["redis-server", "--daemonize", "yes", "--bind", "127.0.0.1", "-::1", "--port", "6379", "--save", "",
               "--appendonly", "no", "--dir", "/var/lib/redis", "--logfile", "/var/log/redis/ci.log"]


def drill_environment() -> dict:
    """The environment of the drill's process and of every cluster it starts.
    Heartbeats and the outbound lease are shortened so that recovery fits a
    drill's minutes; everything else is the hub's default."""
    env = dict(os.environ)
    env.update(
        HUB_ENV="development",
        DATABASE_URL=DATABASE_URL,
        REDIS_URL=REDIS_URL,
        CHANNEL_LAYER_PREFIX="hubdrills",
        CACHE_KEY_PREFIX="hubdrills",
        CELERY_QUEUE=QUEUE,
        CELERY_TASK_ALWAYS_EAGER="0",
        LOG_LEVEL="WARNING",
        HUB_VAR_DIR=str(VAR_DIR),
        PUBLIC_BASE_URL=f"http://127.0.0.1:{BASE_PORT}",
        EHR_DEMO="0",
        HEARTBEAT_SECONDS="5",
        OUTBOUND_ATTEMPT_LEASE_SECONDS="5",
        # Every simulated visitor connects from 127.0.0.1.
        WIDGET_CONNECTS_PER_IP="100000",
        WIDGET_MESSAGES_PER_IP="100000",
        WIDGET_MESSAGES_PER_VISITOR="1000",
    )
    for name in ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_API_BASE_URL", "SMS_BACKEND", "VOICE_BACKEND"):
        env.pop(name, None)
    return env


def prepare(env: dict) -> None:
    """A fresh database with the demo practice, an empty Redis db 12, and
    Django set up in this process on both."""
    import redis

    VAR_DIR.mkdir(parents=True, exist_ok=True)
    seeded_database(env)
    redis.Redis.from_url(REDIS_URL).flushdb()
    setup_django(env)


@contextmanager
def cluster(env: dict, *, database_url: str = DATABASE_URL, beat: bool = True, extra: dict | None = None) -> Iterator:
    """The hub as production runs it: two ASGI processes, two Celery workers
    and beat, stopped on the way out whatever happened."""
    from hub.devtools.cluster import Cluster

    merged = {**env, **(extra or {})}
    hub = Cluster(database_url=database_url, redis_url=REDIS_URL, base_port=BASE_PORT, webs=2, workers=2, beat=beat,
                  var_dir=VAR_DIR / "cluster", env=merged, queue=QUEUE)
    try:
        hub.start(timeout=120)
        yield hub
    finally:
        hub.stop()


# --- the machine's services -------------------------------------------------

def _wait(condition, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out waiting for {what}")
        time.sleep(0.05)


def redis_up() -> bool:
    return subprocess.run(["redis-cli", "-p", "6379", "ping"], capture_output=True, text=True).stdout.strip() == "PONG"


def stop_redis() -> None:
    subprocess.run(["redis-cli", "-p", "6379", "shutdown", "nosave"], capture_output=True)
    _wait(lambda: not reachable("127.0.0.1", 6379), 10, "Redis to stop")


def start_redis() -> None:
    """Start the machine's Redis unless it runs; wait until it answers."""
    if not redis_up():
        subprocess.run(REDIS_START, check=True, capture_output=True)
    _wait(redis_up, 20, "Redis to answer")


# --- staff --------------------------------------------------------------------

@dataclass
class Staff:
    username: str
    user_id: int
    token: str


def practice():
    from hub.models import Practice

    return Practice.objects.get(slug="riverside")


def make_staff(prefix: str, n: int, *, role: str = "supervisor", departments=(), capacity: int = 4) -> list[Staff]:
    """n staff members of the demo practice, each with an API token."""
    from django.contrib.auth import get_user_model

    from hub.models import AgentProfile, ApiToken

    User = get_user_model()
    home = practice()
    people = []
    for i in range(n):
        user = User(username=f"{prefix}{i}-{uuid.uuid4().hex[:4]}", first_name=prefix.title(), last_name=str(i))
        user.set_password(PASSWORD)
        user.save()
        profile = AgentProfile.objects.create(practice=home, user=user, role=role, capacity=capacity)
        profile.departments.set(departments)
        _, raw = ApiToken.issue(user, name="drill")
        people.append(Staff(user.username, user.pk, raw))
    return people


async def console_cookie(base: str, username: str) -> str:
    """Sign in through the console's login page, as a person would."""
    from latency import console_session

    return await console_session(base, username, PASSWORD)


def new_department(slug: str, **fields):
    from hub.models import Department

    return Department.objects.create(practice=practice(), name=slug.title(), slug=slug, **fields)


# --- the report -----------------------------------------------------------------

@dataclass
class Report:
    """A drill's figures (printed as they come) and its checks."""

    name: str
    checks: list[tuple[str, bool]] = field(default_factory=list)

    def figure(self, label: str, value) -> None:
        print(f"  {label:<44} {value}", flush=True)

    def check(self, label: str, ok: bool) -> bool:
        self.checks.append((label, bool(ok)))
        print(f"  [{'ok' if ok else 'FAILED'}] {label}", flush=True)
        return bool(ok)

    @property
    def passed(self) -> bool:
        return bool(self.checks) and all(ok for _, ok in self.checks)


def spread(samples: list[float]) -> str:
    """min / median / p95 / max of some seconds, for printing."""
    if not samples:
        return "none"
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))]
    return (f"min {ordered[0]:.3f} s, median {ordered[len(ordered) // 2]:.3f} s, p95 {p95:.3f} s, "
            f"max {ordered[-1]:.3f} s (n={len(ordered)})")


def stream_heads() -> dict[str, int]:
    from hub.models import StreamCounter

    return dict(StreamCounter.objects.values_list("stream", "last_seq"))


def interrupt_on_sigterm() -> None:
    """SIGTERM unwinds like Ctrl-C, so every `finally` (a stopped Redis,
    a cut proxy, the cluster) restores what the drill changed."""
    def raise_interrupt(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, raise_interrupt)

