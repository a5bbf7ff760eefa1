"""Automatic assignment: departments that do not leave it to agents to pick
up offer each waiting conversation to one eligible agent at a time (in turn,
or to the least busy). An offer not accepted within the department's
timeout goes back and on to the next agent; an agent who becomes available
is offered the waiting backlog."""

from __future__ import annotations

import logging
from datetime import timedelta

from django.db import transaction
from django.db.models import Count, OuterRef, Subquery
from django.db.models.functions import Coalesce

from hub.actions import timeline
from hub.actions.errors import Conflict, NotFound
from hub.lib import access, audit, clock, directory, fastsql
from hub.lib.event_types import OfferOut
from hub.lib.events import agent_stream, publish
from hub.models import AgentProfile, Conversation, Department, Event, Offer

log = logging.getLogger(__name__)
Strategy = Department.Assignment


def _count_per_agent(rows, agent_field: str, zero=0):
    """How many of `rows` each agent (the outer query's user) has: a
    subquery that reads only those rows, however long the agent's past."""
    counted = (rows.filter(**{agent_field: OuterRef("user_id")}).order_by().values(agent_field)
               .annotate(n=Count("pk")).values("n"))
    return Coalesce(Subquery(counted), zero)


def eligible_agents(department: Department, *, exclude: set[int]) -> list[AgentProfile]:
    """Available members of the department with room under their capacity.
    Each agent's load and pending offers are counted by their own subquery
    (joining both histories would multiply them: seconds per offer once
    agents have a month behind them, bench/eligibility.py). Asked at every
    offer, so its SQL is compiled once per shape (hub.lib.fastsql.objects)."""
    excluded = sorted(exclude)

    def build(params):
        assigned, zero, pending, zero_too, practice_id, department_id, available, *others, integration = params
        return (AgentProfile.objects.in_practice(practice_id)
                .filter(departments=department_id, presence=available, user__is_active=True)
                .exclude(user_id__in=others).exclude(role=integration)
                .annotate(load=_count_per_agent(Conversation.objects.filter(status=assigned), "assignee_id", zero),
                          pending=_count_per_agent(Offer.objects.filter(status=pending), "agent_id", zero_too))
                .select_related("user").order_by("user_id"))

    params = [Conversation.Status.ASSIGNED, fastsql.Fixed(0), Offer.Status.PENDING, fastsql.Fixed(0),
              department.practice_id, department.pk, AgentProfile.Presence.AVAILABLE, *excluded,
              AgentProfile.Role.INTEGRATION]
    agents = fastsql.objects(("assignment.eligible_agents", len(excluded)), build, params)
    return [a for a in agents if a.load + a.pending < a.capacity]


def _choose(department: Department, agents: list[AgentProfile]) -> AgentProfile | None:
    if not agents:
        return None
    if department.assignment == Strategy.LEAST_BUSY:
        # Fewest conversations; among equals, the one idle (available) longest.
        return min(agents, key=lambda a: (a.load + a.pending, a.presence_changed_at or clock.now(), a.user_id))
    after = department.last_offered_to_id or 0
    return next((a for a in agents if a.user_id > after), agents[0])


def offer_out(offer: Offer) -> OfferOut:
    conversation = offer.conversation
    return OfferOut(id=offer.pk, conversation_id=conversation.pk, patient_name=conversation.patient.display_name,
                    department_name=directory.department_name(offer.practice_id, conversation.department_id),
                    channel=conversation.channel, status=offer.status, expires_at=offer.expires_at)


def offer_next(conversation_id: int) -> Offer | None:
    """Offer a waiting conversation to the next eligible agent, if its
    department assigns automatically and nobody holds an offer for it."""
    with transaction.atomic():
        conversation = fastsql.one(("assignment.offer_next",), lambda p: Conversation.objects.select_for_update(
            no_key=True, of=("self",)).select_related("patient", "department").filter(pk=p[0])[:1], [conversation_id])
        if conversation is None or conversation.status != Conversation.Status.QUEUED or conversation.assignee_id:
            return None
        if conversation.department.assignment == Strategy.MANUAL:
            return None
        offers = list(Offer.objects.filter(conversation=conversation).values_list("agent_id", "status"))
        if any(status == Offer.Status.PENDING for _, status in offers):
            return None
        tried = {agent_id for agent_id, _ in offers}
        # Nobody has room: the usual answer while a queue waits, so find it
        # out before queueing for the department's lock. Whoever frees room
        # later is offered the backlog (offer_backlog), which includes this.
        if not eligible_agents(conversation.department, exclude=tried):
            return None
        # Serializes the department's offers (whose turn it is). NO KEY
        # UPDATE: rows that reference the department (every insert checks
        # its foreign key at COMMIT) do not wait for it, nor it for them.
        department = Department.objects.select_for_update(no_key=True).get(pk=conversation.department_id)
        agent = _choose(department, eligible_agents(department, exclude=tried))
        if agent is None:
            return None
        now = clock.now()
        offer = Offer.objects.create(practice_id=conversation.practice_id, conversation=conversation,
                                     agent_id=agent.user_id, created_at=now,
                                     expires_at=now + timedelta(seconds=department.offer_timeout_seconds))
        department.last_offered_to_id = agent.user_id
        department.save(update_fields=["last_offered_to"])
        publish(([agent_stream(agent.user_id)], "offer.updated", offer_out(offer)))
        _expire_later(offer)
        return offer


def _expire_later(offer: Offer) -> None:
    from hub.tasks import expire_offer

    transaction.on_commit(lambda: expire_offer.apply_async((offer.pk,), eta=offer.expires_at))


def _close(offer: Offer, status: str, now) -> None:
    offer.status, offer.closed_at = status, now
    offer.save(update_fields=["status", "closed_at"])
    publish(([agent_stream(offer.agent_id)], "offer.updated", offer_out(offer)))


def accept(viewer: access.Viewer, offer_id: int, *, via: str = "console", ip: str | None = None) -> Conversation:
    from hub.actions.conversations import pick_up

    with transaction.atomic():
        offer = (Offer.objects.select_for_update(no_key=True).select_related("conversation__patient")
                 .filter(pk=offer_id, agent_id=viewer.user_id).first())
        if offer is None:
            raise NotFound("No such offer.")
        if offer.status == Offer.Status.ACCEPTED:
            raise Conflict("You already accepted this offer.", code="offer_closed")
        if offer.status != Offer.Status.PENDING or offer.expires_at <= clock.now():
            raise Conflict("This offer has ended; the conversation went back to the queue.", code="offer_closed")
        _close(offer, Offer.Status.ACCEPTED, clock.now())
        # Offers hold a place under capacity already; pick_up checks again.
        return pick_up(viewer, offer.conversation_id, via=via, ip=ip)


def decline(viewer: access.Viewer, offer_id: int, *, via: str = "console", ip: str | None = None) -> None:
    with transaction.atomic():
        offer = (Offer.objects.select_for_update(no_key=True).select_related("conversation__patient")
                 .filter(pk=offer_id, agent_id=viewer.user_id, status=Offer.Status.PENDING).first())
        if offer is None:
            raise NotFound("No such offer.")
        _close(offer, Offer.Status.DECLINED, clock.now())
        audit.record(user_id=viewer.user_id, practice_id=viewer.practice_id, action="offer.declined",
                     obj=offer.conversation, via=via, ip=ip)
        conversation_id = offer.conversation_id
        transaction.on_commit(lambda: offer_next_later(conversation_id))


def expire(offer_id: int) -> bool:
    """The offer's time is up (task or sweep): back to the queue, on to the next."""
    with transaction.atomic():
        offer = (Offer.objects.select_for_update(no_key=True).select_related("conversation__patient")
                 .filter(pk=offer_id, status=Offer.Status.PENDING, expires_at__lte=clock.now()).first())
        if offer is None:
            return False
        _close(offer, Offer.Status.EXPIRED, clock.now())
        conversation = (Conversation.objects.select_for_update(no_key=True, of=("self",)).select_related("patient")
                        .get(pk=offer.conversation_id))
        name = directory.staff_name(offer.practice_id, offer.agent_id)
        event = timeline.system_notice(conversation, Event.Kind.ASSIGNMENT, f"Offer to {name} expired",
                                       data={"action": "offer_expired", "agent_id": offer.agent_id})
        conversation.save(update_fields=["last_event_seq"])
        timeline.publish_changes(conversation, [event], before=timeline.queue_state(conversation))
        conversation_id = offer.conversation_id
        transaction.on_commit(lambda: offer_next_later(conversation_id))
    return True


def withdraw_for(conversation_id: int) -> None:
    """The conversation was taken or left the queue another way."""
    now = clock.now()
    for offer in Offer.objects.select_related("conversation__patient").filter(
            conversation_id=conversation_id, status=Offer.Status.PENDING):
        _close(offer, Offer.Status.WITHDRAWN, now)


def offer_backlog(user_id: int, limit: int = 5) -> int:
    """Someone became available (or freed capacity): offer them the oldest
    waiting conversations of their automatically assigned departments."""
    profile = AgentProfile.objects.filter(user_id=user_id).first()
    if profile is None or profile.presence != AgentProfile.Presence.AVAILABLE:
        return 0
    waiting = (Conversation.objects.in_practice(profile.practice_id)
               .filter(status=Conversation.Status.QUEUED, assignee__isnull=True,
                       department__in=profile.departments.exclude(assignment=Strategy.MANUAL))
               .exclude(offers__status=Offer.Status.PENDING)
               .order_by("-priority", "waiting_since").values_list("pk", flat=True)[:limit])
    return sum(1 for pk in waiting if offer_next(pk) is not None)


def offer_next_later(conversation_id: int) -> None:
    from hub.tasks import offer_conversation

    try:
        offer_conversation.delay(conversation_id)
    except Exception:
        log.warning("could not enqueue an offer; the sweep will make it", exc_info=True)


def due_offers(limit: int = 500) -> list[int]:
    return list(Offer.objects.filter(status=Offer.Status.PENDING, expires_at__lte=clock.now())
                .values_list("pk", flat=True)[:limit])


def _unoffered():
    return (Conversation.objects.filter(status=Conversation.Status.QUEUED, assignee__isnull=True)
            .exclude(department__assignment=Strategy.MANUAL)
            .exclude(offers__status=Offer.Status.PENDING))


def offer_waiting(limit: int = 200) -> int:
    """Offer what waits unoffered (the sweep): department by department, only
    while its agents have room. A queue that waits because everyone is busy
    costs one query per department, not one offer attempt per conversation.
    Returns the offers made."""
    made = 0
    departments = Department.objects.filter(pk__in=_unoffered().values("department_id"))
    for department in departments:
        room = sum(agent.capacity - agent.load - agent.pending for agent in eligible_agents(department, exclude=set()))
        if room <= 0:
            continue
        # In queue order, until the room is used up. A conversation that has
        # been offered to every agent with room (they declined or let it
        # expire) is passed over for the ones after it.
        waiting = (_unoffered().filter(department=department).order_by("-priority", "waiting_since")
                   .values_list("pk", flat=True)[:limit])
        offered = 0
        for conversation_id in waiting:
            if offer_next(conversation_id) is not None:
                offered += 1
                if offered >= room:
                    break
        made += offered
    return made
