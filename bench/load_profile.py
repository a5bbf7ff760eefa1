"""A settings module that profiles the hub's processes during a load run:
the hub's own settings, plus a sampling profiler in every web server,
Celery worker (each pool process) and beat.

    python bench/load.py --profile ...

(which sets DJANGO_SETTINGS_MODULE=load_profile and puts bench/ on the
processes' path). Every 10 ms a thread of the process looks at every other
thread's Python stack and counts each function once per sample in which it
is on the stack (inclusive) and when it is on top (self). Threads parked
in a wait (the event loop's select, an idle executor thread, a lock) are
counted apart as idle; a thread waiting for PostgreSQL's or Redis's answer
is busy, and the share of such waits is given. Each process rewrites
`<LOAD_PROFILE_DIR>/<name>-<pid>.txt` every 10 seconds with its busiest
functions and the CPU each of its threads used (from /proc, exact).

Sampling costs the profiled process a few percent of a core; use it for a
run that asks where the time goes, not for the headline figures.
"""

from __future__ import annotations

import atexit
import os
import re
import sys
import threading
import time
from collections import Counter
from pathlib import Path

from hub.settings import *  # noqa: F401,F403

INTERVAL = 0.01
WRITE_EVERY = 10.0
# (file name ending, function) of Python frames that are only waiting.
IDLE = {("selectors.py", "select"), ("threading.py", "wait"), ("thread.py", "_worker"), ("queue.py", "get"),
        ("epollreactor.py", "doPoll"), ("multiprocessing/connection.py", "_recv"),
        ("multiprocessing/connection.py", "wait"), ("base_events.py", "_run_once"),
        ("kombu/asynchronous/hub.py", "create_loop")}
# Frames on top while a thread waits for an answer from a server.
WAITING = {("psycopg/connection.py", "wait"): "PostgreSQL", ("psycopg/waiting.py", "wait"): "PostgreSQL",
           ("redis/_parsers/socket.py", "_read_from_socket"): "Redis",
           ("redis/connection.py", "send_packed_command"): "Redis"}


def _label(code) -> str:
    parts = Path(code.co_filename).parts
    short = "/".join(parts[-3:]) if "site-packages" in parts else "/".join(parts[-2:])
    return f"{short}:{code.co_name}"


def _idle(code) -> bool:
    return any(code.co_filename.endswith(name) and code.co_name == func for name, func in IDLE)


def _waiting_on(code) -> str | None:
    return next((server for (name, func), server in WAITING.items()
                 if code.co_filename.endswith(name) and code.co_name == func), None)


def _name() -> str:
    argv = " ".join(sys.argv)
    if "daphne" in argv:
        port = sys.argv[sys.argv.index("--port") + 1] if "--port" in sys.argv else "web"
        return f"web-{port}"
    if " beat" in argv:
        return "beat"
    return "worker" if "celery" in argv else Path(sys.argv[0]).stem


class Sampler:
    def __init__(self, out_dir: Path):
        self.out = out_dir / f"{_name()}-{os.getpid()}.txt"
        self.inclusive: Counter[str] = Counter()
        self.own: Counter[str] = Counter()
        self.busy = self.idle = 0
        self.waiting: Counter[str] = Counter()
        self.threads: dict[int, tuple[str, float]] = {}  # native id -> (name, CPU seconds), dead ones too
        self.started = time.monotonic()

    def run(self) -> None:
        me = threading.get_ident()
        last_write = last_threads = time.monotonic()
        while True:
            time.sleep(INTERVAL)
            for ident, frame in sys._current_frames().items():
                if ident != me:
                    self._count(frame)
            if time.monotonic() - last_threads >= 1.0:
                last_threads = time.monotonic()
                self.threads.update(_thread_cpu())
            if time.monotonic() - last_write >= WRITE_EVERY:
                last_write = time.monotonic()
                self.write()

    def _count(self, frame) -> None:
        if _idle(frame.f_code):
            self.idle += 1
            return
        self.busy += 1
        server = _waiting_on(frame.f_code)
        if server:
            self.waiting[server] += 1
        self.own[_label(frame.f_code)] += 1
        seen = set()
        while frame is not None:
            label = _label(frame.f_code)
            if label not in seen:
                seen.add(label)
                self.inclusive[label] += 1
            frame = frame.f_back

    def write(self) -> None:
        self.threads.update(_thread_cpu())
        waits = ", ".join(f"{n / max(self.busy, 1):.0%} waiting on {server}" for server, n in self.waiting.items())
        lines = [f"{self.out.stem}: {self.busy} busy thread samples ({waits or 'none waiting on a server'}), "
                 f"{self.idle} idle, over {time.monotonic() - self.started:.0f} s", "",
                 "CPU seconds by thread (/proc; threads of the same kind summed, the busiest five apart):"]
        lines += [f"  {cpu:9.2f}  {name}" for name, cpu in _by_kind(self.threads.values())]
        for title, counter in (("inclusive", self.inclusive), ("self", self.own)):
            lines += ["", f"top functions, {title} (share of busy samples; busy includes waiting on the database)"]
            lines += [f"  {n / max(self.busy, 1):7.1%}  {label}" for label, n in counter.most_common(60)]
        self.out.write_text("\n".join(lines) + "\n")


def _thread_cpu() -> dict[int, tuple[str, float]]:
    names = {t.native_id: t.name for t in threading.enumerate()}
    tick = os.sysconf("SC_CLK_TCK")
    rows = {}
    for task in Path("/proc/self/task").iterdir():
        try:
            fields = (task / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        tid = int(task.name)
        rows[tid] = (names.get(tid, f"tid {tid}"), (int(fields[11]) + int(fields[12])) / tick)  # utime + stime
    return rows


def _by_kind(threads) -> list[tuple[str, float]]:
    ordered = sorted(threads, key=lambda row: -row[1])
    kinds: Counter[str] = Counter()
    for name, cpu in ordered[5:]:
        kinds[re.sub(r"\d+", "N", name)] += cpu
    return ordered[:5] + sorted(kinds.items(), key=lambda row: -row[1])


def _start() -> None:
    out = Path(os.environ.get("LOAD_PROFILE_DIR", "var/load/profile"))
    out.mkdir(parents=True, exist_ok=True)
    sampler = Sampler(out)
    threading.Thread(target=sampler.run, name="load-profile", daemon=True).start()
    atexit.register(sampler.write)


# Only the long-running processes; not manage.py nor the run's setup.
if any(word in " ".join(sys.argv) for word in ("daphne", "celery")):
    _start()
    os.register_at_fork(after_in_child=_start)  # a worker's pool processes do its tasks
