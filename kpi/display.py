"""How the KPI pages show numbers: durations, rates, column headings, and
the dashboard's tables and chart series, built from kpi.tables (never
computed here). The CSV export writes the raw values instead."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

CHANNEL_LABELS = {"voice": "Phone", "sms": "SMS", "web": "Web chat", "api": "API"}
PRESENCE_LABELS = {"available": "Available", "busy": "Busy", "away": "Away", "offline": "Offline"}

# What kind of value each column holds, for display.
DURATIONS = frozenset({
    "average_speed_of_answer", "average_wait", "average_talk_time", "first_response_time",
    "median_first_response_time", "average_reply_time", "resolution_time", "average_handle_time",
    "available_seconds", "busy_seconds", "away_seconds", "offline_seconds", "call_handle_seconds",
    "message_handle_seconds", "wait_seconds", "talk_seconds", "first_response_seconds", "average_reply_seconds",
    "resolution_seconds", "handle_seconds",
})
RATES = frozenset({
    "service_level", "abandonment_rate", "transfer_rate", "first_contact_resolution", "sla_compliance", "occupancy",
    "practice_transfer_rate", "practice_first_contact_resolution",
})
POINTS = frozenset({"score"})  # a sum of rate gaps: percentage points
DECIMALS = frozenset({"calls_per_hour", "messages_per_hour"})
SIGNED = frozenset({"gap"})

LABELS = {
    "name": "Name",
    "channel": "Channel",
    "department": "Department",
    "topic": "Topic",
    "agent": "Agent",
    "hour": "Hour",
    "day": "Day",
    "contacts": "Contacts",
    "offered": "Offered",
    "answered": "Answered",
    "abandoned": "Abandoned",
    "short_abandoned": "Short abandons",
    "average_speed_of_answer": "Avg speed of answer",
    "average_wait": "Avg wait",
    "abandonment_rate": "Abandonment",
    "service_level": "Service level",
    "conversations": "Conversations",
    "first_response_time": "First response",
    "average_reply_time": "Avg reply time",
    "resolution_time": "Resolution time",
    "transfer_rate": "Transfer rate",
    "first_contact_resolution": "First-contact resolution",
    "average_handle_time": "Avg handle time",
    "sla_compliance": "SLA compliance",
    "handled": "Handled",
    "transferred": "Transferred",
    "resolved": "Resolved",
    "calls_answered": "Calls answered",
    "contacts_answered": "Answered",
    "average_talk_time": "Avg talk time",
    "replies_sent": "Replies sent",
    "occupancy": "Occupancy",
    "available_seconds": "Available",
    "busy_seconds": "Busy",
    "away_seconds": "Away",
    "offline_seconds": "Offline",
    "voice": "Phone",
    "sms": "SMS",
    "web": "Web chat",
    "api": "API",
    "total": "Total",
    "decided": "Answered or abandoned",
    "wait": "Waited",
    "from_seconds": "From (s)",
    "to_seconds": "To (s)",
    "calls": "Calls",
    "messages": "Messages",
    "calls_per_hour": "Calls / hour",
    "call_handle_seconds": "Call handle time",
    "agents_for_calls": "Agents for calls",
    "messages_per_hour": "Messages / hour",
    "message_handle_seconds": "Message handle time",
    "agents_for_messages": "Agents for messages",
    "agents_needed": "Agents needed",
    "agents_scheduled": "Agents scheduled",
    "gap": "Scheduled − needed",
    "score": "Gap to practice",
}

# Short headings for the dashboard's wide tables, spelled out on hover and
# for screen readers (<abbr title>), and in a key above the tables.
ABBREVIATIONS = {
    "average_speed_of_answer": ("ASA", "Average speed of answer"),
    "average_handle_time": ("AHT", "Average handle time"),
    "first_contact_resolution": ("FCR", "First-contact resolution"),
}

# Columns the dashboard leaves out of its tables (the CSV keeps them).
HIDDEN = frozenset({"channel_id", "department_id", "topic_id", "agent_id", "id", "from_seconds", "to_seconds",
                    "short_abandoned", "practice_transfer_rate", "practice_first_contact_resolution"})
# The breakdowns show rates, not the counts behind them.
HIDDEN_IN_BREAKDOWNS = HIDDEN | {"abandoned", "average_reply_time"}

TABLE_LABELS = {
    "summary": "Summary (every headline number)",
    "by-channel": "By channel",
    "by-department": "By department",
    "by-topic": "By topic",
    "by-agent": "By agent",
    "by-hour": "By hour of day",
    "agents": "Agents: work, occupancy and time in each status",
    "contacts": "Contacts (one row per call or conversation offered)",
    "conversations": "Conversations (one row per conversation)",
    "volume": "Contacts per day and channel",
    "service-level": "Service level per day",
    "abandonment-by-hour": "Abandonment by hour of day",
    "wait-distribution": "Wait-time distribution",
    "training-topics": "Topics to train on",
    "training-agents": "Agents to coach",
    "staffing": "Staffing forecast",
}

EMPTY = "—"


# --- single values -------------------------------------------------------------------


def _missing(value) -> bool:
    return value is None or value == "" or (isinstance(value, float) and math.isnan(value))


def duration(seconds) -> str:
    """1m 05s; 42s; 2h 03m; 3d 04h. None -> —."""
    if _missing(seconds):
        return EMPTY
    total = int(round(float(seconds)))
    if total < 60:
        return f"{total}s"
    if total < 3600:
        return f"{total // 60}m {total % 60:02d}s"
    if total < 86400:
        return f"{total // 3600}h {total % 3600 // 60:02d}m"
    return f"{total // 86400}d {total % 86400 // 3600:02d}h"


def percent(share) -> str:
    """0.8125 -> 81.3%; 1.0 -> 100%. None -> —."""
    if _missing(share):
        return EMPTY
    text = f"{float(share) * 100:.1f}"
    if text.endswith(".0"):
        text = text[:-2]
    return f"{text}%"


def points(share) -> str:
    """A difference of two rates, in percentage points."""
    if _missing(share):
        return EMPTY
    return f"{float(share) * 100:.1f} pts"


def number(value, digits: int = 0) -> str:
    if _missing(value):
        return EMPTY
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        if digits:
            return f"{value:,.{digits}f}"
        return f"{int(value):,}" if value.is_integer() else f"{value:,.1f}"
    return str(value)


def cell(column: str, value) -> str:
    """A table cell, by what its column holds."""
    if column in DURATIONS:
        return duration(value)
    if column in RATES:
        return percent(value)
    if column in POINTS:
        return points(value)
    if column in DECIMALS:
        return number(value, 2)
    if column in SIGNED and isinstance(value, int):
        return f"{value:+d}" if value else "0"
    if column == "channel" or column == "channel_id":
        return CHANNEL_LABELS.get(value, EMPTY if _missing(value) else str(value))
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return number(value)
    return EMPTY if _missing(value) else str(value)


def label(column: str) -> str:
    return LABELS.get(column) or column.replace("_", " ").capitalize()


def numeric(column: str) -> bool:
    return column in DURATIONS or column in RATES or column in POINTS or column in DECIMALS or column in SIGNED \
        or column in {"contacts", "offered", "answered", "abandoned", "conversations", "handled", "transferred",
                      "resolved", "calls_answered", "contacts_answered", "replies_sent", "voice", "sms", "web", "api", "total", "decided",
                      "calls", "messages", "agents_for_calls", "agents_for_messages", "agents_needed",
                      "agents_scheduled"}


# --- tables ---------------------------------------------------------------------------


@dataclass
class Cell:
    text: str
    numeric: bool = False
    note: str = ""  # read by screen readers after the value (e.g. "above the practice")
    mark: str = ""  # a CSS hint: "worse" or "better"


@dataclass
class Header:
    text: str
    numeric: bool = False
    spelled_out: str = ""  # when text is an abbreviation


@dataclass
class DisplayTable:
    name: str
    title: str
    headers: list[Header]
    rows: list[list[Cell]]
    caption: str = ""
    empty: str = "Nothing in this range."
    extra: dict = field(default_factory=dict)


def display_table(table, *, title: str | None = None, caption: str = "", hide=HIDDEN,
                  first_column_label: str | None = None, abbreviate: bool = False) -> DisplayTable:
    """A kpi.tables.Table as the dashboard shows it."""
    shown = [i for i, c in enumerate(table.columns) if c not in hide]
    headers = []
    for n, i in enumerate(shown):
        column = table.columns[i]
        if n == 0 and first_column_label:
            headers.append(Header(first_column_label))
        elif abbreviate and column in ABBREVIATIONS:
            short, long = ABBREVIATIONS[column]
            headers.append(Header(short, numeric(column), long))
        else:
            headers.append(Header(label(column), numeric(column)))
    rows = []
    for row in table.rows:
        rows.append([Cell(cell(table.columns[i], row[i]), numeric(table.columns[i])) for i in shown])
    return DisplayTable(table.name, title or table.title, headers, rows, caption)


def channel_names(table):
    """by-channel rows name the channel by its code: show its label."""
    if "name" in table.columns:
        at = table.columns.index("name")
        rows = [[*r[:at], CHANNEL_LABELS.get(r[at], r[at]), *r[at + 1:]] for r in table.rows]
        return type(table)(table.name, table.title, table.columns, rows)
    return table


def training_table(table, practice: dict) -> DisplayTable:
    """Ranked topics or agents, each rate set against the practice's, with
    the worse side marked in words as well as colour."""
    col = {c: i for i, c in enumerate(table.columns)}
    rows = []
    for r in table.rows:
        transfer, base_transfer = r[col["transfer_rate"]], practice.get("transfer_rate")
        fcr, base_fcr = r[col["first_contact_resolution"]], practice.get("first_contact_resolution")
        transfer_cell = Cell(percent(transfer), True)
        if None not in (transfer, base_transfer) and transfer != base_transfer:
            worse = transfer > base_transfer
            transfer_cell.mark = "worse" if worse else "better"
            transfer_cell.note = (f"{points(abs(transfer - base_transfer))} "
                                  f"{'above' if worse else 'below'} the practice")
        fcr_cell = Cell(percent(fcr), True)
        if None not in (fcr, base_fcr) and fcr != base_fcr:
            worse = fcr < base_fcr
            fcr_cell.mark = "worse" if worse else "better"
            fcr_cell.note = f"{points(abs(fcr - base_fcr))} {'below' if worse else 'above'} the practice"
        score = r[col["score"]]
        score_cell = Cell(points(score), True, mark="worse" if score else "")
        rows.append([Cell(cell("name", r[col["name"]])), Cell(number(r[col["conversations"]]), True),
                     transfer_cell, fcr_cell, score_cell])
    headers = [Header("Name"), Header("Conversations", True), Header("Transfer rate", True),
               Header("First-contact resolution", True), Header("Gap to practice", True)]
    caption = (f"Practice: transfer rate {percent(practice.get('transfer_rate'))}, first-contact resolution "
               f"{percent(practice.get('first_contact_resolution'))}. Worst first.")
    return DisplayTable(table.name, table.title, headers, rows, caption,
                        empty="Nothing to rank: too few conversations in this range.")


# --- chart series ---------------------------------------------------------------------


def _column(table, name: str) -> list:
    i = table.columns.index(name)
    return [r[i] for r in table.rows]


def volume_chart(table) -> dict:
    series = [{"key": c, "label": CHANNEL_LABELS.get(c, c), "data": _column(table, c)}
              for c in table.columns if c in CHANNEL_LABELS]
    days = _column(table, "day")
    totals = _column(table, "total")
    busiest = max(range(len(days)), key=lambda i: totals[i], default=None)
    summary = (f"{sum(totals):,} contacts over {len(days)} days" +
               (f"; the busiest day was {days[busiest]} with {totals[busiest]:,}." if busiest is not None
                and totals[busiest] else "."))
    return {"kind": "count", "labels": days, "datasets": series, "summary": summary}


def wait_chart(table) -> dict:
    labels = _column(table, "wait")
    calls, messages = _column(table, "calls"), _column(table, "messages")
    answered = sum(calls) + sum(messages)
    summary = f"{answered:,} contacts answered, by how long they waited." if answered else \
        "Nothing was answered in this range."
    return {"kind": "count", "labels": labels,
            "datasets": [{"key": "calls", "label": "Calls", "data": calls},
                         {"key": "messages", "label": "Messages", "data": messages}],
            "summary": summary}


def service_level_chart(table, days: list[str], target: float) -> dict:
    by_day = dict(zip(_column(table, "day"), _column(table, "service_level"), strict=True))
    data = [by_day.get(d) for d in days]
    known = [v for v in data if v is not None]
    below = sum(1 for v in known if v < target)
    summary = (f"Service level on {len(known)} of {len(days)} days with answered or abandoned contacts; "
               f"{below} below the {percent(target)} target." if known else
               "No contact was answered or abandoned in this range.")
    return {"kind": "percent", "labels": days, "target": target,
            "datasets": [{"key": "service_level", "label": "Service level", "data": data}],
            "summary": summary}


def abandonment_chart(table) -> dict:
    hours = _column(table, "hour")
    rates = _column(table, "abandonment_rate")
    worst = max((i for i in range(len(hours)) if rates[i] is not None), key=lambda i: rates[i], default=None)
    summary = (f"The highest abandonment was at {hours[worst]}: {percent(rates[worst])}." if worst is not None
               else "No call or chat could be abandoned in this range.")
    return {"kind": "percent", "labels": hours,
            "datasets": [{"key": "abandonment_rate", "label": "Abandonment", "data": rates}],
            "summary": summary}


def staffing_chart(table) -> dict:
    hours = _column(table, "hour")
    needed, scheduled = _column(table, "agents_needed"), _column(table, "agents_scheduled")
    short = [hours[i] for i in range(len(hours)) if scheduled[i] < needed[i]]
    summary = (f"Fewer agents scheduled than needed at {', '.join(short)}." if short
               else "Enough agents are scheduled at every hour.")
    return {"kind": "agents", "labels": hours,
            "datasets": [{"key": "agents_needed", "label": "Agents needed", "data": needed},
                         {"key": "agents_scheduled", "label": "Agents scheduled", "data": scheduled}],
            "summary": summary}
