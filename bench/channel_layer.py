"""A group send on the hub's channel layer against channels_redis's own.

    python bench/channel_layer.py [--sends 2000] [--members 3] [--processes 2]

Both layers send the same message to the same group (members spread over
`--processes` receiving processes, simulated by layer instances), in
alternating rounds on one event loop; it prints the median and p99 time of
one `group_send` and of one `send`, and their ratio. Uses REDIS_URL when set,
else the local Redis when it runs, else an embedded one.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
import uuid

from common import bench_environment, setup_django


async def measure(layer, group: str, channel: str, n: int) -> tuple[list[float], list[float]]:
    message = {"type": "stream.batch", "stream": "dept.1",
               "entries": [{"seq": 1, "event": "event.created", "payload": {"body": "x" * 200}, "dept": 1}]}
    group_times, send_times = [], []
    for i in range(n):
        started = time.perf_counter()
        await layer.group_send(group, message)
        group_times.append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        await layer.send(channel, {"type": "direct", "n": i})
        send_times.append((time.perf_counter() - started) * 1000)
        if i % 200 == 199:
            await layer.flush()  # keep the receiving sets under capacity
            await layer.group_add(group, channel)
    return group_times, send_times


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sends", type=int, default=2000)
    parser.add_argument("--members", type=int, default=3, help="group members per receiving process")
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=4)
    args = parser.parse_args()
    env = bench_environment()
    setup_django(env)
    from channels_redis.core import RedisChannelLayer as Stock
    from django.conf import settings

    from hub.lib.channel_layer import RedisChannelLayer as Hub

    print(f"redis: {env['REDIS_URL']}")
    results = {"channels_redis": ([], []), "hub": ([], [])}
    per_round = max(1, args.sends // args.rounds)
    for _ in range(args.rounds):
        for name, cls in (("channels_redis", Stock), ("hub", Hub)):
            config = {**settings.CHANNEL_LAYERS["default"]["CONFIG"], "prefix": f"bench-{uuid.uuid4().hex[:8]}"}
            layers = [cls(**config) for _ in range(args.processes)]
            group = "bench"
            members = [await layer.new_channel() for layer in layers for _ in range(args.members)]
            for channel in members:
                await layers[0].group_add(group, channel)
            group_times, send_times = await measure(layers[0], group, members[0], per_round)
            results[name][0].extend(group_times)
            results[name][1].extend(send_times)
            await layers[0].flush()
    print(f"\n{'layer':<16}{'group_send p50':>16}{'p99':>8}{'send p50':>10}{'p99':>8}   (ms, {args.sends} each)")
    for name, (group_times, send_times) in results.items():
        q_group = statistics.quantiles(group_times, n=100)[98]
        q_send = statistics.quantiles(send_times, n=100)[98]
        print(f"{name:<16}{statistics.median(group_times):>16.3f}{q_group:>8.3f}"
              f"{statistics.median(send_times):>10.3f}{q_send:>8.3f}")
    stock, hub = results["channels_redis"], results["hub"]
    print(f"\nratio hub/channels_redis: group_send p50 {statistics.median(hub[0]) / statistics.median(stock[0]):.2f}"
          f"  send p50 {statistics.median(hub[1]) / statistics.median(stock[1]):.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
