"""What agents do with a conversation: pick it up, hand it on, put it aside,
finish it. Each verb checks access first, changes state under the
conversation's row lock, leaves a line on the timeline, writes its audit row
and publishes after commit."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import transaction

from hub.actions import assignment, calls, sla, timeline
from hub.actions.errors import Conflict, InvalidInput, NotFound
from hub.lib import access, audit, clock, directory
from hub.models import AgentProfile, Conversation, Department, Event, Topic

MAX_SNOOZE = timedelta(days=30)
DISPOSITIONS = {"resolved": "Resolved", "follow_up": "Resolved, follow-up needed"}


def _locked(viewer: access.Viewer, conversation_id: int) -> Conversation:
    try:
        return access.get_conversation(viewer, conversation_id, for_update=True)
    except access.NotVisible:
        raise NotFound("No such conversation.") from None


def _finish(viewer, conversation, events, before, *, action, via, ip, detail=None, left_department_id=None):
    conversation.save()
    timeline.publish_changes(conversation, events, before=before, left_department_id=left_department_id)
    audit.record(user_id=viewer.user_id, practice_id=viewer.practice_id, action=action, obj=conversation,
                 via=via, ip=ip, detail=detail or {})
    return conversation


def _require_staff(viewer: access.Viewer) -> None:
    if viewer.role == AgentProfile.Role.INTEGRATION:
        raise Conflict("Integration accounts do not work conversations.", code="not_an_agent")


def _take_call_later(call_id: int, agent_id: int) -> None:
    from hub.tasks import take_call

    take_call.delay(call_id, agent_id)


def _after_release(conversation: Conversation, released_from: int | None) -> None:
    """After commit: a conversation back in a queue is offered on, and an
    agent who just freed capacity is offered the backlog."""
    from hub.tasks import offer_backlog

    conversation_id, queued = conversation.pk, conversation.status == Conversation.Status.QUEUED
    if queued:
        transaction.on_commit(lambda: assignment.offer_next_later(conversation_id))
    if released_from:
        transaction.on_commit(lambda: offer_backlog.delay(released_from))


def open_load(user_id: int) -> int:
    """Conversations someone is working now (what capacity counts)."""
    return Conversation.objects.filter(assignee_id=user_id, status=Conversation.Status.ASSIGNED).count()


def pick_up(viewer: access.Viewer, conversation_id: int, *, via: str = "console", ip: str | None = None) -> Conversation:
    """Take a waiting conversation. When two agents pick the same one at the
    same moment, the row lock makes exactly one win; the other gets 409."""
    _require_staff(viewer)
    with transaction.atomic():
        # Locking the agent's own profile first serializes their pick-ups,
        # so two tabs cannot both squeeze under the capacity limit.
        profile = AgentProfile.objects.select_for_update(no_key=True).get(user_id=viewer.user_id)
        conversation = _locked(viewer, conversation_id)
        if conversation.assignee_id == viewer.user_id and conversation.status == Conversation.Status.ASSIGNED:
            return conversation
        if conversation.status == Conversation.Status.RESOLVED:
            raise Conflict("This conversation is already resolved.", code="resolved")
        if conversation.assignee_id is not None:
            name = directory.staff_name(viewer.practice_id, conversation.assignee_id)
            raise Conflict(f"{name} already took this conversation.", code="taken")
        if open_load(viewer.user_id) >= profile.capacity:
            raise Conflict(f"You are working {profile.capacity} conversations, your limit. "
                           "Resolve or transfer one first.", code="at_capacity")
        holding = calls.queued_call(conversation.pk)
        if holding is not None and not profile.voice_endpoint:
            raise Conflict("This patient is holding on the phone, and no phone is set up for you to take "
                           "calls. Ask an admin to add yours, or let a colleague take it.", code="no_phone")
        before = timeline.queue_state(conversation)
        conversation.assignee = viewer.user
        conversation.status = Conversation.Status.ASSIGNED
        conversation.snoozed_until = None
        event = timeline.system_notice(conversation, Event.Kind.ASSIGNMENT, f"Picked up by {viewer.display_name}",
                                       author=viewer.user, data={"action": "picked_up", "assignee_id": viewer.user_id, "how": "pick_up"})
        assignment.withdraw_for(conversation.pk)
        if holding is not None:
            call_id, agent_id = holding.pk, viewer.user_id
            transaction.on_commit(lambda: _take_call_later(call_id, agent_id))
        return _finish(viewer, conversation, [event], before, action="conversation.picked_up", via=via, ip=ip)


def _staff_member(viewer: access.Viewer, user_id: int) -> AgentProfile:
    profile = (AgentProfile.objects.in_practice(viewer.practice_id).select_related("user")
               .filter(user_id=user_id).exclude(role=AgentProfile.Role.INTEGRATION).first())
    if profile is None or not profile.user.is_active:
        raise InvalidInput("No such agent in this practice.", code="unknown_agent")
    return profile


def _reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput("Say why: the next person reads it.", code="reason_required")
    if len(reason) > 500:
        raise InvalidInput("The reason can be at most 500 characters.", code="too_long")
    return reason


def transfer(viewer: access.Viewer, conversation_id: int, *, reason: str, department_id: int | None = None,
             agent_id: int | None = None, via: str = "console", ip: str | None = None) -> Conversation:
    """Hand a conversation to a department's queue or to a person, with the
    reason recorded on the timeline."""
    _require_staff(viewer)
    reason = _reason(reason)
    if (department_id is None) == (agent_id is None):
        raise InvalidInput("Transfer to a department or to an agent.", code="target_required")
    with transaction.atomic():
        conversation = _locked(viewer, conversation_id)
        if conversation.status == Conversation.Status.RESOLVED:
            raise Conflict("Reopen the conversation before transferring it.", code="resolved")
        before = timeline.queue_state(conversation)
        old_department_id, old_assignee_id = conversation.department_id, conversation.assignee_id
        now = clock.now()
        if department_id is not None:
            department = Department.objects.in_practice(viewer.practice_id).filter(pk=department_id).first()
            if department is None:
                raise InvalidInput("No such department.", code="unknown_department")
            if department.pk == old_department_id and old_assignee_id is None:
                raise Conflict(f"This conversation is already waiting in {department.name}.", code="same_target")
            conversation.department = department
            conversation.assignee = None
            conversation.status = Conversation.Status.QUEUED
            target = department.name
        else:
            profile = _staff_member(viewer, agent_id)
            if profile.user_id == old_assignee_id:
                raise Conflict(f"{profile.display_name} already has this conversation.", code="same_target")
            conversation.assignee = profile.user
            conversation.status = Conversation.Status.ASSIGNED
            target = profile.display_name
        conversation.snoozed_until = None
        if conversation.status == Conversation.Status.QUEUED and conversation.waiting_since is None:
            conversation.waiting_since = now  # waiting again, for the new department
        event = timeline.system_notice(
            conversation, Event.Kind.TRANSFER, f"Transferred to {target} by {viewer.display_name}: {reason}",
            author=viewer.user, at=now,
            data={"action": "transferred", "reason": reason, "from_department_id": old_department_id, "to_department_id": conversation.department_id,
                  "from_agent_id": old_assignee_id, "to_agent_id": conversation.assignee_id,
                  "assignee_id": conversation.assignee_id},
        )
        assignment.withdraw_for(conversation.pk)
        _finish(viewer, conversation, [event], before, action="conversation.transferred", via=via, ip=ip,
                detail={"to": target}, left_department_id=old_department_id)
        _after_release(conversation, old_assignee_id)
        return conversation


def assign(viewer: access.Viewer, conversation_id: int, agent_id: int, *, via: str = "console",
           ip: str | None = None) -> Conversation:
    """A supervisor gives a conversation to someone (agents pick up instead)."""
    if agent_id == viewer.user_id:
        return pick_up(viewer, conversation_id, via=via, ip=ip)
    if not viewer.sees_all_departments or viewer.role == AgentProfile.Role.INTEGRATION:
        raise Conflict("Only supervisors assign conversations to others; transfer it instead.", code="not_allowed")
    with transaction.atomic():
        conversation = _locked(viewer, conversation_id)
        profile = _staff_member(viewer, agent_id)
        if conversation.status == Conversation.Status.RESOLVED:
            raise Conflict("This conversation is already resolved.", code="resolved")
        before = timeline.queue_state(conversation)
        conversation.assignee = profile.user
        conversation.status = Conversation.Status.ASSIGNED
        event = timeline.system_notice(conversation, Event.Kind.ASSIGNMENT,
                                       f"Assigned to {profile.display_name} by {viewer.display_name}",
                                       author=viewer.user, data={"action": "assigned", "assignee_id": profile.user_id, "how": "assign"})
        assignment.withdraw_for(conversation.pk)
        return _finish(viewer, conversation, [event], before, action="conversation.assigned", via=via, ip=ip)


def snooze(viewer: access.Viewer, conversation_id: int, until: datetime, *, via: str = "console",
           ip: str | None = None) -> Conversation:
    """Put a conversation aside until a time; a message from the patient, or
    the time coming, brings it back."""
    _require_staff(viewer)
    now = clock.now()
    if until.tzinfo is None:
        raise InvalidInput("Give the time with its time zone.", code="naive_time")
    if until <= now + timedelta(minutes=1):
        raise InvalidInput("Snooze until a time in the future.", code="past")
    if until > now + MAX_SNOOZE:
        raise InvalidInput("Snooze for at most 30 days.", code="too_far")
    with transaction.atomic():
        conversation = _locked(viewer, conversation_id)
        if conversation.status == Conversation.Status.RESOLVED:
            raise Conflict("A resolved conversation cannot be snoozed.", code="resolved")
        before = timeline.queue_state(conversation)
        if conversation.assignee_id is None:
            conversation.assignee = viewer.user
        conversation.status = Conversation.Status.SNOOZED
        conversation.snoozed_until = until
        event = timeline.system_notice(conversation, Event.Kind.STATUS, f"Snoozed by {viewer.display_name}",
                                       author=viewer.user, data={"action": "snoozed", "snoozed_until": until.isoformat(),
                                                                  "assignee_id": conversation.assignee_id})
        sla.pause(conversation, now=now)
        sla.sync(conversation)
        assignment.withdraw_for(conversation.pk)
        return _finish(viewer, conversation, [event], before, action="conversation.snoozed", via=via, ip=ip)


def wake_due(limit: int = 500) -> int:
    """Snoozed conversations whose time has come go back to work (the sweep)."""
    now = clock.now()
    woken = 0
    due = list(Conversation.objects.filter(status=Conversation.Status.SNOOZED, snoozed_until__lte=now)
               .values_list("pk", flat=True)[:limit])
    for pk in due:
        with transaction.atomic():
            conversation = (Conversation.objects.select_for_update(no_key=True, of=("self",)).select_related("patient")
                            .filter(pk=pk, status=Conversation.Status.SNOOZED, snoozed_until__lte=now).first())
            if conversation is None:
                continue  # the patient wrote, or someone acted, meanwhile
            before = timeline.queue_state(conversation)
            conversation.status = (Conversation.Status.ASSIGNED if conversation.assignee_id
                                   else Conversation.Status.QUEUED)
            conversation.snoozed_until = None
            event = timeline.system_notice(conversation, Event.Kind.STATUS, "Snooze ended",
                                           data={"action": "snooze_ended", "by": "time"})
            sla.resume(conversation)
            sla.sync(conversation)
            conversation.save()
            timeline.publish_changes(conversation, [event], before=before)
            woken += 1
    return woken


def resolve(viewer: access.Viewer, conversation_id: int, *, disposition: str = "resolved",
            topic_id: int | None = None, via: str = "console", ip: str | None = None) -> Conversation:
    _require_staff(viewer)
    if disposition not in DISPOSITIONS:
        raise InvalidInput("The outcome is resolved or follow_up.", code="bad_disposition")
    with transaction.atomic():
        conversation = _locked(viewer, conversation_id)
        if conversation.status == Conversation.Status.RESOLVED:
            raise Conflict("This conversation is already resolved.", code="resolved")
        if topic_id is not None:
            if not Topic.objects.in_practice(viewer.practice_id).filter(pk=topic_id).exists():
                raise InvalidInput("No such topic.", code="unknown_topic")
            conversation.topic_id = topic_id
        before = timeline.queue_state(conversation)
        now = clock.now()
        if conversation.assignee_id is None:
            conversation.assignee = viewer.user
        conversation.status = Conversation.Status.RESOLVED
        conversation.needs_callback = False
        conversation.disposition = disposition
        conversation.resolved_at = now
        conversation.waiting_since = None
        conversation.snoozed_until = None
        topic = directory.topic_name(viewer.practice_id, conversation.topic_id)
        text = DISPOSITIONS[disposition] + f" by {viewer.display_name}" + (f" · Topic: {topic}" if topic else "")
        event = timeline.system_notice(conversation, Event.Kind.STATUS, text, author=viewer.user, at=now,
                                       data={"action": "resolved", "disposition": disposition,
                                             "topic_id": conversation.topic_id, "assignee_id": conversation.assignee_id})
        sla.stop(conversation, (sla.Kind.RESOLUTION,), met=True, now=now)
        sla.stop(conversation, (sla.Kind.FIRST_RESPONSE, sla.Kind.NEXT_RESPONSE), met=False, now=now)
        sla.sync(conversation)
        assignment.withdraw_for(conversation.pk)
        _finish(viewer, conversation, [event], before, action="conversation.resolved", via=via, ip=ip,
                detail={"disposition": disposition})
        _after_release(conversation, conversation.assignee_id)
        return conversation


def reopen(viewer: access.Viewer, conversation_id: int, *, via: str = "console", ip: str | None = None) -> Conversation:
    _require_staff(viewer)
    with transaction.atomic():
        conversation = _locked(viewer, conversation_id)
        if conversation.status != Conversation.Status.RESOLVED:
            raise Conflict("This conversation is open.", code="open")
        if Conversation.objects.filter(patient_id=conversation.patient_id).exclude(
                status=Conversation.Status.RESOLVED).exists():
            raise Conflict("This patient has a newer open conversation; work there.", code="newer_open")
        before = timeline.queue_state(conversation)
        conversation.status = Conversation.Status.ASSIGNED
        conversation.assignee = viewer.user
        conversation.resolved_at = None
        conversation.disposition = ""
        event = timeline.system_notice(conversation, Event.Kind.STATUS, f"Reopened by {viewer.display_name}",
                                       author=viewer.user,
                                       data={"action": "reopened", "by": "staff", "assignee_id": viewer.user_id})
        sla.start(conversation, sla.Kind.RESOLUTION)
        sla.sync(conversation)
        return _finish(viewer, conversation, [event], before, action="conversation.reopened", via=via, ip=ip)



def mark_seen(viewer: access.Viewer, conversation: Conversation) -> None:
    """Staff opened the thread: the patient's messages so far are read (the
    chat widget shows it)."""
    from hub.lib.events import notify_patient

    last_in = (Event.objects.filter(conversation=conversation, direction=Event.Direction.IN)
               .order_by("-seq").values_list("seq", flat=True).first()) or 0
    if last_in <= conversation.agent_read_seq:
        return
    updated = Conversation.objects.filter(pk=conversation.pk, agent_read_seq__lt=last_in).update(agent_read_seq=last_in)
    if updated and conversation.patient.web_chat:
        notify_patient(conversation.patient_id, {"type": "patient.read", "conversation_id": conversation.pk,
                                                 "seq": last_in})
