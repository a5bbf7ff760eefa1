"""The hub's production shape on one machine: several web servers (Daphne),
several Celery workers and one Celery beat, every process sharing one
PostgreSQL and one Redis (channel layer, broker and cache).

`Cluster` starts, stops, kills and restarts its processes one by one, for
benchmarks and fault drills; `python -m hub.devtools.cluster` (`make
cluster`) runs one until Ctrl-C:

    DATABASE_URL=postgres://... REDIS_URL=redis://... \\
        python -m hub.devtools.cluster [--webs 2] [--workers 2] [--base-port 8000]

Every process gets the same PUBLIC_BASE_URL (the first web's URL unless
given), so Twilio's signatures validate whichever process answers. Each
process logs to `<var_dir>/<name>.log`. See docs/deployment.md.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlparse

import httpx

BASE_DIR = Path(__file__).resolve().parent.parent.parent
sys.path.insert(0, str(BASE_DIR))

from hub.devtools.processes import STOP_SECONDS, kill, reap_group, send, spawn  # noqa: E402

HOST = "127.0.0.1"
WORKER_CONCURRENCY = 2
# Signals after which a drill waits for the process to be gone; others
# (SIGSTOP, SIGCONT) only change its state.
ENDING_SIGNALS = {signal.SIGKILL, signal.SIGTERM, signal.SIGINT, signal.SIGQUIT}
POSTGRES_SCHEMES = {"postgres", "postgresql", "pgsql"}
REDIS_SCHEMES = {"redis", "rediss", "unix"}


class ClusterError(RuntimeError):
    """A process of the cluster would not start or answer."""


class Cluster:
    """Web servers, workers and beat on one machine; see the module docstring."""

    def __init__(self, *, database_url: str, redis_url: str, base_port: int = 8300, webs: int = 2, workers: int = 2,
                 beat: bool = True, var_dir: Path, env: dict | None = None, queue: str = "hub"):
        self.var_dir = Path(var_dir)
        self.web_urls: list[str] = [f"http://{HOST}:{base_port + i}" for i in range(webs)]
        self.workers = workers
        self.beat = beat
        self.queue = queue
        self.env = self._environment(database_url, redis_url, env or {})
        self._running: dict[str, subprocess.Popen] = {}
        self._control = None  # a Celery app on the broker, for pings

    def _environment(self, database_url: str, redis_url: str, extra: dict) -> dict:
        inherited = {k: v for k, v in os.environ.items() if k not in ("CELERY_BROKER_URL", "PORT")}
        env = {
            **inherited,
            "DJANGO_SETTINGS_MODULE": "hub.settings",
            "PYTHONUNBUFFERED": "1",
            "HUB_VAR_DIR": str(self.var_dir),
            "PUBLIC_BASE_URL": self.web_urls[0] if self.web_urls else f"http://{HOST}",
            **{k: str(v) for k, v in extra.items()},
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_url,
            "CELERY_QUEUE": self.queue,
            # Tasks go to the workers, never run in the web process that sent them.
            "CELERY_TASK_ALWAYS_EAGER": "0",
        }
        env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
        return env

    # --- names and commands ---------------------------------------------------

    @staticmethod
    def worker_name(i: int) -> str:
        """The worker's Celery node name (`--hostname worker<i>@%h`)."""
        return f"worker{i}@{socket.gethostname()}"

    def _port(self, i: int) -> int:
        return int(urlparse(self.web_urls[i]).port)

    def _log(self, name: str) -> Path:
        return self.var_dir / f"{name}.log"

    def _log_level(self) -> str:
        return self.env.get("LOG_LEVEL", "INFO")

    def _web_command(self, i: int) -> list[str]:
        return [sys.executable, "-m", "daphne", "--bind", HOST, "--port", str(self._port(i)), "--proxy-headers",
                "hub.asgi:application"]

    def _worker_command(self, i: int) -> list[str]:
        return [sys.executable, "-m", "celery", "--app", "hub", "worker", "--loglevel", self._log_level(),
                "--concurrency", str(WORKER_CONCURRENCY), "--queues", self.queue, "--hostname", f"worker{i}@%h"]

    def _beat_command(self) -> list[str]:
        return [sys.executable, "-m", "celery", "--app", "hub", "beat", "--loglevel", self._log_level(),
                "--schedule", str(self.var_dir / "celerybeat-schedule")]

    # --- the whole cluster ------------------------------------------------------

    def start(self, timeout: float = 60) -> None:
        """Migrate (idempotent), start every process, and return once every
        web answers /healthz with 200 and every worker answers a ping."""
        self.var_dir.mkdir(parents=True, exist_ok=True)
        self.manage("migrate", "--noinput", "-v", "0")
        deadline = time.monotonic() + timeout
        try:
            for i in range(len(self.web_urls)):
                self._spawn_web(i)
            for i in range(self.workers):
                self._spawn(f"worker{i}", self._worker_command(i))
            if self.beat:
                self.start_beat()
            self._wait(lambda: self._workers_answer(range(self.workers)),
                       [f"worker{i}" for i in range(self.workers)], deadline, "the workers to answer a ping")
            for i in range(len(self.web_urls)):
                self._wait(lambda i=i: self._web_answers(i, healthy=True), [f"web{i}"], deadline,
                           f"{self.web_urls[i]}/healthz to answer 200")
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        """Stop every process (SIGTERM, then SIGKILL after a grace period).
        Safe to call twice."""
        running = list(self._running.values())
        for process in running:
            send(process, signal.SIGTERM)
        deadline = time.monotonic() + STOP_SECONDS
        for process in running:
            try:
                process.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                kill(process)
            reap_group(process)
        self._running.clear()
        if self._control is not None:
            self._control.close()
            self._control = None

    def processes(self) -> dict[str, int]:
        """name ("web0", "worker1", "beat") -> pid of each running process."""
        return {name: p.pid for name, p in self._running.items() if p.poll() is None}

    def manage(self, *args: str) -> str:
        """Run a manage.py command with the cluster's settings; its output."""
        done = subprocess.run([sys.executable, "manage.py", *args], cwd=BASE_DIR, env=self.env,
                              capture_output=True, text=True)
        if done.returncode != 0:
            raise ClusterError(f"manage.py {' '.join(args)} failed:\n{done.stderr[-3000:]}")
        return done.stdout

    def __enter__(self) -> Cluster:
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    # --- one process at a time ----------------------------------------------------

    def kill_web(self, i: int, sig: int = signal.SIGKILL) -> None:
        self._signal(f"web{i}", sig)

    def start_web(self, i: int, timeout: float = 30) -> None:
        """Start web `i` (if it is not running) and wait until it answers
        /healthz (200, or 503 when it reports a dependency down)."""
        if not self._alive(f"web{i}"):
            self._spawn_web(i)
        self._wait(lambda: self._web_answers(i, healthy=False), [f"web{i}"], time.monotonic() + timeout,
                   f"{self.web_urls[i]}/healthz to answer")

    def kill_worker(self, i: int, sig: int = signal.SIGKILL) -> None:
        self._signal(f"worker{i}", sig)

    def start_worker(self, i: int, timeout: float = 30) -> None:
        """Start worker `i` (if it is not running) and wait until it answers a ping."""
        name = f"worker{i}"
        if not self._alive(name):
            self._spawn(name, self._worker_command(i))
        self._wait(lambda: self._workers_answer([i]), [name], time.monotonic() + timeout, f"{name} to answer a ping")

    def stop_beat(self) -> None:
        self._signal("beat", signal.SIGTERM)

    def start_beat(self) -> None:
        if not self._alive("beat"):
            self._spawn("beat", self._beat_command())

    # --- internals ------------------------------------------------------------------

    def _alive(self, name: str) -> bool:
        process = self._running.get(name)
        return process is not None and process.poll() is None

    def _spawn(self, name: str, args: list[str], **env: str) -> None:
        self._running[name] = spawn(args, env={**self.env, **env}, log=self._log(name), name=name)

    def _spawn_web(self, i: int) -> None:
        port = self._port(i)
        with socket.socket() as probe:
            # As Daphne binds: connections of a killed server left in
            # TIME_WAIT do not keep a new one from listening.
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind((HOST, port))
            except OSError:
                raise ClusterError(f"port {port} is in use: choose another base port") from None
        self._spawn(f"web{i}", self._web_command(i), PORT=str(port))

    def _signal(self, name: str, sig: int) -> None:
        process = self._running.get(name)
        if process is None:
            return
        send(process, sig)
        if sig in ENDING_SIGNALS:
            try:
                process.wait(STOP_SECONDS)
            except subprocess.TimeoutExpired:
                kill(process)
            reap_group(process)
            del self._running[name]

    def _web_answers(self, i: int, *, healthy: bool) -> bool:
        try:
            status = httpx.get(self.web_urls[i] + "/healthz", timeout=3).status_code
        except httpx.HTTPError:
            return False
        return status == 200 or (not healthy and status == 503)

    def _workers_answer(self, indices) -> bool:
        expected = {self.worker_name(i) for i in indices}
        if not expected:
            return True
        try:
            replies = self._control_app().control.ping(destination=sorted(expected), timeout=1.0)
        except Exception:  # the broker not reachable yet: not ready
            return False
        return expected <= {name for reply in replies for name in reply}

    def _control_app(self):
        """A bare Celery app on the cluster's broker (this process need not
        run Django, nor have the hub's settings)."""
        if self._control is None:
            from celery import Celery

            self._control = Celery("hub-cluster-control", set_as_current=False,
                                   broker=self.env.get("CELERY_BROKER_URL") or self.env["REDIS_URL"])
        return self._control

    def _wait(self, ready: Callable[[], bool], names: list[str], deadline: float, what: str) -> None:
        while not ready():
            for name in names:
                if not self._alive(name):
                    raise ClusterError(f"{name} exited while waiting for {what}:\n{self._tail(name)}")
            if time.monotonic() > deadline:
                raise ClusterError(f"timed out waiting for {what}:\n"
                                   + "\n".join(self._tail(name) for name in names))
            time.sleep(0.2)

    def _tail(self, name: str, chars: int = 3000) -> str:
        try:
            return f"--- {self._log(name)}:\n" + self._log(name).read_text(errors="replace")[-chars:]
        except OSError:
            return f"--- {self._log(name)}: no log"


# --- python -m hub.devtools.cluster ---------------------------------------------------

def shared_backends_problem(env: dict) -> str | None:
    """Why this environment cannot run a cluster, or None."""
    database, redis_url = env.get("DATABASE_URL", ""), env.get("REDIS_URL", "")
    if urlparse(database).scheme in POSTGRES_SCHEMES and urlparse(redis_url).scheme in REDIS_SCHEMES:
        return None
    return (
        "The cluster's processes share one database and one Redis, so it needs both set:\n"
        "  DATABASE_URL  a PostgreSQL database (SQLite belongs to one machine), "
        f"now {_scheme_of(database)}\n"
        "  REDIS_URL     a Redis server (the embedded one belongs to one launcher), "
        f"now {_scheme_of(redis_url)}\n"
        "For example:\n"
        "  DATABASE_URL=postgres://postgres@127.0.0.1:5432/hub_cluster REDIS_URL=redis://127.0.0.1:6379/10 make cluster"
    )


def _scheme_of(url: str) -> str:
    """What a URL names, without its credentials."""
    return f"{urlparse(url).scheme or '?'}://..." if url else "unset"


def _overview(cluster: Cluster) -> str:
    pids = cluster.processes()
    lines = ["", f"  The hub runs as a cluster sharing one database and one Redis (logs in {cluster.var_dir}):"]
    lines += [f"    web{i:<8} {url}   pid {pids.get(f'web{i}')}" for i, url in enumerate(cluster.web_urls)]
    lines += [f"    worker{i:<5} {cluster.worker_name(i)}   pid {pids.get(f'worker{i}')}"
              for i in range(cluster.workers)]
    lines += [f"    beat        pid {pids.get('beat')}"]
    lines += ["  Every web process serves the same console: sign in on one, open another;",
              "  kill one (kill -9 PID) and the console reconnects without losing an event."]
    return "\n".join(lines)


def _watch(cluster: Cluster) -> None:
    """Say when a process ends on its own (a drill, or a crash); never returns."""
    known = cluster.processes()
    while True:
        time.sleep(1)
        now = cluster.processes()
        for name in known.keys() - now.keys():
            print(f"{name} (pid {known[name]}) exited; its log: {cluster.var_dir / (name + '.log')}", flush=True)
        known = now


def main(argv: list[str] | None = None) -> int:
    from hub.devtools.run import _banner, _stop, _Stop

    parser = argparse.ArgumentParser(description="Several web servers and Celery workers sharing one PostgreSQL "
                                                 "and one Redis, and one Celery beat.")
    parser.add_argument("--webs", type=int, default=2, help="web (Daphne) processes")
    parser.add_argument("--workers", type=int, default=2, help="Celery worker processes")
    parser.add_argument("--base-port", type=int, default=8000, help="the first web's port; the others follow")
    args = parser.parse_args(argv)
    problem = shared_backends_problem(os.environ)
    if problem:
        print(problem, file=sys.stderr)
        return 2
    # Installed explicitly, as `make run` does: a shell starting this in the
    # background leaves SIGINT ignored.
    signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGTERM, _stop)
    var_dir = Path(os.environ.get("HUB_VAR_DIR") or BASE_DIR / "var") / "cluster"
    extra = {"PUBLIC_BASE_URL": os.environ["PUBLIC_BASE_URL"]} if os.environ.get("PUBLIC_BASE_URL") else {}
    cluster = Cluster(database_url=os.environ["DATABASE_URL"], redis_url=os.environ["REDIS_URL"],
                      base_port=args.base_port, webs=args.webs, workers=args.workers, var_dir=var_dir, env=extra,
                      queue=os.environ.get("CELERY_QUEUE") or "hub")
    try:
        cluster.start()
        cluster.manage("seed_demo")
        shown = {**cluster.env, "REDIS_URL": _without_password(cluster.env["REDIS_URL"])}
        print(_overview(cluster) + _banner(cluster.env["PUBLIC_BASE_URL"], shown), flush=True)
        _watch(cluster)
        return 0
    except (_Stop, KeyboardInterrupt):
        return 0
    except ClusterError as exc:
        print(exc, file=sys.stderr)
        return 1
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        print("Stopping the cluster...", flush=True)
        cluster.stop()


def _without_password(url: str) -> str:
    parsed = urlparse(url)
    return parsed._replace(netloc=parsed.netloc.replace(f":{parsed.password}@", ":***@")).geturl() \
        if parsed.password else url


if __name__ == "__main__":
    sys.exit(main())
