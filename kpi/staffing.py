"""The staffing forecast: agents needed per hour of a day, by Erlang C from
what the same weekday looked like in recent weeks, next to the agents
scheduled (kpi.Shift). docs/kpi.md, staffing forecast."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.db.models import Avg, Count, Q
from django.db.models.functions import ExtractHour

from kpi import erlang
from kpi.metrics import VOICE, Scope
from kpi.models import Contact, Episode, Shift


def forecast(scope: Scope, day: date | None = None) -> dict:
    """For `day` (the day after the scope's last day by default)."""
    kpi = settings.KPI
    tz = scope.tz
    if day is None:
        day = scope.end.date()  # the day after the last one looked at
    weeks = kpi["forecast_weeks"]
    history = [day - timedelta(weeks=w) for w in range(1, weeks + 1)]
    filters = Q()
    for d in history:
        start = datetime.combine(d, time.min, tzinfo=tz)
        filters |= Q(offered_at__gte=start, offered_at__lt=start + timedelta(days=1))
    # Only the department narrows a forecast: staffing is per queue.
    contacts = scope.narrow(Contact.objects.filter(filters, practice_id=scope.practice_id, queued=True),
                            department_id="department_id")
    # Volume per hour and channel group, averaged over the weeks.
    calls, messages = _counts(contacts, tz, weeks)
    call_aht = contacts.filter(channel=VOICE, talk_seconds__isnull=False).aggregate(a=Avg("talk_seconds"))["a"]
    episodes = Episode.objects.filter(practice_id=scope.practice_id, opened_by="patient", resolved_at__isnull=False,
                                      opened_at__gte=datetime.combine(history[-1], time.min, tzinfo=tz),
                                      opened_at__lt=datetime.combine(day, time.min, tzinfo=tz)).exclude(channel=VOICE)
    episodes = scope.narrow(episodes, department_id="first_department_id")
    message_aht = episodes.aggregate(a=Avg("handle_seconds"))["a"]
    concurrency = max(1, kpi["message_concurrency"])
    target = kpi["service_level_target"]
    scheduled = _scheduled(scope.practice_id, day)
    hours = []
    for hour in range(24):
        c, m = calls.get(hour, 0.0), messages.get(hour, 0.0)
        call_agents = erlang.agents_needed(c, call_aht or 0, kpi["service_level_seconds"]["voice"], target)
        # A conversation takes 1/concurrency of an agent while it is in hand.
        message_agents = erlang.agents_needed(m, (message_aht or 0) / concurrency,
                                              kpi["service_level_seconds"]["messages"], target)
        hours.append({"hour": hour, "calls": c, "call_aht": call_aht, "call_agents": call_agents,
                      "messages": m, "message_aht": message_aht, "message_agents": message_agents,
                      "needed": call_agents + message_agents, "scheduled": scheduled[hour]})
    return {"date": day.isoformat(), "weeks": weeks, "history": [d.isoformat() for d in history],
            "service_level_target": target, "hours": hours}


def _counts(contacts, tz, weeks: int) -> tuple[dict[int, float], dict[int, float]]:
    calls: dict[int, float] = {}
    messages: dict[int, float] = {}
    for row in (contacts.annotate(hour=ExtractHour("offered_at", tzinfo=tz)).values("hour")
                .annotate(voice=Count("id", filter=Q(channel=VOICE)), other=Count("id", filter=~Q(channel=VOICE)))):
        calls[row["hour"]] = row["voice"] / weeks
        messages[row["hour"]] = row["other"] / weeks
    return calls, messages


def _scheduled(practice_id: int, day: date) -> list[int]:
    """Agents whose shift on that weekday covers the middle of each hour."""
    counts = [0] * 24
    seen: list[set[int]] = [set() for _ in range(24)]
    for agent_id, starts, ends in Shift.objects.filter(practice_id=practice_id, weekday=day.weekday(),
                                                       agent__is_active=True).values_list("agent_id", "starts", "ends"):
        for hour in range(24):
            middle = time(hour, 30)
            if starts <= middle < ends:
                seen[hour].add(agent_id)
    for hour in range(24):
        counts[hour] = len(seen[hour])
    return counts
