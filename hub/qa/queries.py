"""What the quality pages and the REST API read: filters (the KPI module's
Scope, so that every page takes the same from/to/department/agent/topic
parameters), the resolved conversations to pick from, and reviews."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta

from django.db.models import QuerySet

from hub.lib import access, clock
from hub.models import Conversation, Practice
from hub.qa.models import Review
from kpi import tables
from kpi.metrics import Scope

FILTERS = ("from", "to", "department", "channel", "agent", "topic")
BadFilter = tables.BadScope
SAMPLE_MAX = 20


def scope_of(practice: Practice, params, *, days: int) -> Scope:
    """A Scope from query parameters (kpi.tables.parse_scope), whose range
    is the last `days` days up to 'to' (or today) when 'from' is not given.
    Raises BadFilter with a message a person can act on."""
    values = {name: params.get(name) or "" for name in FILTERS}
    if not values["from"]:
        try:
            last = date.fromisoformat(values["to"]) if values["to"] else clock.now().astimezone(practice.tz).date()
            values["from"] = (last - timedelta(days=days - 1)).isoformat()
        except (ValueError, OverflowError):
            pass  # parse_scope says what is wrong with 'to'
    return tables.parse_scope(practice, values)


# --- conversations to review --------------------------------------------------------------


@dataclass(frozen=True)
class Pick:
    """Which resolved conversations to list: all, the ones nobody reviewed
    yet, the reviewed ones; or `sample` of the unreviewed ones at random."""

    reviewed: str = ""  # "", "yes" or "no"
    sample: int = 0


def parse_pick(params) -> Pick:
    reviewed = params.get("reviewed") or ""
    if reviewed not in ("", "yes", "no"):
        raise BadFilter("'reviewed' is yes or no.")
    sample = params.get("sample") or ""
    if sample:
        if not (sample.isascii() and sample.isdigit()) or not 1 <= int(sample) <= SAMPLE_MAX:
            raise BadFilter(f"A random sample is 1 to {SAMPLE_MAX} conversations.")
        return Pick(reviewed="no", sample=int(sample))
    return Pick(reviewed=reviewed)


def resolved_conversations(viewer: access.Viewer, scope: Scope, pick: Pick) -> QuerySet:
    """The practice's resolved conversations in the scope, by when they were
    resolved (newest first): handled by the scope's agent (the assignee at
    resolution), in its department, about its topic, on its channel."""
    qs = (access.conversations(viewer).filter(status=Conversation.Status.RESOLVED, resolved_at__gte=scope.start,
                                              resolved_at__lt=scope.end))
    qs = scope.narrow(qs, department_id="department_id", channel="channel", agent_id="assignee_id",
                      topic_id="topic_id")
    reviewed = Review.objects.in_practice(viewer.practice_id).values("conversation_id")
    if pick.reviewed == "yes":
        qs = qs.filter(pk__in=reviewed)
    elif pick.reviewed == "no":
        qs = qs.exclude(pk__in=reviewed)
    return qs.order_by("-resolved_at", "-pk")


def sample(qs: QuerySet, size: int) -> list[int]:
    """`size` ids drawn at random from the conversations of `qs`."""
    ids = list(qs.values_list("pk", flat=True))
    return sorted(random.sample(ids, min(size, len(ids))), reverse=True)


def reviews_by_conversation(practice_id: int, conversation_ids) -> dict[int, list[Review]]:
    found: dict[int, list[Review]] = {}
    for review in (Review.objects.in_practice(practice_id).filter(conversation_id__in=list(conversation_ids))
                   .order_by("created_at", "pk")):
        found.setdefault(review.conversation_id, []).append(review)
    return found
