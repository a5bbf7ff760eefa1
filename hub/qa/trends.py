"""Review figures per agent over a Scope (review time, the agent reviewed,
the conversation's department, topic and channel): how many reviews, the
average percent, the average of each criterion, and the same per week.

Criteria are matched by key across rubric versions and averaged as a share
of their maximum, so a criterion whose maximum changed still compares."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta

from hub.lib import directory
from hub.qa.models import Review, Rubric
from hub.qa.rubrics import active_rubric
from kpi.metrics import Scope


@dataclass
class Week:
    start: date  # a Monday, in the practice's time zone
    reviews: int
    average_percent: float | None


@dataclass
class AgentTrend:
    agent_id: int
    name: str
    reviews: int
    average_percent: float
    criteria: dict[str, float | None]  # criterion key -> average percent of its maximum
    weeks: list[Week] = field(default_factory=list)


@dataclass
class Trends:
    criteria: list[tuple[str, str]]  # (key, label), the active rubric's first
    weeks: list[date]
    agents: list[AgentTrend]


def _mean(values: list[float]) -> float | None:
    return round(sum(values) / len(values), 1) if values else None


def monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _weeks(scope: Scope) -> list[date]:
    first, last = monday(scope.start.date()), monday((scope.end - timedelta(days=1)).date())
    return [first + timedelta(weeks=n) for n in range((last - first).days // 7 + 1)]


def _criteria(practice_id: int, rubric_ids: set[int]) -> tuple[list[tuple[str, str]], dict[int, dict[str, int]]]:
    """Labels of every criterion scored (the active rubric's wording, else
    the newest rubric's that has it) and each rubric's maxima."""
    active = active_rubric(practice_id)
    rubrics = {r.pk: r for r in Rubric.objects.filter(practice_id=practice_id, pk__in=rubric_ids)}
    labels = {c["key"]: c["label"] for c in active.criteria}
    order = [c["key"] for c in active.criteria]
    for rubric in sorted(rubrics.values(), key=lambda r: r.pk, reverse=True):
        for c in rubric.criteria:
            if c["key"] not in labels:
                labels[c["key"]] = c["label"]
                order.append(c["key"])
    maxima = {pk: {c["key"]: c["max"] for c in r.criteria} for pk, r in rubrics.items()}
    return [(key, labels[key]) for key in order], maxima


def trends(scope: Scope) -> Trends:
    qs = Review.objects.in_practice(scope.practice_id).filter(created_at__gte=scope.start, created_at__lt=scope.end,
                                                              agent_id__isnull=False)
    qs = scope.narrow(qs, department_id="conversation__department_id", channel="conversation__channel",
                      agent_id="agent_id", topic_id="conversation__topic_id")
    rows = list(qs.values_list("agent_id", "rubric_id", "scores", "percent", "created_at"))
    criteria, maxima = _criteria(scope.practice_id, {r[1] for r in rows})
    percents: dict[int, list[float]] = defaultdict(list)
    shares: dict[int, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    weekly: dict[int, dict[date, list[float]]] = defaultdict(lambda: defaultdict(list))
    for agent_id, rubric_id, scores, percent, created_at in rows:
        percents[agent_id].append(percent)
        weekly[agent_id][monday(created_at.astimezone(scope.tz).date())].append(percent)
        for key, points in scores.items():
            most = maxima.get(rubric_id, {}).get(key)
            if most:
                shares[agent_id][key].append(100 * points / most)
    weeks = _weeks(scope)
    agents = [AgentTrend(agent_id=agent_id, name=directory.staff_name(scope.practice_id, agent_id) or f"#{agent_id}",
                         reviews=len(values), average_percent=_mean(values),
                         criteria={key: _mean(shares[agent_id][key]) for key, _ in criteria},
                         weeks=[Week(w, len(weekly[agent_id][w]), _mean(weekly[agent_id][w])) for w in weeks])
              for agent_id, values in percents.items()]
    agents.sort(key=lambda a: a.name.lower())
    return Trends(criteria=criteria, weeks=weeks, agents=agents)
