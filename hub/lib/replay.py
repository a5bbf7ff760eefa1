"""Reading streams back from the database for clients that reconnect."""

from hub.models import StreamCounter, StreamEntry


def heads(streams: list[str]) -> dict[str, int]:
    """The last sequence number of each stream (0 for a stream never used)."""
    found = dict(StreamCounter.objects.filter(stream__in=streams).values_list("stream", "last_seq"))
    return {s: found.get(s, 0) for s in streams}


def entries(stream: str, after: int, upto: int | None, limit: int) -> list[StreamEntry]:
    qs = StreamEntry.objects.filter(stream=stream, seq__gt=after)
    if upto is not None:
        qs = qs.filter(seq__lte=upto)
    return list(qs.order_by("seq")[:limit])

