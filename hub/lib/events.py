"""The one place realtime events are published.

Actions call `publish` inside their transaction. At its COMMIT (the hub's
database backends, hub.db.backends) each message gets the next sequence
number of every stream it goes to and is stored for replay; it is sent to
the stream's channel-layer group only after the transaction commits, so no
client ever sees something that was rolled back.

Streams are named `dept.<id>` (a department's queue and its conversations),
`agent.<user id>` (conversations assigned to one person, wherever they are)
and `practice.<id>` (practice-wide notices such as presence).
"""

from __future__ import annotations

import json
import logging
from collections import defaultdict
from dataclasses import dataclass, field
from functools import cache

from channels.layers import get_channel_layer
from django.db import connection, transaction
from pydantic import BaseModel

from hub.lib import clock, layer_loop
from hub.lib.event_types import STREAM_TYPES

log = logging.getLogger(__name__)


def dept_stream(department_id: int) -> str:
    return f"dept.{department_id}"


def agent_stream(user_id: int) -> str:
    return f"agent.{user_id}"


def practice_stream(practice_id: int) -> str:
    return f"practice.{practice_id}"


def group_for(stream: str) -> str:
    return f"s.{stream}"


def conversation_streams(conversation, *, also_departments: tuple[int, ...] = ()) -> list[str]:
    """Where events of a conversation go: its department's stream (plus any
    department it just left) and, when assigned, its assignee's own stream so
    that a person keeps a conversation transferred to them from a department
    they do not belong to."""
    streams = {dept_stream(conversation.department_id)}
    streams.update(dept_stream(d) for d in also_departments if d)
    if conversation.assignee_id:
        streams.add(agent_stream(conversation.assignee_id))
    return sorted(streams)


@dataclass
class _Pending:
    streams: list[str]
    type: str
    payload: dict
    department_id: int | None = None
    seqs: dict[str, int] = field(default_factory=dict)


_UPSERT_ONE = (
    "INSERT INTO hub_streamcounter (stream, last_seq) VALUES (%s, %s) "
    "ON CONFLICT (stream) DO UPDATE SET last_seq = hub_streamcounter.last_seq + excluded.last_seq "
    "RETURNING last_seq"
)
_INSERT_ENTRY = ("INSERT INTO hub_streamentry (stream, seq, type, payload, department_id, created_at) "
                 "VALUES (%s, %s, %s, %s, %s, %s)")


class _Publication:
    """The messages of one `publish` call. The hub's database backends
    (hub.db.backends) number and store them just before COMMIT, in the same
    transaction; this callback sends them after it."""

    __qualname__ = "publication"

    def __init__(self, pending: list[_Pending]):
        self.pending = pending
        self.stored = False

    def __call__(self) -> None:
        if not self.stored:
            # A commit that bypassed the hub's backends (a DATABASES ENGINE
            # other than hub.db.backends.*). Stored late, but stored, and in
            # one transaction: clients see it, in sequence order.
            log.error("stream entries were not stored at commit: is DATABASES ENGINE one of hub.db.backends?")
            with transaction.atomic():
                store_with_cursor([self], connection.cursor())
        _send_after_commit(self.pending)


def unstored(conn) -> list[_Publication]:
    """What this connection's transaction published and has not stored yet
    (a savepoint rolled back takes its publications with it)."""
    return [func for _, func, _ in conn.run_on_commit if isinstance(func, _Publication) and not func.stored]


def _counts(publications: list[_Publication]) -> tuple[list[_Pending], dict[str, int]]:
    pending = [item for publication in publications for item in publication.pending]
    counts: dict[str, int] = defaultdict(int)
    for item in pending:
        for stream in item.streams:
            counts[stream] += 1
    return pending, counts


def store_with_cursor(publications: list[_Publication], cursor) -> None:
    """Give every message its sequence numbers and store it for replay:
    counters in sorted order (two transactions never deadlock on them),
    then the entries."""
    pending, counts = _counts(publications)
    next_seq = {}
    for stream in sorted(counts):
        cursor.execute(_UPSERT_ONE, [stream, counts[stream]])
        next_seq[stream] = cursor.fetchone()[0] - counts[stream] + 1
    now = connection.ops.adapt_datetimefield_value(clock.now())
    rows = []
    for item in pending:
        encoded = json.dumps(item.payload)
        for stream in item.streams:
            item.seqs[stream] = next_seq[stream]
            next_seq[stream] += 1
            rows.append((stream, item.seqs[stream], item.type, encoded, item.department_id, now))
    cursor.executemany(_INSERT_ENTRY, rows)
    for publication in publications:
        publication.stored = True


@cache
def _store_sql(n_streams: int, n_entries: int) -> str:
    return (
        "WITH c AS ("
        " INSERT INTO hub_streamcounter (stream, last_seq) VALUES " + ", ".join(["(%s, %s)"] * n_streams) +
        " ON CONFLICT (stream) DO UPDATE SET last_seq = hub_streamcounter.last_seq + excluded.last_seq"
        " RETURNING stream, last_seq"
        "), v (stream, k, n, type, payload, dept) AS (VALUES " +
        ", ".join(["(%s, %s::bigint, %s::bigint, %s, %s::jsonb, %s::bigint)"] * n_entries) +
        ") INSERT INTO hub_streamentry (stream, seq, type, payload, department_id, created_at)"
        " SELECT v.stream, c.last_seq - v.n + 1 + v.k, v.type, v.payload, v.dept, %s::timestamptz"
        " FROM v JOIN c ON c.stream = v.stream"
        " RETURNING stream, seq"
    )


def store_statement_postgresql(publications: list[_Publication]):
    """One statement that bumps every counter (rows locked in sorted order)
    and inserts the entries numbered from it (entry k of n on a stream gets
    last_seq - n + 1 + k); and what to do with the rows it returns. The
    backend sends it in one round trip with the COMMIT."""
    pending, counts = _counts(publications)
    streams = sorted(counts)
    params: list = []
    for stream in streams:
        params += [stream, counts[stream]]
    taken = dict.fromkeys(streams, 0)
    placements = []  # (item, stream, k) in order
    for item in pending:
        encoded = json.dumps(item.payload)
        for stream in item.streams:
            params += [stream, taken[stream], counts[stream], item.type, encoded, item.department_id]
            placements.append((item, stream, taken[stream]))
            taken[stream] += 1
    params.append(clock.now())

    def assign(rows) -> None:
        first: dict[str, int] = {}
        for stream, seq in rows:
            first[stream] = min(seq, first.get(stream, seq))
        for item, stream, k in placements:
            item.seqs[stream] = first[stream] + k
        for publication in publications:
            publication.stored = True

    return _store_sql(len(streams), len(placements)), params, assign


def publish(*messages: tuple[list[str], str, BaseModel], department_id: int | None = None) -> None:
    """Publish (streams, type, payload) messages: numbered and stored for
    replay with the current transaction's COMMIT, sent to the channel layer
    after it. Must run inside `transaction.atomic`. `department_id` is the
    department the conversation concerned is in, if any."""
    if not connection.in_atomic_block:
        raise RuntimeError("publish() must be called inside transaction.atomic()")
    pending = []
    for streams, type_, payload in messages:
        schema = STREAM_TYPES[type_]
        if not isinstance(payload, schema):
            raise TypeError(f"{type_} takes a {schema.__name__}, got {type(payload).__name__}")
        pending.append(_Pending(streams=list(streams), type=type_, payload=payload.model_dump(mode="json"),
                                department_id=department_id))
    if any(item.streams for item in pending):
        transaction.on_commit(_Publication(pending))


def wire_entry(seq: int, type_: str, payload: dict, department_id: int | None) -> dict:
    """One stream entry as the channel layer carries it (see docs/protocol.md).
    `dept` lets a console that already follows a department skip the copy
    of the same event that arrives on the assignee's own stream."""
    return {"seq": seq, "event": type_, "payload": payload, "dept": department_id}


def wire_batch(stream: str, entries: list[dict]) -> dict:
    """Everything one transaction published on one stream, as one
    channel-layer message: one group_send per stream per commit."""
    return {"type": "stream.batch", "stream": stream, "entries": entries}


def _send_after_commit(pending: list[_Pending]) -> None:
    try:
        layer_loop.run(_send, pending)
    except Exception:
        # The rows are committed and every console catches up from the
        # database at its next heartbeat, so a broken channel layer must not
        # turn a stored event into a failed request.
        log.warning("realtime publish failed; clients will catch up from the database", exc_info=True)


async def _send(pending: list[_Pending]) -> None:
    layer = get_channel_layer()
    batches: dict[str, list[dict]] = defaultdict(list)
    for item in pending:
        for stream, seq in item.seqs.items():
            batches[stream].append(wire_entry(seq, item.type, item.payload, item.department_id))
    for stream, entries in batches.items():
        await layer.group_send(group_for(stream), wire_batch(stream, entries))


def broadcast(group: str, message: dict) -> None:
    """Send an ephemeral message (typing, presence pings) with no sequence and
    no replay. Not for anything a client must not miss."""
    try:
        layer_loop.run(get_channel_layer().group_send, group, message)
    except Exception:
        log.warning("ephemeral broadcast failed", exc_info=True)


def patient_group(patient_id: int) -> str:
    """Where a patient's chat widget listens. Its messages carry the event's
    per-conversation `seq`; the widget replays from the Event table, so the
    group needs no stored entries of its own."""
    return f"patient.{patient_id}"


def publish_to_patient(patient_id: int, events: list) -> None:
    """After commit, send the patient-visible events to their widget. Must
    run inside `transaction.atomic`. The events are read back after commit:
    what the same transaction added to them later (a file stored with its
    message) goes out too."""
    from hub.lib.event_types import patient_visible

    ids = [e.pk for e in events if patient_visible(e)]
    if ids:
        transaction.on_commit(lambda: _send_to_patient(patient_id, ids))


def _send_to_patient(patient_id: int, event_ids: list[int]) -> None:
    from hub.lib.event_types import patient_event_out
    from hub.models import Event

    from hub.lib import fastsql

    ids = sorted(set(event_ids))
    rows = fastsql.objects(("events.to_patient", len(ids)), lambda p: Event.objects.filter(pk__in=p).select_related(
        "author").order_by("conversation_id", "seq"), ids)
    message = {"type": "patient.events", "events": [patient_event_out(e).model_dump(mode="json") for e in rows]}
    broadcast(patient_group(patient_id), message)


def practice_visitors_group(practice_id: int) -> str:
    """Every chat widget open on a practice's sites (availability changes)."""
    return f"visitors.{practice_id}"


def notify_patient(patient_id: int, message: dict) -> None:
    """After commit (or at once outside a transaction), an ephemeral notice to
    the patient's widget: typing, read receipts."""
    if connection.in_atomic_block:
        transaction.on_commit(lambda: broadcast(patient_group(patient_id), message))
    else:
        broadcast(patient_group(patient_id), message)
