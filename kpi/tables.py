"""Every KPI table by name, as columns and rows: what the dashboard shows,
the CSV export writes and the REST API returns, from one place.

Rows carry ids and the names staff know (departments, topics, agents),
never a patient's name or words.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.conf import settings

from hub.lib import clock, directory
from hub.models import AgentProfile, Department, Practice, Topic
from kpi import metrics
from kpi.metrics import Scope
from kpi.models import Episode

MAX_DAYS = 400
EARLIEST, LATEST = date(2000, 1, 1), date(2199, 12, 31)
CHANNELS = ("voice", "sms", "web", "api")


class BadScope(ValueError):
    """A filter a person can fix; the message says how."""


@dataclass(frozen=True)
class Table:
    name: str
    title: str
    columns: list[str]
    rows: Iterator[list] | list[list]


def parse_scope(practice: Practice, params) -> Scope:
    """A Scope from query parameters: from and to (local dates, inclusive;
    the last 7 days by default), department, channel, agent, topic."""
    today = clock.now().astimezone(practice.tz).date()
    try:
        last = date.fromisoformat(params.get("to") or today.isoformat())
        first = date.fromisoformat(params.get("from") or (last - timedelta(days=6)).isoformat())
    except (ValueError, OverflowError):
        raise BadScope("Dates are YYYY-MM-DD.") from None
    if not (EARLIEST <= first and last <= LATEST):
        raise BadScope(f"Dates are between {EARLIEST.year} and {LATEST.year}.")
    if first > last:
        raise BadScope("'from' is after 'to'.")
    if (last - first).days >= MAX_DAYS:
        raise BadScope(f"Ask for at most {MAX_DAYS} days at a time.")
    filters = {}
    for name, field in (("department", "department_id"), ("agent", "agent_id"), ("topic", "topic_id")):
        value = params.get(name) or ""
        if value:
            if not (value.isascii() and value.isdigit()) or len(value) > 12:
                raise BadScope(f"'{name}' is an id.")
            filters[field] = int(value)
    if "department_id" in filters and not Department.objects.filter(practice=practice,
                                                                     pk=filters["department_id"]).exists():
        raise BadScope("No such department.")
    if "topic_id" in filters and not Topic.objects.filter(practice=practice, pk=filters["topic_id"]).exists():
        raise BadScope("No such topic.")
    if "agent_id" in filters and not AgentProfile.objects.filter(practice=practice,
                                                                  user_id=filters["agent_id"]).exists():
        raise BadScope("No such agent.")
    channel = params.get("channel") or ""
    if channel:
        if channel not in CHANNELS:
            raise BadScope(f"'channel' is one of {', '.join(CHANNELS)}.")
        filters["channel"] = channel
    return Scope.days(practice.pk, practice.tz, first, last, **filters)


def scope_query(scope: Scope) -> dict[str, str]:
    """The filters of a scope as the query parameters that give it back,
    dates spelled out, so that a link (a CSV, the next page, a form) shows
    exactly the same range."""
    params = {"from": scope.start.date().isoformat(), "to": (scope.end - timedelta(days=1)).date().isoformat()}
    for name, field in (("department", "department_id"), ("channel", "channel"), ("agent", "agent_id"),
                        ("topic", "topic_id")):
        value = getattr(scope, field)
        if value is not None:
            params[name] = str(value)
    return params


# --- labels ------------------------------------------------------------------------


def _department(scope: Scope, pk) -> str:
    return directory.department_name(scope.practice_id, pk) if pk else ""


def _topic(scope: Scope, pk) -> str:
    return directory.topic_name(scope.practice_id, pk) if pk else ""


def _agent(scope: Scope, pk) -> str:
    return directory.staff_name(scope.practice_id, pk) if pk else ""


def _local(scope: Scope, moment: datetime | None) -> str:
    return moment.astimezone(scope.tz).isoformat(timespec="seconds") if moment else ""


def _num(value, digits: int = 4):
    return None if value is None else round(value, digits)


# --- the tables ----------------------------------------------------------------------

SUMMARY_METRICS = (
    "contacts", "offered", "answered", "abandoned", "short_abandoned", "voicemail_or_callback",
    "missed_before_queue", "closed_without_response", "still_waiting", "average_speed_of_answer", "average_wait",
    "abandonment_rate", "service_level", "average_talk_time", "conversations", "first_response_time",
    "median_first_response_time", "average_reply_time", "resolved", "resolution_time", "transferred",
    "transfer_rate", "first_contact_resolution", "average_handle_time", "sla_met", "sla_breached", "sla_compliance",
)
GROUP_METRICS = ("contacts", "answered", "abandoned", "short_abandoned", "average_speed_of_answer", "average_wait",
                 "abandonment_rate", "service_level", "conversations", "first_response_time", "average_reply_time",
                 "resolution_time", "transfer_rate", "first_contact_resolution", "average_handle_time",
                 "sla_compliance")


def summary(scope: Scope) -> Table:
    data = metrics.summary(scope)
    return Table("summary", "Summary", ["metric", "value"], [[m, _num(data[m])] for m in SUMMARY_METRICS])


def grouped(scope: Scope, dimension: str) -> Table:
    label = {"channel": lambda k: k or "", "department": lambda k: _department(scope, k),
             "topic": lambda k: _topic(scope, k) or "(no topic)", "agent": lambda k: _agent(scope, k),
             "hour": lambda k: "" if k is None else f"{k:02d}:00"}[dimension]
    rows = []
    for row in metrics.by(scope, dimension):
        if dimension == "agent" and row["key"] is None:
            continue
        rows.append([row["key"], label(row["key"]), *[_num(row.get(m)) for m in GROUP_METRICS]])
    first = {"channel": "channel", "hour": "hour"}.get(dimension, f"{dimension}_id")
    return Table(f"by-{dimension}", f"By {dimension}", [first, "name", *GROUP_METRICS], rows)


def agents(scope: Scope) -> Table:
    work = metrics.agents(scope)
    time_in = metrics.agent_time(scope)
    answered = metrics.answered_by(scope)
    columns = ["agent_id", "name", "handled", "transferred", "transfer_rate", "resolved", "first_contact_resolution",
               "average_handle_time", "contacts_answered", "average_talk_time", "replies_sent", "occupancy",
               "available_seconds", "busy_seconds", "away_seconds", "offline_seconds"]
    rows = []
    for agent_id in sorted(set(work) | set(time_in) | set(answered), key=lambda a: _agent(scope, a)):
        w, t, a = work.get(agent_id, {}), time_in.get(agent_id, {}), answered.get(agent_id, {})
        if not w and not a and not t.get("signed_in_seconds"):
            continue
        presence = t.get("presence_seconds", {})
        rows.append([agent_id, _agent(scope, agent_id), w.get("handled", 0), w.get("transferred", 0),
                     _num(w.get("transfer_rate")), w.get("resolved", 0), _num(w.get("first_contact_resolution")),
                     _num(w.get("average_handle_time")), a.get("answered", 0),
                     _num(a.get("average_talk_time")), w.get("replies_sent", 0), _num(t.get("occupancy")),
                     *[round(presence.get(p, 0)) for p in ("available", "busy", "away", "offline")]])
    return Table("agents", "Agents", columns, rows)


def contacts(scope: Scope) -> Table:
    """One row per contact (a call, or a chat or text conversation)."""
    columns = ["contact", "conversation_id", "offered_at", "channel", "department", "topic", "outcome",
               "wait_seconds", "answered_at", "agent", "talk_seconds"]

    def rows():
        qs = (scope.contacts().select_related("episode").order_by("offered_at", "id")
              .values_list("key", "episode__conversation_id", "offered_at", "channel", "department_id", "topic_id",
                           "outcome", "wait_seconds", "answered_at", "agent_id", "talk_seconds"))
        for key, conversation_id, offered, channel, dept, topic, outcome, wait, answered, agent, talk in \
                qs.iterator(chunk_size=2000):
            yield [key, conversation_id, _local(scope, offered), channel, _department(scope, dept),
                   _topic(scope, topic), outcome, _num(wait, 1), _local(scope, answered), _agent(scope, agent),
                   _num(talk, 1)]
    return Table("contacts", "Contacts", columns, rows())


def conversations(scope: Scope) -> Table:
    """One row per conversation (each reopen by the patient counts anew)."""
    columns = ["conversation_id", "episode", "opened_at", "channel", "first_department", "department", "topic",
               "first_response_seconds", "replies", "average_reply_seconds", "transfers", "resolved_at",
               "resolution_seconds", "disposition", "resolved_by", "first_contact_resolution", "handle_seconds",
               "sla_met", "sla_breached"]
    now = clock.now()
    window = timedelta(days=settings.KPI["fcr_days"])

    def fcr(e: Episode) -> str:
        if e.resolved_at is None:
            return ""
        if e.recontact_at is None and e.resolved_at > now - window:
            return "pending"
        recontacted = e.recontact_at is not None and e.recontact_at <= e.resolved_at + window
        return "yes" if e.disposition == "resolved" and e.transfers == 0 and not recontacted else "no"

    def rows():
        for e in scope.episodes().order_by("opened_at", "id").distinct().iterator(chunk_size=2000):
            yield [e.conversation_id, e.number, _local(scope, e.opened_at), e.channel,
                   _department(scope, e.first_department_id), _department(scope, e.department_id),
                   _topic(scope, e.topic_id), _num(e.first_response_seconds, 1), e.replies,
                   _num(e.reply_seconds / e.replies, 1) if e.replies else None, e.transfers,
                   _local(scope, e.resolved_at), _num(e.resolution_seconds, 1), e.disposition,
                   _agent(scope, e.resolver_id), fcr(e), _num(e.handle_seconds, 1), e.sla_met, e.sla_breached]
    return Table("conversations", "Conversations", columns, rows())


def volume(scope: Scope) -> Table:
    days = {}
    for r in metrics.volume_over_time(scope):
        days.setdefault(r["day"], {})[r["channel"]] = r["contacts"]
    day, rows = scope.start.date(), []
    while day < scope.end.date():
        counts = days.get(day.isoformat(), {})
        rows.append([day.isoformat(), *[counts.get(c, 0) for c in CHANNELS], sum(counts.values())])
        day += timedelta(days=1)
    return Table("volume", "Contacts per day", ["day", *CHANNELS, "total"], rows)


def service_level_trend(scope: Scope) -> Table:
    rows = [[r["day"], _num(r["service_level"]), r["decided"], _num(r["abandonment_rate"])]
            for r in metrics.service_level_trend(scope)]
    return Table("service-level", "Service level per day", ["day", "service_level", "decided", "abandonment_rate"],
                 rows)


def abandonment_by_hour(scope: Scope) -> Table:
    rows = [[f"{r['hour']:02d}:00", r["contacts"], r["abandoned"], _num(r["abandonment_rate"])]
            for r in metrics.abandonment_by_hour(scope)]
    return Table("abandonment-by-hour", "Abandonment by hour", ["hour", "contacts", "abandoned", "abandonment_rate"],
                 rows)


def wait_distribution(scope: Scope) -> Table:
    rows = [[r["label"], r["from_seconds"], r["to_seconds"], r["calls"], r["messages"]]
            for r in metrics.wait_distribution(scope)]
    return Table("wait-distribution", "Answered after waiting", ["wait", "from_seconds", "to_seconds", "calls",
                                                                  "messages"], rows)


def training(scope: Scope) -> list[Table]:
    data = metrics.training(scope)
    base = data["practice"]
    columns = ["id", "name", "conversations", "transfer_rate", "practice_transfer_rate", "first_contact_resolution",
               "practice_first_contact_resolution", "score"]

    def rows(items, label):
        return [[r["key"], label(r["key"]), r["handled"], _num(r["transfer_rate"]), _num(base["transfer_rate"]),
                 _num(r["first_contact_resolution"]), _num(base["first_contact_resolution"]), _num(r["score"])]
                for r in items]
    return [Table("training-topics", "Topics to train on", columns,
                  rows(data["topics"], lambda k: _topic(scope, k) or "(no topic)")),
            Table("training-agents", "Agents to coach", columns, rows(data["agents"], lambda k: _agent(scope, k)))]


def staffing(scope: Scope) -> Table:
    from kpi import staffing as forecast

    result = forecast.forecast(scope)
    columns = ["hour", "calls_per_hour", "call_handle_seconds", "agents_for_calls", "messages_per_hour",
               "message_handle_seconds", "agents_for_messages", "agents_needed", "agents_scheduled", "gap"]
    rows = [[f"{r['hour']:02d}:00", _num(r["calls"], 2), _num(r["call_aht"], 1), r["call_agents"],
             _num(r["messages"], 2), _num(r["message_aht"], 1), r["message_agents"], r["needed"], r["scheduled"],
             r["scheduled"] - r["needed"]] for r in result["hours"]]
    return Table("staffing", f"Staffing for {result['date']}", columns, rows)


TABLES = {
    "summary": summary,
    "by-channel": lambda s: grouped(s, "channel"),
    "by-department": lambda s: grouped(s, "department"),
    "by-topic": lambda s: grouped(s, "topic"),
    "by-agent": lambda s: grouped(s, "agent"),
    "by-hour": lambda s: grouped(s, "hour"),
    "agents": agents,
    "contacts": contacts,
    "conversations": conversations,
    "volume": volume,
    "service-level": service_level_trend,
    "abandonment-by-hour": abandonment_by_hour,
    "wait-distribution": wait_distribution,
    "training-topics": lambda s: training(s)[0],
    "training-agents": lambda s: training(s)[1],
    "staffing": staffing,
}
ROW_TABLES = ("contacts", "conversations")  # one row per item: paged in the API
