"""The load generator watching itself: how late its event loop wakes up,
and what it was doing when it stalled. A generator that stalls adds its
stall to every time it measures; these figures say how much to trust them.
"""

from __future__ import annotations

import asyncio
import sys
import threading
import time
from collections import Counter
from pathlib import Path

from load_metrics import Recorder


class StallWatch:
    """A thread that notices when the event loop has not ticked for
    `threshold` seconds and notes the loop thread's Python stack at that
    moment (its innermost frames), once per stall."""

    def __init__(self, threshold: float = 0.5, depth: int = 10):
        self.threshold, self.depth = threshold, depth
        self.loop_thread = threading.get_ident()
        self.last_tick = time.perf_counter()
        self.stacks: Counter[str] = Counter()
        self.stalls = 0
        self.stopped = threading.Event()

    def tick(self) -> None:
        self.last_tick = time.perf_counter()

    def start(self) -> None:
        threading.Thread(target=self._watch, name="load-stall-watch", daemon=True).start()

    def stop(self) -> None:
        self.stopped.set()

    def _watch(self) -> None:
        noted = None
        while not self.stopped.wait(self.threshold / 4):
            tick = self.last_tick
            if time.perf_counter() - tick < self.threshold or noted == tick:
                continue
            noted = tick
            self.stalls += 1
            frame = sys._current_frames().get(self.loop_thread)
            self.stacks[self._describe(frame)] += 1

    def _describe(self, frame) -> str:
        names = []
        while frame is not None and len(names) < self.depth:
            code = frame.f_code
            names.append(f"{Path(code.co_filename).name}:{code.co_name}")
            frame = frame.f_back
        return " < ".join(names) or "(no Python frame)"

    def summary(self) -> dict:
        return {"stalls": self.stalls, "threshold_s": self.threshold, "stacks": dict(self.stacks.most_common(5))}


async def watch_loop(rec: Recorder, stalls: StallWatch, stop: asyncio.Event, every: float = 0.05) -> None:
    """How late the loop wakes from a short sleep, every `every` seconds."""
    while not stop.is_set():
        started = time.perf_counter()
        stalls.tick()
        await asyncio.sleep(every)
        rec.timing("generator event-loop lag", started + every, time.perf_counter())
