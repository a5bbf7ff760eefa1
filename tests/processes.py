"""Real processes for tests that need them: Celery workers on the test
database and broker, with their own queue. Stopping and killing them is
hub.devtools.processes's, shared with the cluster launcher."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

from django.db import connection

from hub.celery import app as celery_app
from hub.devtools.processes import kill, stop  # noqa: F401  (the tests' way to end what they started)
from tests import phi_scan

ROOT = Path(__file__).resolve().parents[1]


def wait_for(condition, timeout: float = 30.0) -> bool:
    """Whether `condition()` came true within `timeout` seconds (polled)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


def test_database_url() -> str:
    """The URL of the database this test runs on, for a child process."""
    conf = connection.settings_dict
    if conf["ENGINE"].endswith("sqlite3"):
        return "sqlite:///" + str(Path(conf["NAME"]).resolve())
    auth = conf["USER"] + (f":{conf['PASSWORD']}" if conf["PASSWORD"] else "")
    return f"postgres://{auth}@{conf['HOST'] or '127.0.0.1'}:{conf['PORT'] or 5432}/{conf['NAME']}"


@contextlib.contextmanager
def broker_queue():
    """Send this test's tasks to the broker (not eagerly) on a queue of its own."""
    queue = f"test-{uuid.uuid4().hex[:10]}"
    saved = celery_app.conf.task_always_eager, celery_app.conf.task_default_queue
    celery_app.conf.task_always_eager = False
    celery_app.conf.task_default_queue = queue
    try:
        yield queue
    finally:
        celery_app.conf.task_always_eager, celery_app.conf.task_default_queue = saved


def start_worker(queue: str, pool: str = "solo", **env_overrides) -> subprocess.Popen:
    """A worker on the test database; `pool="prefork"` as in production
    (one child)."""
    env = {**os.environ, "DATABASE_URL": test_database_url(), "CELERY_QUEUE": queue,
           "CELERY_TASK_ALWAYS_EAGER": "0", "LOG_LEVEL": "WARNING", **{k: str(v) for k, v in env_overrides.items()}}
    pool_args = ["--pool", pool] + (["--concurrency", "1"] if pool == "prefork" else [])
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "--app", "hub", "worker", *pool_args, "--queues", queue,
         "--hostname", f"{queue}-{uuid.uuid4().hex[:6]}@%h", "--without-gossip", "--without-mingle",
         "--loglevel", "WARNING"],
        # Its log is scanned for patient data at the end of the session.
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=phi_scan.subprocess_log("worker"),
    )
