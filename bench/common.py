"""Shared by the benchmarks: environment, servers, percentiles."""

from __future__ import annotations

import os
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/hub_bench"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/3"


def reachable(host: str, port: int) -> bool:
    try:
        socket.create_connection((host, port), timeout=1).close()
        return True
    except OSError:
        return False


def bench_environment(database_url: str = DEFAULT_DATABASE_URL, var: str = "bench") -> dict:
    """The benchmark's environment: DATABASE_URL/REDIS_URL if set, else the
    local PostgreSQL (`database_url`) and Redis when they run, else SQLite
    and an embedded Redis; its files under var/<var>."""
    env = dict(os.environ)
    env.setdefault("HUB_ENV", "development")
    env.setdefault("CHANNEL_LAYER_PREFIX", "hubbench")
    env.setdefault("CACHE_KEY_PREFIX", "hubbench")
    env.setdefault("CELERY_QUEUE", "hubbench")
    env.setdefault("LOG_LEVEL", "WARNING")
    env.setdefault("HUB_VAR_DIR", str(ROOT / "var" / var))
    if "DATABASE_URL" not in env and reachable("127.0.0.1", 5432):
        env["DATABASE_URL"] = database_url
    if "REDIS_URL" not in env:
        if reachable("127.0.0.1", 6379):
            env["REDIS_URL"] = DEFAULT_REDIS_URL
        else:
            from hub.lib import embedded_redis

            server = embedded_redis.start(write_state=False)
            env["REDIS_URL"] = server.url
            env["_BENCH_REDIS_PID"] = str(server.process.pid)
    return env


def fresh_database(env: dict) -> None:
    """Start every run from an empty database, so runs compare."""
    url = env.get("DATABASE_URL", "")
    if not url:
        for suffix in ("", "-wal", "-shm"):
            Path(env["HUB_VAR_DIR"], "hub.sqlite3" + suffix).unlink(missing_ok=True)
        return
    if url.startswith("postgres"):
        import psycopg
        from urllib.parse import urlparse

        parsed = urlparse(url)
        name = parsed.path.lstrip("/")
        admin = url.rsplit("/", 1)[0] + "/postgres"
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{name}"')


def manage(env: dict, *args: str) -> str:
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True,
                          capture_output=True, text=True).stdout


def seeded_database(env: dict) -> None:
    """An empty database, migrated, with the demo practice in it."""
    fresh_database(env)
    manage(env, "migrate", "--noinput", "-v", "0")
    manage(env, "seed_demo")


def setup_django(env: dict) -> None:
    """Django in this process, on the bench's environment."""
    os.environ.update(env)
    os.environ["DJANGO_SETTINGS_MODULE"] = "hub.settings"
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """A Daphne process serving an ASGI application."""

    def __init__(self, env: dict, app: str, settings_module: str = "hub.settings"):
        self.port = free_port()
        self.env = {**env, "DJANGO_SETTINGS_MODULE": settings_module, "PORT": str(self.port),
                    "PUBLIC_BASE_URL": f"http://127.0.0.1:{self.port}"}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(self.port), app],
            cwd=ROOT, env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + 30
        while not reachable("127.0.0.1", self.port):
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{app} did not start: {self.process.stderr.read().decode()[-2000:]}")
            time.sleep(0.1)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def percentiles(samples_ms: list[float]) -> dict[str, float]:
    ordered = sorted(samples_ms)
    q = statistics.quantiles(ordered, n=100, method="inclusive")
    return {"p50": statistics.median(ordered), "p95": q[94], "p99": q[98], "max": ordered[-1], "n": len(ordered)}
