"""The wallboard: what a supervisor watches on the wall, now.

`snapshot` reads the live queue (conversations waiting now), the agents'
presence, and today's contacts and SLA clocks; kpi.tasks.refresh pushes it
to `wallboard_group(practice)` whenever it changes, at most a second or two
after the event behind it (docs/kpi.md, wallboard).
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, time, timedelta

from django.db.models import Count, Min

from hub.lib import clock, directory
from hub.models import AgentProfile, Conversation, Practice, SlaClock
from kpi import metrics

PRESENCE_ORDER = ("available", "busy", "away", "offline")


def wallboard_group(practice_id: int) -> str:
    return f"wallboard.{practice_id}"


def watchers_key(practice_id: int) -> str:
    return f"wallboard-watchers:{practice_id}"


def today(practice: Practice, now: datetime) -> metrics.Scope:
    tz = practice.tz
    local = now.astimezone(tz).date()
    return metrics.Scope(practice.pk, tz, datetime.combine(local, time.min, tzinfo=tz),
                         datetime.combine(local + timedelta(days=1), time.min, tzinfo=tz))


def snapshot(practice_id: int) -> dict:
    practice = Practice.objects.get(pk=practice_id)
    now = clock.now()
    scope = today(practice, now)

    waiting = []
    for row in (Conversation.objects.filter(practice_id=practice_id, status=Conversation.Status.QUEUED)
                .values("department_id", "channel").annotate(n=Count("id"), oldest=Min("waiting_since"))
                .order_by("department_id", "channel")):
        waiting.append({
            "department_id": row["department_id"],
            "department": directory.department_name(practice_id, row["department_id"]),
            "channel": row["channel"], "waiting": row["n"],
            "oldest_waiting_since": row["oldest"].isoformat() if row["oldest"] else None,
            "longest_wait_seconds": _age(row["oldest"], now),
        })
    oldest = max((w["longest_wait_seconds"] for w in waiting if w["longest_wait_seconds"] is not None),
                 default=None)

    agents = {p: [] for p in PRESENCE_ORDER}
    for user_id, presence in (AgentProfile.objects.filter(practice_id=practice_id)
                              .exclude(role=AgentProfile.Role.INTEGRATION).values_list("user_id", "presence")):
        agents.setdefault(presence, []).append(directory.staff_name(practice_id, user_id))
    for names in agents.values():
        names.sort()

    day = metrics.summary(scope)
    per_department = []
    for row in metrics.by(scope, "department"):
        per_department.append({
            "department_id": row["key"], "department": directory.department_name(practice_id, row["key"])
            if row["key"] else "—",
            "contacts": row.get("contacts", 0), "service_level": row.get("service_level"),
            "abandonment_rate": row.get("abandonment_rate"), "average_wait": row.get("average_wait"),
        })
    breaches = SlaClock.objects.filter(practice_id=practice_id, breached_at__gte=scope.start,
                                       breached_at__lt=scope.end).count()
    return {
        "practice": practice.name,
        "generated_at": now.isoformat(),
        "date": scope.start.date().isoformat(),
        "waiting_total": sum(w["waiting"] for w in waiting),
        "longest_wait_seconds": oldest,
        "waiting": waiting,
        "agents": {p: {"count": len(names), "names": names} for p, names in agents.items()},
        "today": {
            "contacts": day["contacts"], "answered": day["answered"], "abandoned": day["abandoned"],
            "service_level": day["service_level"], "abandonment_rate": day["abandonment_rate"],
            "average_wait": day["average_wait"], "average_speed_of_answer": day["average_speed_of_answer"],
            "sla_breaches": breaches,
            "service_level_target": _target(),
        },
        "departments": per_department,
    }


def fingerprint(data: dict) -> str:
    """Changes when anything changes but the time (wait ages tick on the
    wallboard itself, from `oldest_waiting_since`)."""
    stable = {k: v for k, v in data.items() if k not in ("generated_at", "longest_wait_seconds")}
    stable["waiting"] = [{k: v for k, v in w.items() if k != "longest_wait_seconds"} for w in data["waiting"]]
    return hashlib.sha1(json.dumps(stable, sort_keys=True, default=str).encode()).hexdigest()


def _age(since: datetime | None, now: datetime) -> float | None:
    return None if since is None else max(0.0, round((now - since).total_seconds(), 1))


def _target() -> float:
    from django.conf import settings

    return settings.KPI["service_level_target"]
