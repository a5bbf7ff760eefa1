"""From one patient's timeline to the facts the KPIs count.

A pure function of the events (plus the SLA clocks and the departments'
business hours): `derive` reads every event of one patient in order and
returns unsaved Episode, Contact, AgentEpisode and AgentSpan rows. The
definitions it implements are in docs/kpi.md; the names below follow it.
Event bodies are never read.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from hub.lib import hours
from kpi.models import AgentEpisode, AgentSpan, Contact, Episode


@dataclass(frozen=True)
class Ev:
    """The parts of an Event the KPIs read."""

    conversation_id: int
    seq: int
    kind: str
    channel: str
    direction: str
    data: dict
    author_id: int | None
    created_at: datetime


@dataclass(frozen=True)
class Clock:
    conversation_id: int
    started_at: datetime
    state: str


def is_staff_reply(e: Ev) -> bool:
    return (e.kind == "message" and e.direction == "out" and e.author_id is not None
            and not e.data.get("automatic"))


def is_answered_call(e: Ev) -> bool:
    return e.kind == "call" and e.data.get("phase") == "answered"


def is_response(e: Ev) -> bool:
    return is_staff_reply(e) or is_answered_call(e)


def is_inbound_message(e: Ev) -> bool:
    return e.kind == "message" and e.direction == "in"


def is_call_start(e: Ev) -> bool:
    return e.kind == "call" and e.direction == "in" and e.data.get("phase") == "started"


def action(e: Ev) -> str:
    return e.data.get("action", "") if e.kind in ("status", "assignment", "transfer", "system") else ""


@dataclass
class _Holder:
    """Who holds the conversation, and whether they are working it."""

    assignee: int | None = None
    active: bool = False  # not snoozed, not resolved
    since: datetime | None = None


@dataclass
class _EpisodeWork:
    row: Episode
    events: list[Ev] = field(default_factory=list)
    agents: dict[int, AgentEpisode] = field(default_factory=dict)
    spans: list[AgentSpan] = field(default_factory=list)
    contacts: list[Contact] = field(default_factory=list)


@dataclass
class Facts:
    episodes: list[Episode]
    contacts: list[Contact]
    agent_episodes: list[AgentEpisode]
    spans: list[AgentSpan]


Schedules = Callable[[int | None], hours.Schedule]


def derive(practice_id: int, patient_id: int, events: Iterable[Ev], clocks: Iterable[Clock],
           schedule_for: Schedules) -> Facts:
    by_conversation: dict[int, list[Ev]] = {}
    for e in events:
        by_conversation.setdefault(e.conversation_id, []).append(e)
    clocks_by_conversation: dict[int, list[Clock]] = {}
    for c in clocks:
        clocks_by_conversation.setdefault(c.conversation_id, []).append(c)

    works: list[_EpisodeWork] = []
    for conversation_id, conversation_events in by_conversation.items():
        conversation_events.sort(key=lambda e: e.seq)
        works += _conversation(practice_id, patient_id, conversation_id, conversation_events,
                               clocks_by_conversation.get(conversation_id, []), schedule_for)
    _recontacts([w.row for w in works])
    return Facts(
        episodes=[w.row for w in works],
        contacts=[c for w in works for c in w.contacts],
        agent_episodes=[a for w in works for a in w.agents.values()],
        spans=[s for w in works for s in w.spans],
    )


def _conversation(practice_id: int, patient_id: int, conversation_id: int, events: list[Ev], clocks: list[Clock],
                  schedule_for: Schedules) -> list[_EpisodeWork]:
    works: list[_EpisodeWork] = []
    department: int | None = None
    topic: int | None = None
    holder = _Holder()
    calls: dict[str, list[Ev]] = {}
    call_episode: dict[str, _EpisodeWork] = {}
    call_department: dict[str, int | None] = {}
    work: _EpisodeWork | None = None
    # Per episode, reset when one starts:
    waiting_since: datetime | None = None
    left_at: datetime | None = None  # a chat visitor left before anyone picked it up
    left_department: int | None = None
    picked_up = False

    def agent(w: _EpisodeWork, user_id: int, at: datetime) -> AgentEpisode:
        row = w.agents.get(user_id)
        if row is None:
            row = w.agents[user_id] = AgentEpisode(practice_id=practice_id, patient_id=patient_id,
                                                   agent_id=user_id, first_at=at)
        return row

    def release(at: datetime) -> None:
        """The current holder stops working it (if they were)."""
        if work is not None and holder.active and holder.assignee is not None and holder.since is not None:
            work.spans.append(AgentSpan(practice_id=practice_id, patient_id=patient_id, agent_id=holder.assignee,
                                        kind=AgentSpan.Kind.HOLDING, start=holder.since, end=at))
            seconds = max(0.0, (at - holder.since).total_seconds())
            agent(work, holder.assignee, holder.since).held_seconds += seconds
            work.row.handle_seconds += seconds
        holder.since = None

    def hold(assignee: int | None, active: bool, at: datetime) -> None:
        release(at)
        holder.assignee, holder.active = assignee, active
        if active and assignee is not None and work is not None:
            holder.since = at
            agent(work, assignee, at)

    for e in events:
        act = action(e)
        at = e.created_at
        starts = work is None or (act == "reopened" and e.data.get("by") == "patient")
        if starts:
            if work is not None:
                release(at)
                _left_unanswered(work, left_at, left_department, schedule_for)
            work = _EpisodeWork(Episode(
                practice_id=practice_id, conversation_id=conversation_id, patient_id=patient_id,
                number=len(works) + 1, opened_at=at, opened_by="staff", channel="", first_department_id=None,
                handle_seconds=0.0))
            works.append(work)
            waiting_since, left_at, left_department, picked_up = None, None, None, False
            if act == "reopened":
                # The holder from before the resolution has it again.
                holder.active = picked_up = holder.assignee is not None
                holder.since = at if holder.active else None
                if holder.active:
                    agent(work, holder.assignee, at)
        row = work.row
        work.events.append(e)

        # Where it is, and what it is about.
        if act == "routed":
            department = e.data.get("department_id", department)
            topic = e.data.get("topic_id") or topic
        elif e.kind == "transfer":
            department = e.data.get("to_department_id", department)
        elif act == "escalated" and e.data.get("department_id"):
            department = e.data["department_id"]
        elif e.kind == "call" and e.data.get("phase") == "menu":
            call_department[e.data.get("call_sid", "")] = e.data.get("department_id")
            if e.data.get("moved"):
                department = e.data.get("department_id", department)
                if not picked_up and row.first_response_at is None and row.channel == "voice":
                    # A call is routed by its menu choice, not by the
                    # placeholder department it rang in.
                    row.first_department_id = department
        if row.first_department_id is None and department is not None:
            row.first_department_id = department

        # Who is working it.
        if act == "reopened" and e.data.get("by") != "patient":  # the same episode goes on
            row.resolved_at = row.resolution_seconds = None
            row.disposition, row.resolver_id = "", None
        if "assignee_id" in e.data and e.kind in ("status", "assignment", "transfer", "system"):
            assignee = e.data["assignee_id"]
            active = act not in ("snoozed", "resolved")
            if assignee is not None and act not in ("resolved",):
                picked_up = True
            if act == "resolved":
                hold(assignee, False, at)
            elif (assignee, active) != (holder.assignee, holder.active):
                hold(assignee, active, at)
        elif act == "snooze_ended":
            hold(holder.assignee, holder.assignee is not None, at)

        if e.kind == "transfer":
            row.transfers += 1
            if e.author_id is not None:
                agent(work, e.author_id, at).transfers += 1

        # The patient's side.
        if e.direction == "in" and (is_inbound_message(e) or is_call_start(e)):
            if row.opened_by != "patient":
                row.opened_by, row.channel = "patient", e.channel
                if is_inbound_message(e):
                    work.contacts.append(Contact(
                        practice_id=practice_id, patient_id=patient_id, key="", channel=e.channel,
                        offered_at=at, outcome=Contact.Outcome.WAITING))
            if waiting_since is None:
                waiting_since = at
            if is_inbound_message(e):
                left_at = None  # back, whatever they did before
        if act == "visitor_left" and not picked_up and row.first_response_at is None:
            try:
                left_at = datetime.fromisoformat(e.data.get("left_at", ""))
            except ValueError:
                left_at = at
            left_department = department
        if is_call_start(e):
            sid = e.data.get("call_sid", "")
            call_episode[sid] = work
            call_department.setdefault(sid, None)
        if e.kind == "call" and e.data.get("call_sid"):
            calls.setdefault(e.data["call_sid"], []).append(e)

        # The practice's responses.
        if is_response(e):
            responder = e.author_id if is_staff_reply(e) else e.data.get("agent_id")
            if row.first_response_at is None:
                row.first_response_at = at
                row.first_response_seconds = _business(schedule_for, department, row.opened_at, at)
                for contact in work.contacts:  # the episode's message contact
                    if left_at is not None:  # answered after they had gone
                        _abandon(contact, left_at, left_department, schedule_for)
                    else:
                        contact.outcome = Contact.Outcome.ANSWERED
                        contact.answered_at = at
                        contact.agent_id = responder
                        contact.department_id = department
                        contact.wait_seconds = _business(schedule_for, department, contact.offered_at, at)
            if waiting_since is not None:
                row.replies += 1
                row.reply_seconds += _business(schedule_for, department, waiting_since, at)
                waiting_since = None
            if is_staff_reply(e) and responder is not None:
                agent(work, responder, at).replies += 1

        if act == "resolved":
            row.resolved_at = at
            row.resolution_seconds = (at - row.opened_at).total_seconds()
            row.disposition = e.data.get("disposition", "")
            row.resolver_id = e.author_id or e.data.get("assignee_id")
            topic = e.data.get("topic_id") or topic
            if row.resolver_id is not None:
                agent(work, row.resolver_id, at).resolved = True
            waiting_since = None

        row.department_id = department
        row.topic_id = topic

    if work is not None:
        _left_unanswered(work, left_at, left_department, schedule_for)
        # Still held now: an open span.
        if holder.active and holder.assignee is not None and holder.since is not None:
            work.spans.append(AgentSpan(practice_id=practice_id, patient_id=patient_id, agent_id=holder.assignee,
                                        kind=AgentSpan.Kind.HOLDING, start=holder.since, end=None))

    for w in works:
        for contact in w.contacts:  # message contacts: the episode's first inbound message
            contact.key = f"episode:{w.row.conversation_id}:{w.row.number}"
            contact.topic_id = w.row.topic_id
            if contact.outcome != Contact.Outcome.WAITING:
                continue
            contact.department_id = w.row.department_id
            if w.row.resolved_at is not None:
                contact.outcome = Contact.Outcome.CLOSED
    for sid, call_events in calls.items():
        w = call_episode.get(sid)
        if w is None:
            continue  # the call began before this conversation's timeline did
        contact, talking = _call(practice_id, patient_id, sid, call_events,
                                 call_department.get(sid) or w.row.department_id, w.row.topic_id)
        w.contacts.append(contact)
        if talking is not None:
            talking.episode = w.row
            w.spans.append(talking)
            agent(w, talking.agent_id, talking.start)

    for w in works:
        _sla(w, clocks, works)
        for child in (*w.contacts, *w.agents.values(), *w.spans):
            child.episode = w.row
    return works


def _left_unanswered(work: _EpisodeWork, left_at: datetime | None, department: int | None,
                     schedule_for: Schedules) -> None:
    if left_at is None:
        return
    for contact in work.contacts:
        if contact.outcome == Contact.Outcome.WAITING:
            _abandon(contact, left_at, department, schedule_for)


def _abandon(contact: Contact, left_at: datetime, department: int | None, schedule_for: Schedules) -> None:
    contact.outcome = Contact.Outcome.ABANDONED
    contact.department_id = department
    contact.wait_seconds = _business(schedule_for, department, contact.offered_at, left_at)


def _call(practice_id: int, patient_id: int, sid: str, events: list[Ev], department: int | None,
          topic: int | None) -> tuple[Contact, AgentSpan | None]:
    phases = {}
    for e in events:
        phase = e.data.get("phase", "")
        # Leaving the queue for a voicemail is also phase "voicemail"; the
        # recording itself carries its recording_sid.
        if phase == "voicemail" and "queue_result" in e.data:
            phase = "left:voicemail"
        elif phase in ("dequeued", "abandoned", "callback", "other"):
            phase = f"left:{phase}"
        phases.setdefault(phase, e)
    started = phases["started"]
    contact = Contact(practice_id=practice_id, patient_id=patient_id, key=f"call:{sid}", channel="voice",
                      department_id=department, topic_id=topic, offered_at=started.created_at,
                      queued="queued" in phases, outcome=Contact.Outcome.WAITING)
    ended = phases.get("ended")
    left = next((phases[p] for p in ("left:dequeued", "left:abandoned", "left:voicemail", "left:callback",
                                     "left:other") if p in phases), None)
    talking = None
    if "answered" in phases:
        answered = phases["answered"]
        contact.outcome = Contact.Outcome.ANSWERED
        contact.answered_at = answered.created_at
        contact.agent_id = answered.data.get("agent_id")
        contact.wait_seconds = float(answered.data.get("queue_seconds") or
                                     (left.data.get("queue_seconds", 0) if left else 0))
        if ended is not None and ended.data.get("talk_seconds") is not None:
            contact.talk_seconds = float(ended.data["talk_seconds"])
        if contact.agent_id is not None:
            talking = AgentSpan(practice_id=practice_id, patient_id=patient_id, agent_id=contact.agent_id,
                                kind=AgentSpan.Kind.TALKING, start=answered.created_at,
                                end=(answered.created_at + timedelta(seconds=contact.talk_seconds)
                                     if contact.talk_seconds is not None else (ended.created_at if ended else None)))
    elif left is not None and left.data.get("phase") != "dequeued":
        contact.outcome = {"abandoned": Contact.Outcome.ABANDONED, "voicemail": Contact.Outcome.VOICEMAIL,
                           "callback": Contact.Outcome.CALLBACK}.get(left.data.get("phase"), Contact.Outcome.MISSED)
        contact.wait_seconds = float(left.data.get("queue_seconds") or 0)
    elif "voicemail" in phases:
        contact.outcome = Contact.Outcome.VOICEMAIL  # straight to voicemail (closed, or chose it in the menu)
    elif ended is not None:
        status = ended.data.get("call_status")
        contact.outcome = Contact.Outcome.FAILED if status == "failed" else Contact.Outcome.MISSED
        if contact.queued and ended.data.get("queue_seconds") is not None:
            contact.wait_seconds = float(ended.data["queue_seconds"])
    return contact, talking


def _sla(w: _EpisodeWork, clocks: list[Clock], works: list[_EpisodeWork]) -> None:
    later = [o.row.opened_at for o in works
             if o.row.conversation_id == w.row.conversation_id and o.row.opened_at > w.row.opened_at]
    until = min(later) if later else None
    for c in clocks:
        if c.started_at >= w.row.opened_at and (until is None or c.started_at < until):
            if c.state == "met":
                w.row.sla_met += 1
            elif c.state == "breached":
                w.row.sla_breached += 1


def _recontacts(episodes: list[Episode]) -> None:
    """For each resolved episode, the patient's next contact that needed a
    response: a later episode they opened, unless it was resolved with no
    response at all (a "thanks!")."""
    ordered = sorted(episodes, key=lambda r: r.opened_at)
    for episode in ordered:
        if episode.resolved_at is None:
            continue
        for later in ordered:
            if (later.opened_at > episode.resolved_at and later.opened_by == "patient"
                    and (later.first_response_at is not None or later.resolved_at is None)):
                episode.recontact_at = later.opened_at
                break


def _business(schedule_for: Schedules, department_id: int | None, a: datetime, b: datetime) -> float:
    return hours.business_seconds_between(schedule_for(department_id), a, b)
