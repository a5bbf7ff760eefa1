"""SLA clocks with a controllable clock: warnings, breaches, replies just in
time, pauses, business hours, and firing exactly once."""

import threading
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection

from hub.actions import conversations, outbound, sla
from hub.lib import access
from hub.models import BusinessHours, Conversation, Event, SlaClock, SlaPolicy
from tests.conftest import build_world
from tests.factories import inbound


@pytest.fixture
def policy(world):
    return SlaPolicy.objects.create(practice=world.practice, name="Default", first_response_seconds=120,
                                    next_response_seconds=300, resolution_seconds=3600, warning_percent=75)


def clock_of(conversation, kind="first_response"):
    return SlaClock.objects.filter(conversation=conversation, kind=kind).order_by("-pk").first()


def sweep():
    """Fire what is due now (what the ETA tasks do at their moment)."""
    return [sla.fire(pk) for pk in sla.due(grace=timedelta(0))]


def test_the_sweep_finds_a_clock_the_moment_it_is_due(world, policy, frozen_clock):
    conversation = inbound(world.practice).conversation
    frozen_clock.advance(seconds=89.9)
    assert sla.due() == []
    frozen_clock.advance(seconds=0.1)
    assert sla.due() == [clock_of(conversation).pk] and sweep() == ["warned"]
    frozen_clock.advance(seconds=29.9)
    assert sla.due() == []
    frozen_clock.advance(seconds=0.1)
    assert sla.due() == [clock_of(conversation).pk] and sweep() == ["breached"]
    assert sla.due() == []


def test_a_new_conversation_starts_its_clocks(world, policy, frozen_clock):
    conversation = inbound(world.practice).conversation
    first = clock_of(conversation)
    assert first.deadline == frozen_clock.now + timedelta(seconds=120)
    assert first.warn_at == frozen_clock.now + timedelta(seconds=90)
    assert clock_of(conversation, "resolution").deadline == frozen_clock.now + timedelta(hours=1)
    conversation.refresh_from_db()
    assert (conversation.sla_kind, conversation.sla_state, conversation.sla_deadline) == (
        "first_response", "running", first.deadline)


def test_warning_then_breach(world, policy, frozen_clock, django_capture_on_commit_callbacks, captured_events):
    conversation = inbound(world.practice).conversation
    frozen_clock.advance(seconds=89)
    assert sweep() == []
    frozen_clock.advance(seconds=1)
    with django_capture_on_commit_callbacks(execute=True):
        assert sweep() == ["warned"]
    conversation.refresh_from_db()
    assert conversation.sla_state == "warning"
    frozen_clock.advance(seconds=30)
    with django_capture_on_commit_callbacks(execute=True):
        assert sweep() == ["breached"]
    conversation.refresh_from_db()
    assert conversation.sla_state == "breached" and conversation.priority == Conversation.Priority.HIGH
    assert Event.objects.filter(conversation=conversation, body="First response SLA (2 min) breached").exists()
    kinds = [m["payload"]["kind"] for m in captured_events if m["event"] == "alert.created"]
    assert kinds == ["sla_warning", "sla_breach"]
    assert sweep() == []  # once


def test_a_reply_just_before_the_deadline_never_breaches(world, policy, frozen_clock):
    conversation = inbound(world.practice).conversation
    frozen_clock.advance(seconds=119.9)
    outbound.send_message(access.viewer_for(world.alice), conversation.pk, "Hi! How can I help?")
    frozen_clock.advance(seconds=1)
    assert "breached" not in sweep()
    assert clock_of(conversation).state == "met"


def test_a_reply_after_the_deadline_is_too_late(world, policy, frozen_clock):
    conversation = inbound(world.practice).conversation
    frozen_clock.advance(seconds=121)
    assert "breached" in sweep()
    outbound.send_message(access.viewer_for(world.alice), conversation.pk, "Sorry for the wait")
    assert clock_of(conversation).state == "breached"


def test_next_response_runs_when_the_patient_writes_again(world, policy, frozen_clock):
    conversation = inbound(world.practice).conversation
    frozen_clock.advance(seconds=30)
    outbound.send_message(access.viewer_for(world.alice), conversation.pk, "What day suits you?")
    assert clock_of(conversation, "resolution").state == "paused"  # waiting on the patient
    frozen_clock.advance(minutes=10)
    inbound(world.practice, body="Tuesday")
    following = clock_of(conversation, "next_response")
    assert following.deadline == frozen_clock.now + timedelta(seconds=300)
    resolution = clock_of(conversation, "resolution")
    # 30 s used before the reply; the 10 minutes waiting on the patient don't count.
    assert resolution.state == "running" and resolution.deadline == frozen_clock.now + timedelta(seconds=3570)


def test_snoozing_pauses_and_waking_resumes(world, policy, frozen_clock):
    conversation = inbound(world.practice).conversation
    frozen_clock.advance(seconds=60)
    conversations.snooze(access.viewer_for(world.alice), conversation.pk, frozen_clock.now + timedelta(hours=2))
    conversation.refresh_from_db()
    assert conversation.sla_state == "paused" and clock_of(conversation).remaining_seconds == 60
    frozen_clock.advance(hours=3)
    assert sweep() == []
    conversations.wake_due()
    assert clock_of(conversation).deadline == frozen_clock.now + timedelta(seconds=60)


def test_resolving_ends_the_clocks(world, policy, frozen_clock):
    conversation = inbound(world.practice).conversation
    conversations.resolve(access.viewer_for(world.alice), conversation.pk)
    states = dict(SlaClock.objects.filter(conversation=conversation).values_list("kind", "state"))
    assert states == {"first_response": "cancelled", "resolution": "met"}
    conversation.refresh_from_db()
    assert conversation.sla_state == "" and conversation.sla_deadline is None


def test_the_most_specific_policy_applies(world, policy):
    SlaPolicy.objects.create(practice=world.practice, name="Nurse line", department=world.nurse,
                             first_response_seconds=60)
    SlaPolicy.objects.create(practice=world.practice, name="Urgent nurse", department=world.nurse, priority=2,
                             first_response_seconds=15)
    assert sla.policy_for(world.practice.pk, world.nurse.pk, 0).name == "Nurse line"
    assert sla.policy_for(world.practice.pk, world.nurse.pk, 2).name == "Urgent nurse"
    assert sla.policy_for(world.practice.pk, world.billing.pk, 2).name == "Default"


def test_business_hours_clocks_stop_overnight(world, frozen_clock):
    SlaPolicy.objects.create(practice=world.practice, name="Office hours", first_response_seconds=3600,
                             business_hours_only=True)
    for weekday in range(5):
        BusinessHours.objects.create(department=world.scheduling, weekday=weekday, opens=time(8), closes=time(18))
    ny = ZoneInfo("America/New_York")
    frozen_clock.set(datetime(2026, 11, 27, 17, 30, tzinfo=ny))  # Friday, half an hour before closing
    conversation = inbound(world.practice).conversation
    assert clock_of(conversation).deadline == datetime(2026, 11, 30, 8, 30, tzinfo=ny)  # Monday


def test_a_breach_can_return_the_conversation_to_the_queue(world, frozen_clock):
    SlaPolicy.objects.create(practice=world.practice, name="Strict", next_response_seconds=60,
                             reassign_on_breach=True)
    conversation = inbound(world.practice).conversation
    conversations.pick_up(access.viewer_for(world.alice), conversation.pk)
    outbound.send_message(access.viewer_for(world.alice), conversation.pk, "Checking")
    inbound(world.practice, body="Any news?")
    frozen_clock.advance(seconds=61)
    assert sweep() == ["breached"]
    conversation.refresh_from_db()
    assert (conversation.status, conversation.assignee) == ("queued", None)


@pytest.mark.django_db(transaction=True)
def test_the_same_breach_run_twice_at_once_fires_once(frozen_clock):
    if connection.vendor == "sqlite":
        pytest.skip("SQLite serializes writers; the race needs PostgreSQL")
    world = build_world()
    SlaPolicy.objects.create(practice=world.practice, name="Default", first_response_seconds=120)
    conversation = inbound(world.practice).conversation
    frozen_clock.advance(seconds=121)
    clock_id = clock_of(conversation).pk
    barrier, results = threading.Barrier(4), []

    def run():
        barrier.wait()
        results.append(sla.fire(clock_id))
        connection.close()

    threads = [threading.Thread(target=run) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results.count("breached") == 1 and results.count(None) == 3
    assert Event.objects.filter(conversation=conversation, body__contains="breached").count() == 1


def test_an_urgent_message_runs_on_the_urgent_policy(world, policy, frozen_clock):
    """Escalation happens before the clocks start, and a priority policy
    outranks the department's everyday one."""
    SlaPolicy.objects.create(practice=world.practice, name="Nurse line", department=world.nurse,
                             first_response_seconds=600)
    SlaPolicy.objects.create(practice=world.practice, name="Urgent", priority=2, first_response_seconds=90)
    conversation = inbound(world.practice, body="I have crushing chest pain").conversation
    conversation.refresh_from_db()
    assert conversation.department == world.nurse and conversation.urgent
    assert clock_of(conversation).target_seconds == 90
    assert conversation.routing_reason == "Urgent symptom: moved to Nurse Line"


def test_a_patient_already_waiting_who_turns_urgent_gets_the_urgent_promise(world, policy, frozen_clock):
    SlaPolicy.objects.create(practice=world.practice, name="Urgent", priority=2, first_response_seconds=90)
    conversation = inbound(world.practice, body="Can I book a checkup?").conversation
    everyday = clock_of(conversation)
    frozen_clock.advance(minutes=3)
    inbound(world.practice, body="Now I have crushing chest pain")
    everyday.refresh_from_db()
    assert everyday.state == "cancelled"
    urgent = clock_of(conversation)
    assert urgent.target_seconds == 90 and urgent.started_at == frozen_clock.now


def test_short_targets_read_well(world, frozen_clock):
    SlaPolicy.objects.create(practice=world.practice, name="Fast", first_response_seconds=40)
    conversation = inbound(world.practice).conversation
    frozen_clock.advance(seconds=41)
    sla.fire(clock_of(conversation).pk)
    assert Event.objects.filter(body="First response SLA (40 s) breached").exists()
