"""Keeping the KPI facts in step with the timeline.

The unit of work is a patient: their facts are recomputed whole from all
their events and replace what was there, so running it twice, or after a
crash, changes nothing. `roll_up` finds the patients with new events since
the last run (Celery runs it every second or two, see kpi.tasks);
`rebuild` redoes a practice's history (`manage.py kpi_rebuild`).

A transaction that commits after a later-numbered event was already read
would slip past an id watermark, so the watermark only moves past events
older than SETTLE: what is newer is read again on the next run. An event
inserted more than SETTLE before its transaction commits is picked up by
the next rebuild.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from contextlib import contextmanager
from datetime import timedelta
from functools import cache

from django.db import transaction
from django.db.models import Max

from hub.actions.sla import schedule_for
from hub.lib import clock
from hub.models import Event, Patient, SlaClock
from kpi.derive import Clock, Ev, derive
from kpi.models import AgentEpisode, AgentSpan, Contact, Episode, RollupState

log = logging.getLogger(__name__)

SETTLE = timedelta(seconds=10)
BATCH = 500  # patients per transaction
EVENT_FIELDS = ("patient_id", "conversation_id", "seq", "kind", "channel", "direction", "data", "author_id",
                "created_at", "practice_id")


def refresh_patients(patient_ids: Iterable[int]) -> int:
    """Recompute the facts of these patients. Returns how many."""
    ids = sorted(set(patient_ids))
    schedules = cache(schedule_for)
    done = 0
    for start in range(0, len(ids), BATCH):
        chunk = ids[start:start + BATCH]
        events: dict[int, list[Ev]] = {}
        practice_of: dict[int, int] = {}
        for row in (Event.objects.filter(patient_id__in=chunk).order_by("patient_id", "conversation_id", "seq")
                    .values_list(*EVENT_FIELDS).iterator(chunk_size=5000)):
            patient_id, practice_id = row[0], row[-1]
            practice_of[patient_id] = practice_id
            events.setdefault(patient_id, []).append(Ev(*row[1:-1]))
        clocks: dict[int, list[Clock]] = {}
        for patient_id, conversation_id, started_at, state in SlaClock.objects.filter(
                conversation__patient_id__in=chunk).values_list("conversation__patient_id", "conversation_id",
                                                               "started_at", "state"):
            clocks.setdefault(patient_id, []).append(Clock(conversation_id, started_at, state))
        episodes, contacts, agent_episodes, spans = [], [], [], []
        for patient_id, patient_events in events.items():
            facts = derive(practice_of[patient_id], patient_id, patient_events, clocks.get(patient_id, ()),
                           lambda department_id: schedules(department_id) if department_id else _always_open())
            episodes += facts.episodes
            contacts += facts.contacts
            agent_episodes += facts.agent_episodes
            spans += facts.spans
        with transaction.atomic():
            for model in (Contact, AgentEpisode, AgentSpan, Episode):  # children first: no cascade to collect
                model.objects.filter(patient_id__in=chunk).delete()
            Episode.objects.bulk_create(episodes, batch_size=1000)
            for child in (*contacts, *agent_episodes, *spans):
                child.episode_id = child.episode.pk
            Contact.objects.bulk_create(contacts, batch_size=1000)
            AgentEpisode.objects.bulk_create(agent_episodes, batch_size=1000)
            AgentSpan.objects.bulk_create(spans, batch_size=1000)
        done += len(chunk)
    return done


@cache
def _always_open():
    from zoneinfo import ZoneInfo

    from hub.lib import hours

    return hours.Schedule(tz=ZoneInfo("UTC"))


def roll_up(name: str = "timeline") -> int:
    """Refresh the patients with events since the last run. Returns how
    many patients were refreshed."""
    with transaction.atomic():
        state, _ = RollupState.objects.select_for_update(no_key=True).get_or_create(name=name)
        since = state.last_event_id
        top = Event.objects.aggregate(top=Max("id"))["top"] or 0
        if top <= since:
            return 0
        new = Event.objects.filter(id__gt=since, id__lte=top)
        patient_ids = set(new.values_list("patient_id", flat=True).distinct())
        refresh_patients(patient_ids)
        # Move only past what has settled: the newest events are read again.
        unsettled = (new.filter(created_at__gte=clock.now() - SETTLE).order_by("id")
                     .values_list("id", flat=True).first())
        mark = top if unsettled is None else unsettled - 1
        if mark > since:
            state.last_event_id = mark
            state.save(update_fields=["last_event_id", "updated_at"])
    return len(patient_ids)


def rebuild(practice_id: int | None = None) -> int:
    """Recompute every patient's facts (of one practice, or all). The
    periodic refresh waits meanwhile (kpi.tasks.refresh takes the same lock),
    so the two never rewrite one patient at once."""
    patients = Patient.objects.all()
    if practice_id is not None:
        patients = patients.filter(practice_id=practice_id)
    with exclusive():
        return refresh_patients(patients.values_list("id", flat=True))


LOCK = "kpi-refresh-running"


@contextmanager
def exclusive(wait: float = 120.0, hold: int = 6 * 3600):
    """One writer of the facts at a time, across processes."""
    from django.core.cache import cache

    deadline = time.monotonic() + wait
    while not cache.add(LOCK, 1, timeout=hold):
        if time.monotonic() > deadline:
            raise TimeoutError("another rollup is still running")
        time.sleep(0.2)
    try:
        yield
    finally:
        cache.delete(LOCK)
