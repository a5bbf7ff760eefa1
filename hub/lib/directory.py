"""A practice's configuration and the display names its payloads carry
(departments, topics, staff), cached briefly in each process.

Every inbound event publishes its conversation with these names. Reading
them through joins on that hot path costs more than the rest of the ingest;
they change rarely, and a name a few seconds stale is harmless. Anything
that decides access or routing reads the database, not this cache.

It also tells the ingest whether a department offers conversations to
agents itself and whether it is open now, so that a message only sets
Celery to work (an offer, an after-hours reply) when there is work. Those
tasks read the database again before they act, and the periodic sweeps
catch what a stale answer left out. A change saved in this process is
seen at once (hub.signals); other processes see it within TTL_SECONDS.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

from hub.lib import hours
from hub.models import AgentProfile, Department, Practice, Topic

TTL_SECONDS = 15.0


@dataclass(frozen=True)
class Directory:
    practice_id: int
    default_department_id: int | None
    reopen_window_minutes: int
    phone_region: str
    departments: dict[int, str] = field(default_factory=dict)
    topics: dict[int, str] = field(default_factory=dict)
    staff: dict[int, str] = field(default_factory=dict)
    automatic: frozenset[int] = frozenset()  # departments that offer conversations to agents
    schedules: dict[int, hours.Schedule] = field(default_factory=dict)
    loaded_at: float = 0.0


_lock = threading.Lock()
_cache: dict[int, Directory] = {}


def _load(practice_id: int) -> Directory:
    from hub.actions import sla

    practice = Practice.objects.only("default_department_id", "reopen_window_minutes", "phone_region",
                                     "timezone").get(pk=practice_id)
    staff = {}
    for profile in AgentProfile.objects.in_practice(practice_id).select_related("user"):
        staff[profile.user_id] = profile.display_name
    departments = list(Department.objects.in_practice(practice_id).values_list("pk", "name", "assignment"))
    return Directory(
        practice_id=practice_id,
        default_department_id=practice.default_department_id,
        reopen_window_minutes=practice.reopen_window_minutes,
        phone_region=practice.phone_region,
        departments={pk: name for pk, name, _ in departments},
        topics=dict(Topic.objects.in_practice(practice_id).values_list("pk", "name")),
        staff=staff,
        automatic=frozenset(pk for pk, _, assignment in departments if assignment != Department.Assignment.MANUAL),
        schedules=sla.schedules_for(practice_id, practice.timezone, [pk for pk, _, _ in departments]),
        loaded_at=time.monotonic(),
    )


def get(practice_id: int, *, fresh: bool = False) -> Directory:
    found = _cache.get(practice_id)
    if fresh or found is None or time.monotonic() - found.loaded_at > TTL_SECONDS:
        found = _load(practice_id)
        with _lock:
            _cache[practice_id] = found
    return found


def forget(practice_id: int | None = None) -> None:
    """Drop cached entries (after a configuration change in this process)."""
    with _lock:
        if practice_id is None:
            _cache.clear()
        else:
            _cache.pop(practice_id, None)


def department_name(practice_id: int, department_id: int) -> str:
    name = get(practice_id).departments.get(department_id)
    if name is None:  # created since the cache was filled
        name = get(practice_id, fresh=True).departments.get(department_id, f"Department #{department_id}")
    return name


def topic_name(practice_id: int, topic_id: int | None) -> str | None:
    if topic_id is None:
        return None
    name = get(practice_id).topics.get(topic_id)
    if name is None:
        name = get(practice_id, fresh=True).topics.get(topic_id, f"Topic #{topic_id}")
    return name


def staff_name(practice_id: int, user_id: int | None) -> str | None:
    if user_id is None:
        return None
    name = get(practice_id).staff.get(user_id)
    if name is None:
        name = get(practice_id, fresh=True).staff.get(user_id)
    if name is None:
        from django.contrib.auth import get_user_model

        user = get_user_model().objects.filter(pk=user_id).first()
        name = (user.get_full_name() or user.get_username()) if user else f"User #{user_id}"
    return name


def assigns_automatically(practice_id: int, department_id: int) -> bool:
    """Does the department offer its queue to agents (not leave it to them)?"""
    found = get(practice_id)
    if department_id not in found.departments:
        found = get(practice_id, fresh=True)
    return department_id in found.automatic or department_id not in found.departments


def closed_now(practice_id: int, department_id: int, at) -> bool:
    """Is the department closed at `at` (unknown departments: maybe)?"""
    schedule = get(practice_id).schedules.get(department_id)
    if schedule is None:
        schedule = get(practice_id, fresh=True).schedules.get(department_id)
    return schedule is None or not hours.is_open(schedule, at)
