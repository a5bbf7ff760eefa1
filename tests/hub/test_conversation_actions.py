"""Pick up, transfer, snooze, resolve, reopen: the verbs agents use, through the REST API."""

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client

from hub.actions import conversations
from hub.lib import access
from hub.models import AgentProfile, AuditEntry, CannedResponse, Conversation, Event, PresenceChange
from tests.conftest import build_world, make_user
from tests.factories import inbound


def as_user(user):
    client = Client()
    client.force_login(user)
    return client


def call(client, verb, conversation_id, **body):
    return client.post(f"/api/v1/conversations/{conversation_id}/{verb}", body, content_type="application/json")


def test_pick_up_assigns_and_records_it(world, django_capture_on_commit_callbacks, captured_events):
    conversation = inbound(world.practice).conversation
    with django_capture_on_commit_callbacks(execute=True):
        response = call(as_user(world.alice), "pick-up", conversation.pk)
    assert response.status_code == 200
    body = response.json()["conversation"]
    assert (body["status"], body["assignee_id"], body["assignee_name"]) == ("assigned", world.alice.pk, "Alice Adams")
    assert Event.objects.filter(conversation=conversation, kind="assignment").get().body == "Picked up by Alice Adams"
    assert AuditEntry.objects.filter(action="conversation.picked_up").exists()
    assert {m["stream"] for m in captured_events} == {f"dept.{world.scheduling.pk}", f"agent.{world.alice.pk}"}


def test_picking_up_twice_is_harmless(world):
    conversation = inbound(world.practice).conversation
    alice = as_user(world.alice)
    call(alice, "pick-up", conversation.pk)
    assert call(alice, "pick-up", conversation.pk).status_code == 200
    assert Event.objects.filter(kind="assignment").count() == 1


def test_the_second_agent_is_told_who_took_it(world):
    conversation = inbound(world.practice).conversation
    other = make_user(world.practice, "carol", AgentProfile.Role.AGENT, [world.scheduling], "Carol")
    call(as_user(world.alice), "pick-up", conversation.pk)
    response = call(as_user(other), "pick-up", conversation.pk)
    assert response.status_code == 409
    assert response.json() == {"detail": "Alice Adams already took this conversation.", "code": "taken"}


def test_capacity_is_enforced(world):
    AgentProfile.objects.filter(user=world.alice).update(capacity=2)
    ids = [inbound(world.practice, phone=f"+1555555{2000 + i}").conversation.pk for i in range(3)]
    alice = as_user(world.alice)
    assert [call(alice, "pick-up", pk).status_code for pk in ids] == [200, 200, 409]
    assert call(alice, "pick-up", ids[2]).json()["code"] == "at_capacity"
    call(alice, "resolve", ids[0], disposition="resolved")
    assert call(alice, "pick-up", ids[2]).status_code == 200


@pytest.mark.django_db(transaction=True)
def test_simultaneous_pick_ups_give_the_conversation_to_exactly_one():
    if connection.vendor == "sqlite":
        pytest.skip("SQLite serializes writers; the race needs PostgreSQL")
    world = build_world()
    agents = [make_user(world.practice, f"racer{i}", AgentProfile.Role.AGENT, [world.scheduling]) for i in range(6)]
    conversation = inbound(world.practice).conversation
    barrier = threading.Barrier(len(agents))
    outcomes = []

    def race(user):
        try:
            viewer = access.viewer_for(user)
            viewer.streams  # noqa: B018
            barrier.wait()
            conversations.pick_up(viewer, conversation.pk)
            outcomes.append(("won", user.pk))
        except Exception as exc:  # recorded and asserted below
            outcomes.append((getattr(exc, "code", type(exc).__name__), user.pk))
        finally:
            connection.close()

    threads = [threading.Thread(target=race, args=(a,)) for a in agents]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    winners = [pk for outcome, pk in outcomes if outcome == "won"]
    assert len(winners) == 1
    assert sorted(o for o, _ in outcomes) == ["taken"] * 5 + ["won"]
    assert Conversation.objects.get().assignee_id == winners[0]
    assert Event.objects.filter(kind="assignment").count() == 1


def test_transfer_to_a_department_moves_it_to_that_queue(world, django_capture_on_commit_callbacks, captured_events):
    conversation = inbound(world.practice).conversation
    alice = as_user(world.alice)
    call(alice, "pick-up", conversation.pk)
    captured_events.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = call(alice, "transfer", conversation.pk, department_id=world.billing.pk,
                        reason="Question about a statement")
    assert response.status_code == 200
    conversation.refresh_from_db()
    assert (conversation.department, conversation.assignee, conversation.status) == (world.billing, None, "queued")
    event = Event.objects.get(kind="transfer")
    assert event.body == "Transferred to Billing by Alice Adams: Question about a statement"
    assert event.data["from_department_id"] == world.scheduling.pk and event.data["to_department_id"] == world.billing.pk
    # Scheduling sees it leave; billing sees it arrive.
    streams = {m["stream"] for m in captured_events if m["event"] == "conversation.updated"}
    assert {f"dept.{world.scheduling.pk}", f"dept.{world.billing.pk}"} <= streams
    # Alice no longer sees it; Bob does.
    assert as_user(world.alice).get(f"/api/v1/conversations/{conversation.pk}").status_code == 404
    assert as_user(world.bob).get(f"/api/v1/conversations/{conversation.pk}").status_code == 200


def test_transfer_to_an_agent_outside_the_department_lets_them_see_it(world):
    conversation = inbound(world.practice).conversation
    response = call(as_user(world.alice), "transfer", conversation.pk, agent_id=world.bob.pk, reason="Bob knows this")
    assert response.status_code == 200
    assert response.json()["conversation"]["assignee_id"] == world.bob.pk
    assert as_user(world.bob).get(f"/api/v1/conversations/{conversation.pk}").status_code == 200


@pytest.mark.parametrize("body,code", [
    ({"department_id": None, "reason": "x"}, "target_required"),
    ({"reason": "   ", "department_id": 0}, "reason_required"),
    ({"department_id": 999999, "reason": "x"}, "unknown_department"),
    ({"agent_id": 999999, "reason": "x"}, "unknown_agent"),
])
def test_bad_transfers_are_refused_with_a_reason(world, body, code):
    conversation = inbound(world.practice).conversation
    response = call(as_user(world.alice), "transfer", conversation.pk, **body)
    assert 400 <= response.status_code < 500
    if response.status_code != 422:
        assert response.json()["code"] == code
    assert not Event.objects.filter(kind="transfer").exists()


def test_transfer_to_another_practices_department_is_refused(world, other_world):
    conversation = inbound(world.practice).conversation
    response = call(as_user(world.alice), "transfer", conversation.pk, department_id=other_world.billing.pk,
                    reason="nope")
    assert response.status_code == 400
    conversation.refresh_from_db()
    assert conversation.department == world.scheduling


def test_snooze_then_the_time_comes(world, frozen_clock):
    conversation = inbound(world.practice).conversation
    until = frozen_clock.now + timedelta(hours=2)
    response = call(as_user(world.alice), "snooze", conversation.pk, until=until.isoformat())
    assert response.status_code == 200
    conversation.refresh_from_db()
    assert (conversation.status, conversation.snoozed_until, conversation.assignee) == ("snoozed", until, world.alice)
    assert conversations.wake_due() == 0
    frozen_clock.advance(hours=2, seconds=1)
    assert conversations.wake_due() == 1
    conversation.refresh_from_db()
    assert conversation.status == "assigned" and conversation.snoozed_until is None
    assert Event.objects.filter(body="Snooze ended").exists()


@pytest.mark.parametrize("offset", [timedelta(minutes=-5), timedelta(days=31)])
def test_snooze_times_must_be_sensible(world, frozen_clock, offset):
    conversation = inbound(world.practice).conversation
    response = call(as_user(world.alice), "snooze", conversation.pk, until=(frozen_clock.now + offset).isoformat())
    assert response.status_code == 400


def test_resolve_with_disposition_and_topic_then_reopen(world, frozen_clock):
    conversation = inbound(world.practice).conversation
    alice = as_user(world.alice)
    topic = world.billing.topics.get()
    response = call(alice, "resolve", conversation.pk, disposition="follow_up", topic_id=topic.pk)
    assert response.status_code == 200
    conversation.refresh_from_db()
    assert (conversation.status, conversation.disposition, conversation.topic) == ("resolved", "follow_up", topic)
    assert conversation.resolved_at == frozen_clock.now and conversation.waiting_since is None
    assert Event.objects.filter(body__startswith="Resolved, follow-up needed by Alice Adams · Topic: Bill question").exists()
    assert call(alice, "resolve", conversation.pk).status_code == 409
    assert call(alice, "reopen", conversation.pk).status_code == 200
    conversation.refresh_from_db()
    assert conversation.status == "assigned" and conversation.resolved_at is None


def test_a_bad_disposition_is_refused(world):
    conversation = inbound(world.practice).conversation
    assert call(as_user(world.alice), "resolve", conversation.pk, disposition="whatever").status_code == 400


def test_only_supervisors_assign_to_others(world):
    conversation = inbound(world.practice).conversation
    assert call(as_user(world.alice), "assign", conversation.pk, agent_id=world.bob.pk).status_code == 409
    response = call(as_user(world.sam), "assign", conversation.pk, agent_id=world.bob.pk)
    assert response.status_code == 200 and response.json()["conversation"]["assignee_id"] == world.bob.pk


def test_verbs_on_another_departments_conversation_are_not_found(world):
    conversation = inbound(world.practice).conversation
    bob = as_user(world.bob)
    for verb, body in [("pick-up", {}), ("transfer", {"reason": "x", "department_id": world.billing.pk}),
                       ("resolve", {}), ("reopen", {})]:
        assert call(bob, verb, conversation.pk, **body).status_code == 404


def test_canned_responses_are_filled_in_for_the_conversation(world):
    conversation = inbound(world.practice, first_name="Pat").conversation
    CannedResponse.objects.create(practice=world.practice, shortcut="hello", title="Greeting",
                                  body="Hi {patient_first_name}, this is {agent_name} at {practice_name}.")
    CannedResponse.objects.create(practice=world.practice, shortcut="payplan", title="Plan", body="Billing only",
                                  department=world.billing)
    response = as_user(world.alice).get(f"/api/v1/conversations/{conversation.pk}/canned-responses?q=hel")
    assert response.json() == [{"id": CannedResponse.objects.get(shortcut="hello").pk, "shortcut": "hello",
                                "title": "Greeting",
                                "body": "Hi Pat, this is Alice Adams at Riverside Family Medicine."}]
    everything = as_user(world.alice).get(f"/api/v1/conversations/{conversation.pk}/canned-responses").json()
    assert [c["shortcut"] for c in everything] == ["hello"]  # not billing's


def test_the_directory_lists_departments_topics_and_staff(world):
    inbound(world.practice, topic_slug="bill")
    data = as_user(world.alice).get("/api/v1/directory").json()
    assert data["practice_name"] == "Riverside Family Medicine"
    assert {d["name"]: d["waiting"] for d in data["departments"]} == {"Scheduling": 0, "Billing": 1, "Nurse Line": 0}
    assert {s["name"] for s in data["staff"]} == {"Alice Adams", "Bob Brown", "Sam Stone"}


def test_presence_changes_are_kept_and_idle_never_overrides_busy(world):
    alice = as_user(world.alice)
    assert alice.put("/api/v1/me/presence", {"presence": "busy"}, content_type="application/json").json() == {
        "presence": "busy"}
    response = alice.put("/api/v1/me/presence", {"presence": "away", "reason": "idle"}, content_type="application/json")
    assert response.json() == {"presence": "busy"}
    alice.put("/api/v1/me/presence", {"presence": "available"}, content_type="application/json")
    alice.put("/api/v1/me/presence", {"presence": "away", "reason": "idle"}, content_type="application/json")
    alice.put("/api/v1/me/presence", {"presence": "available", "reason": "back"}, content_type="application/json")
    assert list(PresenceChange.objects.values_list("presence", "reason")) == [
        ("busy", "manual"), ("available", "manual"), ("away", "idle"), ("available", "back")]
    assert alice.put("/api/v1/me/presence", {"presence": "sleepy"}, content_type="application/json").status_code == 400


def test_patient_conversations_and_consent_in_the_context_panel(world, frozen_clock):
    first = inbound(world.practice, channel="sms")
    Conversation.objects.filter(pk=first.conversation.pk).update(status="resolved", resolved_at=frozen_clock.now)
    frozen_clock.advance(days=3)
    inbound(world.practice, channel="sms", body="again")
    alice = as_user(world.alice)
    listed = alice.get(f"/api/v1/patients/{first.event.patient_id}/conversations").json()
    assert [c["status"] for c in listed] == ["queued", "resolved"]
    patient = alice.get(f"/api/v1/patients/{first.event.patient_id}").json()
    assert patient["contact_points"] == [{"kind": "phone", "address": "+15555550101", "sms_opted_out": False}]
