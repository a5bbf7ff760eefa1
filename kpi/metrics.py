"""The KPIs, as docs/kpi.md defines them, over the facts in kpi.models.

Every function takes a `Scope` (practice, date range, filters) and returns
plain data: the dashboard, the wallboard, the CSV export and the REST API
all read the same numbers from here. Aggregation happens in the database;
only medians and the agents' time lines are finished in Python.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Count, F, FloatField, Func, Q, Sum
from django.db.models.functions import ExtractHour, TruncDate

from hub.lib import clock
from hub.models import AgentProfile, PresenceChange
from kpi.models import AgentEpisode, AgentSpan, Contact, Episode

O = Contact.Outcome
VOICE = "voice"
MESSAGE_CHANNELS = ("sms", "web", "api")
ABANDONABLE = ("voice", "web")  # a text cannot be hung up on
WAIT_BUCKETS = (10, 20, 30, 60, 120, 300, 900, 3600, 4 * 3600)  # upper bounds, seconds


def service_level_seconds(channel: str) -> int:
    return settings.KPI["service_level_seconds"]["voice" if channel == VOICE else "messages"]


@dataclass(frozen=True)
class Scope:
    practice_id: int
    tz: ZoneInfo
    start: datetime  # inclusive
    end: datetime  # exclusive
    department_id: int | None = None
    channel: str | None = None
    agent_id: int | None = None
    topic_id: int | None = None

    @classmethod
    def days(cls, practice_id: int, tz: ZoneInfo, first: date, last: date, **filters) -> Scope:
        """Whole local days, first to last inclusive."""
        return cls(practice_id, tz, datetime.combine(first, time.min, tzinfo=tz),
                   datetime.combine(last + timedelta(days=1), time.min, tzinfo=tz), **filters)

    @property
    def filters(self) -> dict:
        return {k: getattr(self, k) for k in ("department_id", "channel", "agent_id", "topic_id")
                if getattr(self, k) is not None}

    # --- the facts in scope -------------------------------------------------

    def narrow(self, qs, **fields: str):
        """`qs` with this scope's filters (department_id, channel, agent_id,
        topic_id) that are set, each applied to the field named for it."""
        for name, field in fields.items():
            value = getattr(self, name)
            if value is not None:
                qs = qs.filter(**{field: value})
        return qs

    def contacts(self):
        qs = Contact.objects.filter(practice_id=self.practice_id, offered_at__gte=self.start, offered_at__lt=self.end)
        return self.narrow(qs, department_id="department_id", channel="channel", agent_id="agent_id",
                           topic_id="topic_id")

    def episodes(self, field: str = "opened_at"):
        qs = Episode.objects.filter(practice_id=self.practice_id, opened_by="patient",
                                    **{f"{field}__gte": self.start, f"{field}__lt": self.end})
        return self.narrow(qs, department_id="first_department_id", channel="channel",
                           agent_id="agents__agent_id", topic_id="topic_id")


def _short() -> float:
    return float(settings.SHORT_ABANDON_SECONDS)


def _sl_met() -> Q:
    return (Q(outcome=O.ANSWERED)
            & ((Q(channel=VOICE) & Q(wait_seconds__lte=service_level_seconds(VOICE)))
               | (~Q(channel=VOICE) & Q(wait_seconds__lte=service_level_seconds("sms")))))


def _short_abandon() -> Q:
    return Q(outcome=O.ABANDONED, wait_seconds__lt=_short())


def _decided() -> Q:
    """Offered to a queue and out of it: answered, abandoned (not short),
    or left for a voicemail or a call-back. What service level counts."""
    return (Q(queued=True) & Q(outcome__in=(O.ANSWERED, O.ABANDONED, O.VOICEMAIL, O.CALLBACK))
            & ~_short_abandon())


def contact_aggregates():
    """The contact measures as one aggregate() (or annotate()) mapping."""
    short = _short()
    return dict(
        contacts=Count("id"),
        offered=Count("id", filter=Q(queued=True)),
        answered=Count("id", filter=Q(outcome=O.ANSWERED)),
        answer_wait=Sum("wait_seconds", filter=Q(outcome=O.ANSWERED)),
        abandoned=Count("id", filter=Q(outcome=O.ABANDONED, wait_seconds__gte=short)),
        short_abandoned=Count("id", filter=_short_abandon()),
        abandon_base=Count("id", filter=_decided() & Q(channel__in=ABANDONABLE)),
        waited=Count("id", filter=_decided() & Q(wait_seconds__isnull=False)),
        wait_total=Sum("wait_seconds", filter=_decided()),
        sl_base=Count("id", filter=_decided()),
        sl_met=Count("id", filter=_decided() & _sl_met()),
        voicemail=Count("id", filter=Q(outcome__in=(O.VOICEMAIL, O.CALLBACK))),
        missed=Count("id", filter=Q(outcome=O.MISSED)),
        closed=Count("id", filter=Q(outcome=O.CLOSED)),
        waiting=Count("id", filter=Q(outcome=O.WAITING)),
        talk_total=Sum("talk_seconds", filter=Q(outcome=O.ANSWERED, talk_seconds__isnull=False)),
        talked=Count("id", filter=Q(outcome=O.ANSWERED, talk_seconds__isnull=False)),
    )


def finish_contacts(raw: dict) -> dict:
    """Rates and averages from the counts of contact_aggregates()."""
    return {
        "contacts": raw["contacts"],
        "offered": raw["offered"],
        "answered": raw["answered"],
        "abandoned": raw["abandoned"],
        "short_abandoned": raw["short_abandoned"],
        "voicemail_or_callback": raw["voicemail"],
        "missed_before_queue": raw["missed"],
        "closed_without_response": raw["closed"],
        "still_waiting": raw["waiting"],
        "average_speed_of_answer": _ratio(raw["answer_wait"], raw["answered"]),
        "average_wait": _ratio(raw["wait_total"], raw["waited"]),
        "abandonment_rate": _ratio(raw["abandoned"], raw["abandon_base"]),
        "service_level": _ratio(raw["sl_met"], raw["sl_base"]),
        "service_level_base": raw["sl_base"],
        "average_talk_time": _ratio(raw["talk_total"], raw["talked"]),
    }


def episode_aggregates(now: datetime):
    fcr_days = timedelta(days=settings.KPI["fcr_days"])
    resolved = Q(resolved_at__isnull=False)
    # Whether it was resolved at first contact is known once the window has
    # passed or the patient came back.
    eligible = resolved & (Q(recontact_at__isnull=False) | Q(resolved_at__lte=now - fcr_days))
    first_contact = (eligible & Q(disposition="resolved", transfers=0)
                     & (Q(recontact_at__isnull=True) | Q(recontact_at__gt=F("resolved_at") + fcr_days)))
    return dict(
        episodes=Count("id"),
        responded=Count("id", filter=Q(first_response_at__isnull=False)),
        first_response_total=Sum("first_response_seconds"),
        replies=Sum("replies"),
        reply_total=Sum("reply_seconds"),
        resolved=Count("id", filter=resolved),
        resolution_total=Sum("resolution_seconds", filter=resolved),
        transferred=Count("id", filter=Q(transfers__gt=0)),
        fcr_base=Count("id", filter=eligible),
        fcr=Count("id", filter=first_contact),
        handle_total=Sum("handle_seconds", filter=resolved),
        sla_met=Sum("sla_met"),
        sla_breached=Sum("sla_breached"),
    )


def finish_episodes(raw: dict) -> dict:
    sla_total = (raw["sla_met"] or 0) + (raw["sla_breached"] or 0)
    return {
        "conversations": raw["episodes"],
        "first_response_time": _ratio(raw["first_response_total"], raw["responded"]),
        "average_reply_time": _ratio(raw["reply_total"], raw["replies"]),
        "resolved": raw["resolved"],
        "resolution_time": _ratio(raw["resolution_total"], raw["resolved"]),
        "transferred": raw["transferred"],
        "transfer_rate": _ratio(raw["transferred"], raw["episodes"]),
        "fcr_base": raw["fcr_base"],
        "first_contact_resolution": _ratio(raw["fcr"], raw["fcr_base"]),
        "average_handle_time": _ratio(raw["handle_total"], raw["resolved"]),
        "sla_met": raw["sla_met"] or 0,
        "sla_breached": raw["sla_breached"] or 0,
        "sla_compliance": _ratio(raw["sla_met"] or 0, sla_total),
    }


def _ratio(part, whole) -> float | None:
    if not whole:
        return None
    return float(part or 0) / float(whole)


# --- the summary ---------------------------------------------------------------


def summary(scope: Scope) -> dict:
    """Every headline number for the scope."""
    now = clock.now()
    contacts = finish_contacts(scope.contacts().aggregate(**contact_aggregates()))
    episodes_qs = scope.episodes()
    episodes = finish_episodes(episodes_qs.aggregate(**episode_aggregates(now)))
    response_times = [v for v in episodes_qs.filter(first_response_seconds__isnull=False)
                      .values_list("first_response_seconds", flat=True)]
    episodes["median_first_response_time"] = statistics.median(response_times) if response_times else None
    return {**contacts, **episodes}


def by(scope: Scope, dimension: str) -> list[dict]:
    """The summary's contact and conversation measures, per channel,
    department, topic, agent or local hour of day."""
    now = clock.now()
    contact_field = {"channel": "channel", "department": "department_id", "topic": "topic_id",
                     "agent": "agent_id", "hour": "hour"}[dimension]
    contacts = scope.contacts()
    episodes = scope.episodes()
    if dimension == "hour":
        contacts = contacts.annotate(hour=ExtractHour("offered_at", tzinfo=scope.tz))
        episodes = episodes.annotate(hour=ExtractHour("opened_at", tzinfo=scope.tz))
    rows: dict = {}
    for key, values in _contacts_by(contacts, contact_field).items():
        rows.setdefault(key, {})["contacts"] = values
    if dimension == "agent":
        # Per agent, a conversation counts for everyone who held it.
        for key, values in agents(scope).items():
            rows.setdefault(key, {})["conversations"] = {
                "conversations": values["handled"], "transfer_rate": values["transfer_rate"],
                "first_contact_resolution": values["first_contact_resolution"],
                "average_handle_time": values["average_handle_time"]}
    else:
        episode_field = {"channel": "channel", "department": "first_department_id", "topic": "topic_id",
                         "hour": "hour"}[dimension]
        for row in episodes.values(episode_field).annotate(**episode_aggregates(now)).order_by():
            key = row.pop(episode_field)
            rows.setdefault(key, {})["conversations"] = finish_episodes(row)
    out = []
    for key in sorted(rows, key=lambda k: (k is None, k)):
        out.append({"key": key, **(rows[key].get("contacts") or {}), **(rows[key].get("conversations") or {})})
    return out


def _contacts_by(contacts, field: str) -> dict:
    out = {}
    for row in contacts.values(field).annotate(**contact_aggregates()).order_by():
        key = row.pop(field)
        out[key] = finish_contacts(row)
    return out


def answered_by(scope: Scope) -> dict[int, dict]:
    """The contact measures of the contacts each agent answered."""
    return {k: v for k, v in _contacts_by(scope.contacts().filter(agent_id__isnull=False), "agent_id").items()}


def agents(scope: Scope) -> dict[int, dict]:
    """Per agent: conversations handled, their transfers, resolutions and
    the first-contact resolution of those they resolved."""
    now = clock.now()
    fcr_days = timedelta(days=settings.KPI["fcr_days"])
    qs = AgentEpisode.objects.filter(practice_id=scope.practice_id, episode__opened_by="patient",
                                     episode__opened_at__gte=scope.start, episode__opened_at__lt=scope.end)
    qs = scope.narrow(qs, department_id="episode__first_department_id", channel="episode__channel",
                      agent_id="agent_id", topic_id="episode__topic_id")
    eligible = Q(resolved=True) & (Q(episode__recontact_at__isnull=False)
                                   | Q(episode__resolved_at__lte=now - fcr_days))
    first_contact = (eligible & Q(episode__disposition="resolved", episode__transfers=0)
                     & (Q(episode__recontact_at__isnull=True)
                        | Q(episode__recontact_at__gt=F("episode__resolved_at") + fcr_days)))
    out = {}
    for row in qs.values("agent_id").annotate(
            handled=Count("id"), transferred=Count("id", filter=Q(transfers__gt=0)),
            resolved_count=Count("id", filter=Q(resolved=True)), held=Sum("held_seconds"),
            replies_sent=Sum("replies"), fcr_base=Count("id", filter=eligible),
            fcr=Count("id", filter=first_contact)).order_by():
        out[row["agent_id"]] = {
            "handled": row["handled"],
            "transferred": row["transferred"],
            "transfer_rate": _ratio(row["transferred"], row["handled"]),
            "resolved": row["resolved_count"],
            "replies_sent": row["replies_sent"] or 0,
            "average_handle_time": _ratio(row["held"], row["handled"]),
            "fcr_base": row["fcr_base"],
            "first_contact_resolution": _ratio(row["fcr"], row["fcr_base"]),
        }
    return out


# --- charts ---------------------------------------------------------------------


def volume_over_time(scope: Scope) -> list[dict]:
    """Contacts per local day and channel."""
    rows = (scope.contacts().annotate(day=TruncDate("offered_at", tzinfo=scope.tz))
            .values("day", "channel").annotate(n=Count("id")).order_by("day", "channel"))
    return [{"day": r["day"].isoformat(), "channel": r["channel"], "contacts": r["n"]} for r in rows]


def service_level_trend(scope: Scope) -> list[dict]:
    rows = (scope.contacts().annotate(day=TruncDate("offered_at", tzinfo=scope.tz)).values("day")
            .annotate(base=Count("id", filter=_decided()), met=Count("id", filter=_decided() & _sl_met()),
                      abandoned=Count("id", filter=Q(outcome=O.ABANDONED, wait_seconds__gte=_short())),
                      abandon_base=Count("id", filter=_decided() & Q(channel__in=ABANDONABLE)))
            .order_by("day"))
    return [{"day": r["day"].isoformat(), "service_level": _ratio(r["met"], r["base"]), "decided": r["base"],
             "abandonment_rate": _ratio(r["abandoned"], r["abandon_base"])} for r in rows]


def abandonment_by_hour(scope: Scope) -> list[dict]:
    rows = (scope.contacts().annotate(hour=ExtractHour("offered_at", tzinfo=scope.tz)).values("hour")
            .annotate(abandoned=Count("id", filter=Q(outcome=O.ABANDONED, wait_seconds__gte=_short())),
                      base=Count("id", filter=_decided() & Q(channel__in=ABANDONABLE)),
                      contacts=Count("id"))
            .order_by("hour"))
    by_hour = {r["hour"]: r for r in rows}
    return [{"hour": h, "contacts": by_hour.get(h, {}).get("contacts", 0),
             "abandoned": by_hour.get(h, {}).get("abandoned", 0),
             "abandonment_rate": _ratio(by_hour.get(h, {}).get("abandoned", 0), by_hour.get(h, {}).get("base", 0))}
            for h in range(24)]


def wait_distribution(scope: Scope) -> list[dict]:
    """Answered contacts by how long they waited, calls and messages apart."""
    aggregates = {}
    lower = 0
    for i, upper in enumerate((*WAIT_BUCKETS, None)):
        in_bucket = Q(wait_seconds__gte=lower) if upper is None else Q(wait_seconds__gte=lower, wait_seconds__lt=upper)
        aggregates[f"voice_{i}"] = Count("id", filter=in_bucket & Q(channel=VOICE))
        aggregates[f"messages_{i}"] = Count("id", filter=in_bucket & ~Q(channel=VOICE))
        lower = upper
    raw = scope.contacts().filter(outcome=O.ANSWERED).aggregate(**aggregates)
    out, lower = [], 0
    for i, upper in enumerate((*WAIT_BUCKETS, None)):
        out.append({"from_seconds": lower, "to_seconds": upper, "label": _bucket_label(lower, upper),
                    "calls": raw[f"voice_{i}"], "messages": raw[f"messages_{i}"]})
        lower = upper
    return out


def _bucket_label(lower: int, upper: int | None) -> str:
    def text(seconds: int) -> str:
        if seconds < 60:
            return f"{seconds}s"
        if seconds < 3600:
            return f"{seconds // 60}m"
        return f"{seconds // 3600}h"
    return f"{text(lower)}+" if upper is None else f"{text(lower)}–{text(upper)}"


# --- training opportunities ------------------------------------------------------


def training(scope: Scope, minimum: int | None = None) -> dict:
    """Topics and agents ranked by how far their transfer rate is above, and
    their first-contact resolution below, the practice's for the same scope.
    Groups with fewer than `minimum` conversations are left out (too few to
    judge)."""
    minimum = settings.KPI["training_minimum"] if minimum is None else minimum
    now = clock.now()
    overall = finish_episodes(replace(scope, topic_id=None, agent_id=None).episodes()
                              .aggregate(**episode_aggregates(now)))
    base_transfer, base_fcr = overall["transfer_rate"], overall["first_contact_resolution"]

    def rank(rows: list[dict]) -> list[dict]:
        ranked = []
        for row in rows:
            if row["handled"] < minimum:
                continue
            transfer_gap = (row["transfer_rate"] - base_transfer) if None not in (row["transfer_rate"], base_transfer) else 0
            fcr_gap = (base_fcr - row["first_contact_resolution"]) if None not in (
                row["first_contact_resolution"], base_fcr) else 0
            ranked.append({**row, "transfer_gap": transfer_gap, "fcr_gap": fcr_gap,
                           "score": max(transfer_gap, 0) + max(fcr_gap, 0)})
        ranked.sort(key=lambda r: (-r["score"], -r["handled"]))
        return ranked

    topic_rows = []
    for row in (scope.episodes().values("topic_id").annotate(**episode_aggregates(now)).order_by()):
        done = finish_episodes(row)
        topic_rows.append({"key": row["topic_id"], "handled": row["episodes"], "transfer_rate": done["transfer_rate"],
                           "first_contact_resolution": done["first_contact_resolution"]})
    agent_rows = [{"key": agent_id, "handled": v["handled"], "transfer_rate": v["transfer_rate"],
                   "first_contact_resolution": v["first_contact_resolution"]}
                  for agent_id, v in agents(replace(scope, agent_id=None)).items()]
    return {"practice": {"transfer_rate": base_transfer, "first_contact_resolution": base_fcr},
            "minimum": minimum, "topics": rank(topic_rows), "agents": rank(agent_rows)}


# --- agents' time -----------------------------------------------------------------


class Epoch(Func):
    """Seconds since 1970 as a float: tens of thousands of span ends load
    many times faster as numbers than as time-zone-aware datetimes."""

    output_field = FloatField()

    def as_postgresql(self, compiler, connection, **extra):
        return self.as_sql(compiler, connection, template="EXTRACT(EPOCH FROM %(expressions)s)::float8", **extra)

    def as_sqlite(self, compiler, connection, **extra):
        return self.as_sql(compiler, connection, template="((julianday(%(expressions)s) - 2440587.5) * 86400.0)",
                           **extra)


SIGNED_IN = ("available", "busy")


def agent_time(scope: Scope) -> dict[int, dict]:
    """Per agent: seconds in each presence state, time working (holding a
    conversation or on a call), and occupancy: working time while signed in
    over signed-in time."""
    now = min(clock.now(), scope.end)
    start, end = scope.start, now
    if end <= start:
        return {}
    staff = AgentProfile.objects.filter(practice_id=scope.practice_id).exclude(role=AgentProfile.Role.INTEGRATION)
    if scope.agent_id is not None:
        staff = staff.filter(user_id=scope.agent_id)
    ids = list(staff.values_list("user_id", flat=True))
    states: dict[int, list[tuple[datetime, datetime, str]]] = {i: [] for i in ids}
    # The state each agent was in when the range began, then every change in it.
    before = {}
    for user_id, presence in (PresenceChange.objects.filter(practice_id=scope.practice_id, user_id__in=ids,
                                                            at__lt=start)
                              .order_by("user_id", "-at").values_list("user_id", "presence")):
        before.setdefault(user_id, presence)
    changes: dict[int, list] = {i: [] for i in ids}
    for user_id, presence, at in (PresenceChange.objects.filter(practice_id=scope.practice_id, user_id__in=ids,
                                                                at__gte=start, at__lt=end)
                                  .order_by("at", "id").values_list("user_id", "presence", "at")):
        changes[user_id].append((at, presence))
    for user_id in ids:
        current, since = before.get(user_id, "offline"), start
        for at, presence in changes[user_id]:
            states[user_id].append((since, at, current))
            current, since = presence, at
        states[user_id].append((since, end, current))

    spans: dict[int, list[tuple[float, float]]] = {i: [] for i in ids}
    lo, hi = start.timestamp(), end.timestamp()
    qs = (AgentSpan.objects.filter(practice_id=scope.practice_id, agent_id__in=ids, start__lt=end)
          .filter(Q(end__isnull=True) | Q(end__gt=start)))
    for agent_id, s, e in qs.annotate(s=Epoch("start"), e=Epoch("end")).values_list("agent_id", "s", "e"):
        spans[agent_id].append((max(s, lo), min(hi if e is None else e, hi)))

    out = {}
    for user_id in ids:
        seconds = {"available": 0.0, "busy": 0.0, "away": 0.0, "offline": 0.0}
        signed_in = []
        for a, b, state in states[user_id]:
            seconds[state] = seconds.get(state, 0.0) + (b - a).total_seconds()
            if state in SIGNED_IN and b > a:
                signed_in.append((a.timestamp(), b.timestamp()))
        working = _union(spans[user_id])
        working_signed_in = _overlap(working, signed_in)
        signed_in_seconds = sum(b - a for a, b in signed_in)
        out[user_id] = {
            "presence_seconds": seconds,
            "signed_in_seconds": signed_in_seconds,
            "working_seconds": sum(b - a for a, b in working),
            "occupancy": _ratio(working_signed_in, signed_in_seconds),
        }
    return out


def _union(intervals: list[tuple[float, float]]) -> list[tuple[float, float]]:
    merged: list[list[float]] = []
    for a, b in sorted(i for i in intervals if i[1] > i[0]):
        if merged and a <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], b)
        else:
            merged.append([a, b])
    return [(a, b) for a, b in merged]


def _overlap(xs: list[tuple[float, float]], ys: list[tuple[float, float]]) -> float:
    total, i, j = 0.0, 0, 0
    ys = _union(ys)
    while i < len(xs) and j < len(ys):
        lo, hi = max(xs[i][0], ys[j][0]), min(xs[i][1], ys[j][1])
        if hi > lo:
            total += hi - lo
        if xs[i][1] < ys[j][1]:
            i += 1
        else:
            j += 1
    return total
