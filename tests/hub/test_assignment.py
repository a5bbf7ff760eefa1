"""Automatic assignment: offers in turn or to the least busy, respecting
presence and capacity; expiry and decline pass it on; a newly available
agent is offered the backlog."""

import pytest
from django.test import TestCase

from hub.actions import assignment, conversations, presence
from hub.actions.errors import Conflict
from hub.lib import access
from hub.models import AgentProfile, Conversation, Offer
from tests.conftest import make_user
from tests.factories import inbound


@pytest.fixture
def team(world):
    """Billing assigns automatically; bob, dee and eve work it."""
    world.billing.assignment = "round_robin"
    world.billing.offer_timeout_seconds = 30
    world.billing.save()
    dee = make_user(world.practice, "dee", AgentProfile.Role.AGENT, [world.billing], "Dee")
    eve = make_user(world.practice, "eve", AgentProfile.Role.AGENT, [world.billing], "Eve")
    AgentProfile.objects.filter(user__in=[world.bob, dee, eve]).update(presence="available")
    return [world.bob, dee, eve]


def committed(action, *args, **kwargs):
    """Run an action and the work it leaves for after commit (offers are
    made by tasks enqueued on commit)."""
    with TestCase.captureOnCommitCallbacks(execute=True):
        return action(*args, **kwargs)


def billing_question(world, n):
    return committed(inbound, world.practice, phone=f"+1555555{5000 + n}", topic_slug="bill").conversation


def offered_to(conversation):
    offer = Offer.objects.filter(conversation=conversation, status="pending").first()
    return offer.agent if offer else None


def test_manual_departments_make_no_offers(world):
    conversation = inbound(world.practice).conversation
    assert assignment.offer_next(conversation.pk) is None


def test_round_robin_offers_in_turn(world, team):
    agents = [offered_to(c) for c in (billing_question(world, i) for i in range(4))]
    # Each ingest enqueued its offer (eager in tests): bob, dee, eve, then bob again.
    assert agents == [team[0], team[1], team[2], team[0]]


def test_least_busy_offers_to_the_agent_with_least_work(world, team):
    world.billing.assignment = "least_busy"
    world.billing.save()
    busy = [inbound(world.practice, phone=f"+1555555{5100 + i}", topic_slug="bill").conversation for i in range(3)]
    Conversation.objects.filter(pk__in=[c.pk for c in busy]).update(assignee=team[0], status="assigned")
    Conversation.objects.filter(pk=busy[0].pk).update(assignee=team[1])  # bob 2, dee 1, eve 0
    assert offered_to(billing_question(world, 200)) == team[2]
    assert offered_to(billing_question(world, 201)) == team[1]  # dee 1 (+0), bob 2, eve 0 + 1 offer


def test_only_available_agents_under_capacity_are_offered(world, team):
    AgentProfile.objects.filter(user=team[0]).update(presence="away")
    AgentProfile.objects.filter(user=team[1]).update(capacity=0)
    assert offered_to(billing_question(world, 1)) == team[2]
    AgentProfile.objects.filter(user=team[2]).update(presence="busy")
    assert offered_to(billing_question(world, 2)) is None


def test_capacity_counts_assigned_work_and_pending_offers_not_the_past(world, team):
    bob, dee, eve = team
    AgentProfile.objects.filter(user__in=team).update(capacity=2)
    earlier = [inbound(world.practice, phone=f"+1555555{5400 + i}", topic_slug="bill").conversation for i in range(6)]
    for conversation in earlier[:3]:  # bob's past: resolved work, offers long closed
        Conversation.objects.filter(pk=conversation.pk).update(assignee=bob, status="resolved")
        Offer.objects.create(practice=world.practice, conversation=conversation, agent=bob, status="expired",
                             created_at=conversation.created_at, expires_at=conversation.created_at)
    Conversation.objects.filter(pk=earlier[3].pk).update(assignee=dee, status="assigned")
    Conversation.objects.filter(pk__in=[earlier[4].pk, earlier[5].pk]).update(assignee=eve, status="assigned")

    eligible = assignment.eligible_agents(world.billing, exclude=set())
    assert [(a.user, a.load, a.pending) for a in eligible] == [(bob, 0, 0), (dee, 1, 0)]  # eve is full
    assert offered_to(billing_question(world, 300)) == bob
    eligible = assignment.eligible_agents(world.billing, exclude=set())
    assert [(a.user, a.load, a.pending) for a in eligible] == [(bob, 0, 1), (dee, 1, 0)]
    assert offered_to(billing_question(world, 301)) == dee  # now 1 assigned + 1 offered: full
    assert offered_to(billing_question(world, 302)) == bob  # 2 offers pending: full
    assert offered_to(billing_question(world, 303)) is None


def test_an_expired_offer_returns_and_goes_to_the_next(world, team, frozen_clock):
    conversation = billing_question(world, 1)
    assert offered_to(conversation) == team[0]
    frozen_clock.advance(seconds=31)
    [due] = assignment.due_offers()
    assert committed(assignment.expire, due)
    assert Offer.objects.get(pk=due).status == "expired"
    assert offered_to(conversation) == team[1]
    assert assignment.expire(due) is False  # once


def test_a_declined_offer_goes_to_the_next(world, team):
    conversation = billing_question(world, 1)
    offer = Offer.objects.get(conversation=conversation)
    committed(assignment.decline, access.viewer_for(team[0]), offer.pk)
    assert offered_to(conversation) == team[1]


def test_accepting_assigns_and_a_late_accept_is_refused(world, team, frozen_clock):
    conversation = billing_question(world, 1)
    offer = Offer.objects.get(conversation=conversation)
    taken = assignment.accept(access.viewer_for(team[0]), offer.pk)
    assert (taken.assignee, taken.status) == (team[0], "assigned")
    other = billing_question(world, 2)
    late = Offer.objects.get(conversation=other, status="pending")
    frozen_clock.advance(seconds=31)
    with pytest.raises(Conflict):
        assignment.accept(access.viewer_for(late.agent), late.pk)


def test_picking_up_withdraws_the_offer(world, team):
    conversation = billing_question(world, 1)
    conversations.pick_up(access.viewer_for(team[2]), conversation.pk)
    assert Offer.objects.get(conversation=conversation).status == "withdrawn"


def test_an_agent_who_becomes_available_is_offered_the_backlog(world, team):
    AgentProfile.objects.filter(user__in=team).update(presence="away")
    waiting = [billing_question(world, i) for i in range(2)]
    assert not Offer.objects.exists()
    committed(presence.set_presence, team[1].pk, "available")
    assert {offered_to(c) for c in waiting} == {team[1]}


def test_offers_reach_the_agent_on_their_stream(world, team, django_capture_on_commit_callbacks, captured_events):
    with django_capture_on_commit_callbacks(execute=True):
        billing_question(world, 1)
    offers = [m for m in captured_events if m["event"] == "offer.updated"]
    assert offers[0]["stream"] == f"agent.{team[0].pk}" and offers[0]["payload"]["status"] == "pending"


def test_the_sweep_offers_the_waiting_only_while_someone_has_room(world, team, django_assert_max_num_queries):
    from hub.tasks import sweep_offers

    bob, dee, eve = team
    AgentProfile.objects.filter(user__in=team).update(capacity=1)
    questions = [billing_question(world, i) for i in range(8)]
    assert [offered_to(c) for c in questions[:3]] == [bob, dee, eve]
    assert not Offer.objects.filter(conversation__in=questions[3:]).exists()
    # Everyone is full: the sweep looks once at the department, not at
    # each of the five waiting conversations.
    with django_assert_max_num_queries(4):
        sweep_offers()
    assert Offer.objects.count() == 3
    # Room appears without any event that would offer the backlog (an
    # administrator raised a capacity): the sweep offers the oldest waiting.
    AgentProfile.objects.filter(user=eve).update(capacity=3)
    committed(sweep_offers)
    assert [offered_to(c) for c in questions[3:]] == [eve, eve, None, None, None]
