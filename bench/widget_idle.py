"""How many idle chat-widget connections one server process holds, and the
memory each costs.

Starts one Daphne process of the hub, opens N widget sockets to it (each a
visitor who started a chat, then sits idle), and reports the server's
resident memory and CPU before and after, per connection.

    python bench/widget_idle.py [--connections 2000] [--idle 30]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import sys
import time

import psutil
import websockets

from common import Server, bench_environment, manage, seeded_database


def raise_fd_limit(n: int) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(max(soft, n), hard), hard))


async def open_visitor(url: str, origin: str, i: int, sockets: list, failures: list) -> None:
    try:
        ws = await websockets.connect(url, origin=origin, open_timeout=60, ping_interval=None, max_queue=4)
        await ws.send(json.dumps({"type": "start", "name": f"Visitor{i}"}))
        while json.loads(await ws.recv())["type"] != "welcome":
            pass
        sockets.append(ws)
    except Exception as exc:  # counted and reported
        failures.append(type(exc).__name__)


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--connections", type=int, default=2000)
    parser.add_argument("--idle", type=float, default=30.0, help="seconds to hold them idle while measuring CPU")
    parser.add_argument("--batch", type=int, default=50)
    args = parser.parse_args()
    raise_fd_limit(args.connections * 2 + 200)
    env = bench_environment()
    env.update(WIDGET_CONNECTS_PER_IP="1000000", DB_POOL_MAX="10")
    seeded_database(env)
    key = manage(env, "shell", "-v", "0", "-c", "from hub.models import Practice; print(Practice.objects.get().widget_key)").strip()
    server = Server(env, "hub.asgi:application")
    try:
        process = psutil.Process(server.process.pid)
        time.sleep(2)
        base_rss = process.memory_info().rss
        url = server.base.replace("http", "ws") + f"/ws/widget/{key}/"
        sockets, failures = [], []
        started = time.perf_counter()
        for first in range(0, args.connections, args.batch):
            await asyncio.gather(*(open_visitor(url, server.base, i, sockets, failures)
                                   for i in range(first, min(first + args.batch, args.connections))))
        opened = time.perf_counter() - started
        await asyncio.sleep(3)
        full_rss = process.memory_info().rss
        cpu0 = process.cpu_times()
        await asyncio.sleep(args.idle)
        cpu1 = process.cpu_times()
        idle_cpu = ((cpu1.user + cpu1.system) - (cpu0.user + cpu0.system)) / args.idle * 100
        n = len(sockets)
        print(f"\nconnections held        {n} of {args.connections} ({len(failures)} failed: {sorted(set(failures))})")
        print(f"opened in               {opened:.1f} s ({n / opened:.0f} per second, each with a new visitor)")
        print(f"server RSS              {base_rss / 2**20:.1f} MiB -> {full_rss / 2**20:.1f} MiB")
        print(f"memory per connection   {(full_rss - base_rss) / max(n, 1) / 1024:.1f} KiB")
        print(f"server CPU while idle   {idle_cpu:.1f}% of one core over {args.idle:.0f} s")
        await asyncio.gather(*(ws.close() for ws in sockets), return_exceptions=True)
        return 0 if not failures else 1
    finally:
        server.stop()


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
