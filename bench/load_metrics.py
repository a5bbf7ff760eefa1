"""What a load run (bench/load.py) records, and how it judges it.

Every inbound message carries a unique tag in its body (`[lt:<hex>]`),
every agent reply another (`[lr:<hex>]`). The recorder notes when each was
sent and where and when it arrived; each agent socket's stream sequences
are checked as they come (a sequence seen twice is a duplicate, a jump on
a department stream is a gap, since the server sends every entry of those);
`evaluate` turns it all into the figures the report prints.

Times are `time.perf_counter()` seconds; only the generator's own clock is
used, so no clock skew enters the figures.
"""

from __future__ import annotations

import statistics
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field

TAG_IN = "[lt:"
TAG_REPLY = "[lr:"
PROVIDER_STATUSES = frozenset({"queued", "sending", "sent", "delivered", "read"})


def find_tag(body: str, marker: str) -> str | None:
    start = body.find(marker)
    if start < 0:
        return None
    end = body.find("]", start)
    return body[start + len(marker):end] if end > 0 else None


def percentiles(samples: list[float]) -> dict[str, float]:
    if not samples:
        return {"n": 0, "p50": None, "p95": None, "p99": None, "max": None, "mean": None}
    ordered = sorted(samples)
    if len(ordered) == 1:
        q = [ordered[0]] * 99
    else:
        q = statistics.quantiles(ordered, n=100, method="inclusive")
    return {"n": len(ordered), "p50": statistics.median(ordered), "p95": q[94], "p99": q[98],
            "max": ordered[-1], "mean": statistics.fmean(ordered)}


@dataclass
class Inbound:
    kind: str  # "sms" or "widget"
    sent: float
    accepted: bool | None = None  # the hub's 2xx or ack; None until it answers
    department: int | None = None
    arrivals: dict[int, float] = field(default_factory=dict)  # agent socket -> first arrival


@dataclass
class Reply:
    channel: str  # the conversation's, as the inbound that prompted it: "sms" or "widget"
    posted: float
    answered: float | None = None
    status: int | None = None
    provider_at: float | None = None  # first delivery status past pending (handed to the provider)
    delivered_at: float | None = None
    widget_at: float | None = None  # arrival on the patient's widget


@dataclass
class SocketState:
    departments: frozenset[int]
    welcomed_at: float | None = None
    cursors: dict[str, int] = field(default_factory=dict)
    reconnects: int = 0


class Recorder:
    """Everything measured, from the generator's event loop (no locks: one thread)."""

    def __init__(self) -> None:
        self.origin = time.perf_counter()
        self.window: tuple[float, float] = (float("inf"), float("inf"))
        self.inbound: dict[str, Inbound] = {}
        self.replies: dict[str, Reply] = {}
        self.sockets: dict[int, SocketState] = {}
        self.timings: dict[str, list[tuple[float, float]]] = defaultdict(list)  # name -> (at, ms)
        self.events: dict[str, Counter[int]] = defaultdict(Counter)  # name -> second of the run -> count
        self.errors: Counter[str] = Counter()
        self.duplicates: list[tuple[int, str, int]] = []
        self.gaps: list[tuple[int, str, int, int]] = []
        self.resyncs: list[tuple[int, str, int]] = []
        self.duplicate_inbound = 0
        self.samples: list[dict] = []  # resource samples, one per second

    # --- the measured window -------------------------------------------------

    def set_window(self, start: float, end: float) -> None:
        self.window = (start, end)

    def measured(self, at: float) -> bool:
        return self.window[0] <= at < self.window[1]

    # --- what happened -------------------------------------------------------

    def second(self, at: float) -> int:
        return int(at - self.origin)

    def count(self, name: str, at: float | None = None) -> None:
        self.events[name][self.second(time.perf_counter() if at is None else at)] += 1

    def timing(self, name: str, started: float, ended: float) -> None:
        self.timings[name].append((started, (ended - started) * 1000))

    def error(self, what: str) -> None:
        self.errors[what] += 1

    def sent_inbound(self, tag: str, kind: str, at: float) -> None:
        self.inbound[tag] = Inbound(kind=kind, sent=at)

    def answered_inbound(self, tag: str, accepted: bool) -> None:
        item = self.inbound.get(tag)
        if item is not None:
            item.accepted = accepted

    def arrived(self, tag: str, socket_id: int, stream: str, at: float) -> Inbound | None:
        """An inbound's event.created on an agent socket; the inbound when it
        is the first time on that socket."""
        item = self.inbound.get(tag)
        if item is None:
            return None
        if socket_id in item.arrivals:
            self.duplicate_inbound += 1
            return None
        item.arrivals[socket_id] = at
        if item.department is None and stream.startswith("dept."):
            item.department = int(stream[5:])
        return item

    def posted_reply(self, tag: str, channel: str, at: float) -> Reply:
        reply = self.replies[tag] = Reply(channel=channel, posted=at)
        self.count("out: agent reply", at)
        return reply

    def delivery_update(self, tag: str, status: str, at: float) -> None:
        reply = self.replies.get(tag)
        if reply is None:
            return
        if status in PROVIDER_STATUSES and reply.provider_at is None:
            reply.provider_at = at
            self.count("out: handed to provider", at)
        if status in ("delivered", "read") and reply.delivered_at is None:
            reply.delivered_at = at

    def reply_at_widget(self, tag: str, at: float) -> None:
        reply = self.replies.get(tag)
        if reply is not None and reply.widget_at is None:
            reply.widget_at = at
            self.count("out: reply at widget", at)

    # --- agent sockets' sequences --------------------------------------------

    def socket(self, socket_id: int, departments: frozenset[int]) -> SocketState:
        return self.sockets.setdefault(socket_id, SocketState(departments=departments))

    def welcomed(self, socket_id: int, heads: dict[str, int], at: float) -> None:
        state = self.sockets[socket_id]
        if state.welcomed_at is None:
            state.welcomed_at = at
        for stream, head in heads.items():
            state.cursors.setdefault(stream, head)  # a reconnect keeps its cursors: replay follows

    def sequenced(self, socket_id: int, stream: str, seq: int) -> None:
        cursors = self.sockets[socket_id].cursors
        last = cursors.get(stream)
        if last is None:
            cursors[stream] = seq
            return
        if seq <= last:
            self.duplicates.append((socket_id, stream, seq))
            return
        if seq > last + 1 and stream.startswith("dept."):
            # Agent and practice streams legitimately skip what a socket may
            # not see (or sees on its department's stream); department
            # streams are sent whole.
            self.gaps.append((socket_id, stream, last, seq))
        cursors[stream] = seq

    def resynced(self, socket_id: int, stream: str, seq: int) -> None:
        self.resyncs.append((socket_id, stream, seq))
        self.sockets[socket_id].cursors[stream] = seq

    # --- judging ---------------------------------------------------------------

    def pending_inbound(self, deadline: float, now: float) -> int:
        """Measured inbounds still missing from a socket that should have them
        and still inside their deadline: worth waiting for."""
        followers = self._followers()
        waiting = 0
        for item in self.inbound.values():
            if not self.measured(item.sent) or now - item.sent > deadline:
                continue
            expected = self._expected(item, followers)
            if not item.arrivals or any(s not in item.arrivals for s in expected):
                waiting += 1
        return waiting

    def _followers(self) -> dict[int, list[tuple[int, SocketState]]]:
        out: dict[int, list[tuple[int, SocketState]]] = defaultdict(list)
        for socket_id, state in self.sockets.items():
            for department in state.departments:
                out[department].append((socket_id, state))
        return out

    @staticmethod
    def _expected(item: Inbound, followers) -> list[int]:
        """Sockets following the inbound's department that were open (said
        hello) before it was sent."""
        if item.department is None:
            return []
        return [s for s, state in followers.get(item.department, [])
                if state.welcomed_at is not None and state.welcomed_at <= item.sent]

    def evaluate(self, deadline: float) -> dict:
        followers = self._followers()
        per_delivery, first, lost_inbound, never, lost_deliveries, late = [], [], 0, 0, 0, 0
        unanswered, refused, by_kind = 0, 0, defaultdict(list)
        for item in self.inbound.values():
            if not self.measured(item.sent):
                continue
            if item.accepted is False and not item.arrivals:
                refused += 1  # the hub said no: an error, counted with the requests
                continue
            if item.accepted is None and not item.arrivals:
                unanswered += 1
            expected = self._expected(item, followers)
            for socket_id, at in item.arrivals.items():
                per_delivery.append((at - item.sent) * 1000)
                by_kind[item.kind].append((at - item.sent) * 1000)
            if item.arrivals:
                first.append((min(item.arrivals.values()) - item.sent) * 1000)
            if not item.arrivals or min(item.arrivals.values()) - item.sent > deadline:
                lost_inbound += 1
                never += not item.arrivals
            for socket_id in expected:
                at = item.arrivals.get(socket_id)
                if at is None:
                    lost_deliveries += 1
                elif at - item.sent > deadline:
                    late += 1
        return {
            "inbound_to_agent": percentiles(per_delivery),
            "inbound_to_first_agent": percentiles(first),
            "inbound_to_agent_by_kind": {k: percentiles(v) for k, v in by_kind.items()},
            "lost_inbound": lost_inbound,
            "never_arrived": never,
            "lost_deliveries": lost_deliveries,
            "late_deliveries": late,
            "unanswered_inbound": unanswered,
            "refused_inbound": refused,
            "duplicate_sequences": len(self.duplicates),
            "duplicate_inbound_events": self.duplicate_inbound,
            "sequence_gaps": len(self.gaps),
            "resyncs": len(self.resyncs),
            "reconnects": sum(s.reconnects for s in self.sockets.values()),
            "examples": {"duplicates": self.duplicates[:5], "gaps": self.gaps[:5], "resyncs": self.resyncs[:5]},
        }

    def reply_figures(self) -> dict:
        measured = [r for r in self.replies.values() if self.measured(r.posted)]
        ms = lambda a, b: (a - b) * 1000  # noqa: E731
        return {
            "posted": len(measured),
            "failed": sum(1 for r in measured if r.status is not None and r.status != 201),
            "answer": percentiles([ms(r.answered, r.posted) for r in measured if r.answered is not None]),
            "to_provider": percentiles([ms(r.provider_at, r.posted) for r in measured if r.provider_at is not None]),
            "to_delivered": percentiles([ms(r.delivered_at, r.posted) for r in measured if r.delivered_at is not None]),
            "to_widget": percentiles([ms(r.widget_at, r.posted) for r in measured
                                      if r.widget_at is not None and r.channel == "widget"]),
            "never_handed_to_provider": sum(1 for r in measured if r.status == 201 and r.provider_at is None),
            "widget_replies_never_shown": sum(1 for r in measured
                                              if r.status == 201 and r.channel == "widget" and r.widget_at is None),
        }

    def timing_figures(self) -> dict[str, dict]:
        return {name: percentiles([ms for at, ms in rows if self.measured(at)])
                for name, rows in sorted(self.timings.items())}

    def window_seconds(self) -> range:
        """The whole seconds of the run inside the measured window."""
        return range(self.second(self.window[0]), self.second(self.window[1]))

    def rates(self) -> dict[str, float]:
        seconds = self.window_seconds()
        return {name: sum(counts[s] for s in seconds) / max(len(seconds), 1)
                for name, counts in sorted(self.events.items())}
