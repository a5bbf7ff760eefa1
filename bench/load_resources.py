"""CPU and memory of the processes a load run shares the machine with,
sampled once a second with psutil, and what the hub's database sessions
wait on.

A role is one process with its children (a Celery worker's pool processes
work for it), so CPU is the whole tree's, in percent of one core, and RSS
the tree's sum; roles named `alone` are the process by itself (the
generator, whose children are the hub). PostgreSQL and Redis are sampled as the servers they are
(every process of theirs on the machine, whoever's database or client).
"""

from __future__ import annotations

import re
import time
from collections import Counter, defaultdict
from typing import Callable
from urllib.parse import urlparse

import psutil

from load_metrics import percentiles

SERVERS = {"postgres": ("postgres", "postmaster"), "redis": ("redis-server",)}


class _Table:
    """Every process on the machine, read once per sample (one pass over
    /proc: psutil's own `children()` would read it all again per role)."""

    def __init__(self) -> None:
        self.by_pid: dict[int, psutil.Process] = {}
        self.children: dict[int, list[int]] = defaultdict(list)
        for process in psutil.process_iter(["ppid", "name"]):
            self.by_pid[process.pid] = process
            self.children[process.info["ppid"]].append(process.pid)

    def tree(self, pid: int, children: bool = True) -> list[psutil.Process]:
        pids, todo = [], [pid]
        while todo:
            current = todo.pop()
            if current in self.by_pid:
                pids.append(current)
                if children:
                    todo.extend(self.children.get(current, []))
        return [self.by_pid[p] for p in pids]

    def named(self, names: tuple[str, ...]) -> list[psutil.Process]:
        return [p for p in self.by_pid.values() if p.info["name"] in names]


def _usage(processes: list[psutil.Process]) -> tuple[float, int]:
    """CPU seconds used so far and resident bytes now; a process that ended
    meanwhile counts as nothing."""
    cpu, rss = 0.0, 0
    for process in processes:
        try:
            with process.oneshot():
                times = process.cpu_times()
                cpu += times.user + times.system
                rss += process.memory_info().rss
        except psutil.Error:
            continue
    return cpu, rss


class ResourceSampler:
    """`roles()` names the processes to follow (re-read every sample, so a
    restarted process is followed); the servers are found by name."""

    def __init__(self, roles: Callable[[], dict[str, int]], *, alone: frozenset[str] = frozenset(),
                 servers: bool = True):
        self.roles = roles
        self.alone = alone
        self.servers = servers
        self.last: dict[str, tuple[float, float]] = {}  # role -> (wall, cpu seconds)
        self.rows: list[dict] = []  # {"t": ..., "role": ..., "cpu": %, "rss": bytes}
        self.machine: list[tuple[float, float]] = []
        psutil.cpu_percent(None)

    def _groups(self) -> dict[str, list[psutil.Process]]:
        table = _Table()
        groups = {role: table.tree(pid, children=role not in self.alone) for role, pid in self.roles().items()}
        if self.servers:
            groups.update({name: table.named(names) for name, names in SERVERS.items()})
        return groups

    def sample(self, at: float) -> None:
        wall = time.perf_counter()
        for role, processes in self._groups().items():
            cpu, rss = _usage(processes)
            previous = self.last.get(role)
            self.last[role] = (wall, cpu)
            if previous is None or wall <= previous[0]:
                continue
            # A tree that lost a child can go backwards; it used nothing less.
            percent = max(0.0, (cpu - previous[1]) / (wall - previous[0]) * 100)
            self.rows.append({"t": at, "role": role, "cpu": percent, "rss": rss})
        self.machine.append((at, psutil.cpu_percent(None)))

    def summary(self, start: float, end: float) -> dict[str, dict]:
        by_role: dict[str, list[dict]] = defaultdict(list)
        for row in self.rows:
            if start <= row["t"] < end:
                by_role[row["role"]].append(row)
        out = {}
        for role, rows in by_role.items():
            cpu = [r["cpu"] for r in rows]
            rss = [r["rss"] / 2**20 for r in rows]
            out[role] = {"cpu_mean": sum(cpu) / len(cpu), "cpu_max": max(cpu),
                         "rss_mean_mib": sum(rss) / len(rss), "rss_max_mib": max(rss), "samples": len(rows)}
        machine = [p for t, p in self.machine if start <= t < end]
        if machine:
            stats = percentiles(machine)
            out["machine"] = {"cpu_mean": stats["mean"], "cpu_max": stats["max"], "rss_mean_mib": None,
                              "rss_max_mib": None, "samples": len(machine), "note": "percent of all cores"}
        return out


class DatabaseWaits:
    """What the hub's PostgreSQL sessions are doing, once a second (from
    pg_stat_activity): how many run a statement, how many of those wait and
    on what (a row lock held by another transaction is `Lock:
    transactionid` or `Lock: tuple`), and for lock waits, which statement
    waits behind which."""

    QUERY = ("SELECT coalesce(a.wait_event_type || ': ' || a.wait_event, 'running'), "
             "CASE WHEN a.wait_event_type = 'Lock' THEN left(regexp_replace(a.query, '\\s+', ' ', 'g'), %s) END, "
             "CASE WHEN a.wait_event_type = 'Lock' THEN (SELECT left(regexp_replace(b.query, '\\s+', ' ', 'g'), %s) "
             "FROM pg_stat_activity b WHERE b.pid = (pg_blocking_pids(a.pid))[1]) END "
             "FROM pg_stat_activity a WHERE a.datname = %s AND a.state = 'active' AND a.pid <> pg_backend_pid()")
    STATEMENT_CHARS = 90
    COUNTERS = "SELECT deadlocks, xact_commit, xact_rollback, sessions FROM pg_stat_database WHERE datname = %s"

    def __init__(self, database_url: str):
        import psycopg

        self.name = urlparse(database_url).path.lstrip("/")
        self.connection = psycopg.connect(database_url, autocommit=True)
        self.rows: list[tuple[float, list[tuple[str, str | None, str | None]]]] = []
        self.counters: list[tuple[float, tuple[int, int, int]]] = []

    def sample(self, at: float) -> None:
        n = self.STATEMENT_CHARS
        self.rows.append((at, self.connection.execute(self.QUERY, [n, n, self.name]).fetchall()))
        self.counters.append((at, self.connection.execute(self.COUNTERS, [self.name]).fetchone()))

    def close(self) -> None:
        self.connection.close()

    def summary(self, start: float, end: float) -> dict:
        """Mean sessions in each state over the window's samples, and the
        lock waits seen most often (waiting statement, then its blocker's)."""
        samples = [rows for t, rows in self.rows if start <= t < end]
        states: Counter[str] = Counter()
        waits: Counter[str] = Counter()
        for rows in samples:
            states.update(state for state, _, _ in rows)
            waits.update(f"{waiting}  <- blocked by: {blocker or '(idle in transaction, or committing)'}"
                         for state, waiting, blocker in rows if waiting)
        n = max(len(samples), 1)
        return {"states": {state: count / n for state, count in states.most_common()},
                "lock_waits": dict(waits.most_common(8)), "samples": len(samples), **self._deltas(start, end)}

    def _deltas(self, start: float, end: float) -> dict:
        """Deadlocks, commits, rollbacks and sessions opened in the window
        (PostgreSQL's counters; each session is a server process forked)."""
        inside = [(t, c) for t, c in self.counters if start <= t < end]
        if len(inside) < 2:
            return {}
        (t0, first), (t1, last) = inside[0], inside[-1]
        deadlocks, commits, rollbacks, sessions = (b - a for a, b in zip(first, last))
        return {"deadlocks": deadlocks, "commits_per_s": commits / (t1 - t0), "rollbacks_per_s": rollbacks / (t1 - t0),
                "sessions_opened_per_s": sessions / (t1 - t0)}


class BrokerQueue:
    """The Celery queue in Redis, once a second: tasks waiting for a worker
    (the queue's list) and tasks a worker holds unacknowledged (running, or
    waiting for their ETA)."""

    def __init__(self, redis_url: str, queue: str):
        import redis

        from hub.lib.redis_conf import broker_lists

        self.client = redis.Redis.from_url(redis_url)
        self.queue = queue
        self.lists = broker_lists(queue)  # one list per priority step
        self.rows: list[tuple[float, int, int]] = []
        self.tasks: dict[str, dict[str, int]] = {}

    def sample(self, at: float) -> None:
        with self.client.pipeline(transaction=False) as pipe:
            for key in self.lists:
                pipe.llen(key)
            *lengths, held = pipe.hlen("unacked").execute()
        self.rows.append((at, sum(lengths), held))

    def close(self) -> None:
        self.client.close()

    def snapshot(self, limit: int = 20000) -> None:
        """Which tasks wait and which are held, by name, now (at the end of
        the measured window)."""
        name = re.compile(rb'"task": "([^"]+)"')
        waiting = Counter(m.group(1).decode() for key in self.lists for raw in self.client.lrange(key, 0, limit - 1)
                          if (m := name.search(raw)))
        held = Counter(m.group(1).decode() for raw in self.client.hvals("unacked") if (m := name.search(raw)))
        self.tasks = {"waiting": dict(waiting.most_common(8)), "held": dict(held.most_common(8))}

    def summary(self, start: float, end: float) -> dict:
        rows = [(w, h) for t, w, h in self.rows if start <= t < end]
        if not rows:
            return {}
        waiting, held = [w for w, _ in rows], [h for _, h in rows]
        return {"waiting_mean": sum(waiting) / len(rows), "waiting_max": max(waiting),
                "held_mean": sum(held) / len(rows), "held_max": max(held), "tasks_at_end": self.tasks}
