"""SLA clocks: first response, next response and resolution, per the
department's policy.

Deadlines live in the database (SlaClock), and beat's sweep fires them:
every SLA_SWEEP_SECONDS (half a second by default) one indexed query finds
the warnings and breaches that are due. No task waits in the broker per
clock, so a lost worker loses no timer, and a busy hour, where clocks start
and stop with every message, adds nothing to Celery's queue. Firing takes
the conversation's row lock (the same lock a reply takes) and then
compares and sets, so a reply at 119.9 s against a 120 s deadline never
breaches, and each warning and breach happens once however many sweeps run.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Q

from hub.actions import timeline
from hub.lib import clock, directory, hours
from hub.lib.event_types import AlertOut
from hub.lib.events import practice_stream, publish
from hub.models import BusinessHours, Conversation, Department, Event, Holiday, SlaClock, SlaPolicy

log = logging.getLogger(__name__)
Kind, State = SlaClock.Kind, SlaClock.State
TARGET_FIELD = {Kind.FIRST_RESPONSE: "first_response_seconds", Kind.NEXT_RESPONSE: "next_response_seconds",
                Kind.RESOLUTION: "resolution_seconds"}
LIVE = (State.RUNNING, State.PAUSED)


def policy_for(practice_id: int, department_id: int, priority: int) -> SlaPolicy | None:
    candidates = list(SlaPolicy.objects.in_practice(practice_id).filter(
        Q(department_id=department_id) | Q(department__isnull=True),
        Q(priority=priority) | Q(priority__isnull=True)))

    def specificity(p: SlaPolicy) -> int:
        # A promise for urgent patients outranks a department's everyday one.
        return (2 if p.priority is not None else 0) + (1 if p.department_id else 0)

    return max(candidates, key=specificity, default=None)


def schedule_for(department_id: int) -> hours.Schedule:
    practice_id, tz = (Department.objects.filter(pk=department_id)
                       .values_list("practice_id", "practice__timezone").first() or (None, "UTC"))
    return schedules_for(practice_id, tz, [department_id])[department_id]


def schedules_for(practice_id: int | None, tz: str, department_ids: list[int]) -> dict[int, hours.Schedule]:
    """The opening hours of several departments of one practice, in two
    queries: their weekly hours, and the practice's holidays (practice-wide
    ones apply to every department)."""
    from zoneinfo import ZoneInfo

    weekly: dict[int, dict[int, list]] = {pk: {} for pk in department_ids}
    for department_id, weekday, opens, closes in BusinessHours.objects.filter(
            department_id__in=department_ids).values_list("department_id", "weekday", "opens", "closes"):
        weekly[department_id].setdefault(weekday, []).append((opens, closes))
    holidays: dict[int | None, set] = {}
    for department_id, day in Holiday.objects.filter(practice_id=practice_id).filter(
            Q(department__isnull=True) | Q(department_id__in=department_ids)).values_list("department_id", "date"):
        holidays.setdefault(department_id, set()).add(day)
    zone = ZoneInfo(tz)
    return {pk: hours.Schedule(tz=zone, weekly=weekly[pk],
                               holidays=frozenset(holidays.get(None, set()) | holidays.get(pk, set())))
            for pk in department_ids}


def _times(schedule: hours.Schedule | None, start: datetime, seconds: float, percent: int):
    if schedule is None:
        return start + timedelta(seconds=seconds * percent / 100), start + timedelta(seconds=seconds)
    return (hours.add_business_time(schedule, start, seconds * percent / 100),
            hours.add_business_time(schedule, start, seconds))


def start(conversation: Conversation, kind: str, now: datetime | None = None, *,
          policy: SlaPolicy | None = None, new_conversation: bool = False) -> SlaClock | None:
    """Inside the caller's transaction, with the conversation locked. A
    conversation created in this transaction has no clock to cancel; a
    caller starting several clocks may pass the policy it looked up."""
    now = now or clock.now()
    policy = policy or policy_for(conversation.practice_id, conversation.department_id, conversation.priority)
    target = getattr(policy, TARGET_FIELD[kind]) if policy else None
    if not target:
        return None
    if not new_conversation:
        SlaClock.objects.filter(conversation=conversation, kind=kind, state__in=LIVE).update(
            state=State.CANCELLED, ended_at=now)
    schedule = schedule_for(conversation.department_id) if policy.business_hours_only else None
    warn_at, deadline = _times(schedule, now, target, policy.warning_percent)
    sla_clock = SlaClock.objects.create(
        practice_id=conversation.practice_id, conversation=conversation, kind=kind, target_seconds=target,
        business_hours_only=policy.business_hours_only, warning_percent=policy.warning_percent, started_at=now,
        warn_at=warn_at, deadline=deadline)
    return sla_clock


def stop(conversation: Conversation, kinds: tuple[str, ...], *, met: bool, now: datetime | None = None) -> int:
    """Responses and resolutions end their clocks (met), other changes cancel them."""
    now = now or clock.now()
    return SlaClock.objects.filter(conversation=conversation, kind__in=kinds, state__in=LIVE).update(
        state=State.MET if met else State.CANCELLED, ended_at=now)


def pause(conversation: Conversation, kinds: tuple[str, ...] | None = None, now: datetime | None = None) -> None:
    now = now or clock.now()
    qs = SlaClock.objects.filter(conversation=conversation, state=State.RUNNING)
    if kinds:
        qs = qs.filter(kind__in=kinds)
    for sla_clock in qs:
        schedule = schedule_for(conversation.department_id) if sla_clock.business_hours_only else None
        remaining = (hours.business_seconds_between(schedule, now, sla_clock.deadline) if schedule
                     else max(0.0, (sla_clock.deadline - now).total_seconds()))
        sla_clock.state, sla_clock.paused_at, sla_clock.remaining_seconds = State.PAUSED, now, remaining
        sla_clock.save(update_fields=["state", "paused_at", "remaining_seconds"])


def resume(conversation: Conversation, kinds: tuple[str, ...] | None = None, now: datetime | None = None) -> None:
    now = now or clock.now()
    qs = SlaClock.objects.filter(conversation=conversation, state=State.PAUSED)
    if kinds:
        qs = qs.filter(kind__in=kinds)
    for sla_clock in qs:
        schedule = schedule_for(conversation.department_id) if sla_clock.business_hours_only else None
        remaining = sla_clock.remaining_seconds or 0.0
        # Of what is left, the part before the warning point (none if warned).
        before_warning = 0.0 if sla_clock.warned_at else max(
            0.0, remaining - sla_clock.target_seconds * (1 - sla_clock.warning_percent / 100))
        if schedule is None:
            sla_clock.deadline = now + timedelta(seconds=remaining)
            sla_clock.warn_at = now + timedelta(seconds=before_warning)
        else:
            sla_clock.deadline = hours.add_business_time(schedule, now, remaining)
            sla_clock.warn_at = hours.add_business_time(schedule, now, before_warning)
        sla_clock.state, sla_clock.paused_at, sla_clock.remaining_seconds = State.RUNNING, None, None
        sla_clock.save(update_fields=["state", "paused_at", "remaining_seconds", "deadline", "warn_at"])


def sync(conversation: Conversation) -> None:
    """Copy the clock that matters now (the soonest live deadline) onto the
    conversation's sla_* fields. The caller saves the conversation."""
    clocks = list(SlaClock.objects.filter(conversation=conversation, state__in=(*LIVE, State.BREACHED))
                  .only("kind", "state", "deadline", "warned_at"))
    live = sorted((c for c in clocks if c.state in LIVE), key=lambda c: c.deadline)
    breached = any(c.state == State.BREACHED for c in clocks)
    if not live:
        conversation.sla_kind = ""
        conversation.sla_deadline = None
        conversation.sla_state = "breached" if breached and conversation.is_open else ""
        return
    current = next((c for c in live if c.state == State.RUNNING), live[0])
    conversation.sla_kind = current.kind
    conversation.sla_deadline = current.deadline if current.state == State.RUNNING else None
    if current.state == State.PAUSED:
        conversation.sla_state = "paused"
    elif breached:
        conversation.sla_state = "breached"
    elif current.warned_at:
        conversation.sla_state = "warning"
    else:
        conversation.sla_state = "running"


SLA_FIELDS = ["sla_kind", "sla_state", "sla_deadline"]


def due(now: datetime | None = None, limit: int = 1000, grace: timedelta = timedelta(0)) -> list[int]:
    """Clocks whose warning or deadline has passed (more than `grace` ago),
    soonest first: the sweep's work."""
    now = (now or clock.now()) - grace
    breaches = SlaClock.objects.filter(state=State.RUNNING, breached_at__isnull=True, deadline__lte=now)
    warnings = SlaClock.objects.filter(state=State.RUNNING, warned_at__isnull=True, warn_at__lte=now)
    ids = list(breaches.order_by("deadline").values_list("pk", flat=True)[:limit])
    ids += [pk for pk in warnings.order_by("warn_at").values_list("pk", flat=True)[:limit] if pk not in ids]
    return ids


def fire(clock_id: int, *, skip_locked: bool = False) -> str | None:
    """Warn or breach one clock if it is due; "warned", "breached" or None.
    `skip_locked`: give up at once if someone else holds the conversation
    (the sweep: that someone is firing it, or will be swept next time)."""
    with transaction.atomic():
        # The reply path holds the conversation's row lock while it stops
        # the clock: taking it here orders a breach and a reply, whichever
        # comes first wins. One statement reads the clock and locks it.
        sla_clock = (SlaClock.objects.select_for_update(no_key=True, of=("conversation",), skip_locked=skip_locked)
                     .select_related("conversation__patient")
                     .filter(pk=clock_id, state=State.RUNNING).first())
        if sla_clock is None:
            return None
        # A waiter wakes with the conversation row re-read but the clock row
        # from its old snapshot (only locked rows are re-checked): read the
        # clock again, in a statement that sees what the lock holder committed.
        sla_clock.refresh_from_db(fields=["state", "warned_at", "breached_at", "deadline", "warn_at"])
        if sla_clock.state != State.RUNNING:
            return None
        conversation = sla_clock.conversation
        now = clock.now()
        if sla_clock.breached_at is None and sla_clock.deadline <= now:
            return _breach(conversation, sla_clock, now)
        if sla_clock.warned_at is None and sla_clock.warn_at <= now:
            return _warn(conversation, sla_clock, now)
    return None


def _label(sla_clock: SlaClock) -> str:
    seconds = sla_clock.target_seconds
    if seconds < 120:
        span = f"{seconds} s"
    elif seconds < 7200:
        span = f"{seconds / 60:.3g} min"
    else:
        span = f"{seconds / 3600:.3g} h"
    return f"{sla_clock.get_kind_display()} SLA ({span})"


def _alert(conversation: Conversation, kind: str, text: str, now: datetime):
    return ([practice_stream(conversation.practice_id)], "alert.created", AlertOut(
        kind=kind, conversation_id=conversation.pk, patient_name=conversation.patient.display_name,
        department_id=conversation.department_id,
        department_name=directory.department_name(conversation.practice_id, conversation.department_id),
        text=text, created_at=now))


def _warn(conversation: Conversation, sla_clock: SlaClock, now: datetime) -> str:
    sla_clock.warned_at = now
    sla_clock.save(update_fields=["warned_at"])
    before = timeline.queue_state(conversation)
    sync(conversation)
    conversation.save(update_fields=SLA_FIELDS)
    timeline.publish_changes(conversation, [], before=before,
                             also=[_alert(conversation, "sla_warning", f"{_label(sla_clock)} due soon", now)])
    return "warned"


def _breach(conversation: Conversation, sla_clock: SlaClock, now: datetime) -> str:
    sla_clock.state, sla_clock.breached_at, sla_clock.ended_at = State.BREACHED, now, now
    sla_clock.warned_at = sla_clock.warned_at or now
    sla_clock.save(update_fields=["state", "breached_at", "ended_at", "warned_at"])
    before = timeline.queue_state(conversation)
    policy = policy_for(conversation.practice_id, conversation.department_id, conversation.priority)
    late = (now - sla_clock.deadline).total_seconds()
    events = [timeline.system_notice(conversation, Event.Kind.SYSTEM, f"{_label(sla_clock)} breached",
                                     data={"action": "sla_breached", "sla": sla_clock.kind, "deadline": sla_clock.deadline.isoformat(),
                                           "fired_late_seconds": round(late, 3)}, at=now)]
    if policy is None or policy.raise_priority_on_breach:
        conversation.priority = max(conversation.priority, Conversation.Priority.HIGH)
    if policy is not None and policy.reassign_on_breach and conversation.assignee_id \
            and sla_clock.kind != Kind.RESOLUTION:
        conversation.assignee = None
        conversation.status = Conversation.Status.QUEUED
        events.append(timeline.system_notice(conversation, Event.Kind.ASSIGNMENT,
                                             "Returned to the queue after the SLA breach", at=now,
                                             data={"action": "unassigned", "how": "sla_breach", "assignee_id": None}))
    sync(conversation)
    conversation.save()
    timeline.publish_changes(conversation, events, before=before,
                             also=[_alert(conversation, "sla_breach", f"{_label(sla_clock)} breached", now)])
    return "breached"
