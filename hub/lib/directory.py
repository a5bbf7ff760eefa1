"""A practice's configuration and the display names its payloads carry
(departments, topics, staff), cached briefly in each process.

Every inbound event publishes its conversation with these names. Reading
them through joins on that hot path costs more than the rest of the ingest;
they change rarely, and a name a few seconds stale is harmless. Anything
that decides access or routing reads the database, not this cache.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

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
    loaded_at: float = 0.0


_lock = threading.Lock()
_cache: dict[int, Directory] = {}


def _load(practice_id: int) -> Directory:
    practice = Practice.objects.only("default_department_id", "reopen_window_minutes", "phone_region").get(pk=practice_id)
    staff = {}
    for profile in AgentProfile.objects.in_practice(practice_id).select_related("user"):
        staff[profile.user_id] = profile.display_name
    return Directory(
        practice_id=practice_id,
        default_department_id=practice.default_department_id,
        reopen_window_minutes=practice.reopen_window_minutes,
        phone_region=practice.phone_region,
        departments=dict(Department.objects.in_practice(practice_id).values_list("pk", "name")),
        topics=dict(Topic.objects.in_practice(practice_id).values_list("pk", "name")),
        staff=staff,
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
