"""Replies: recorded pending, delivered by the task, status only forward."""

from datetime import timedelta

import pytest

from channels_app.api.adapter import signature
from channels_app.models import ApiInbox
from hub.actions import outbound
from hub.actions.errors import InvalidInput, NotFound
from hub.lib import access
from hub.models import Conversation, Event
from hub.tasks import deliver_event, sweep_outbound
from tests.factories import inbound
from tests.httpstub import start_stub


@pytest.fixture
def webhook(world):
    stub = start_stub()
    ApiInbox.objects.create(practice=world.practice, webhook_url=stub.url + "/hook", secret="s3cret")
    yield stub
    stub.stop()


@pytest.fixture
def alice(world):
    return access.viewer_for(world.alice)


def reply(viewer, conversation, body="We can see you Tuesday at 9."):
    return outbound.send_message(viewer, conversation.pk, body, via="api")


def test_a_reply_is_delivered_through_the_channel_and_reaches_delivered(
        world, alice, webhook, django_capture_on_commit_callbacks, captured_events):
    conversation = inbound(world.practice).conversation
    with django_capture_on_commit_callbacks(execute=True):
        event = reply(alice, conversation)
    event.refresh_from_db()
    assert event.delivery_status == "delivered"
    assert event.delivery_attempts == 1
    [request] = webhook.requests
    assert request.headers["X-Hub-Signature"] == signature("s3cret", request.body)
    assert request.headers["X-Hub-Message-Id"] == str(event.pk)
    assert request.json()["message"]["body"] == "We can see you Tuesday at 9."
    assert request.json()["contact"] == "+15555550101"
    statuses = [m["payload"]["delivery_status"] for m in captured_events
                if m["payload"].get("id") == event.pk and m["stream"].startswith("dept.")]
    assert statuses == ["pending", "delivered"]


def test_a_reply_takes_a_waiting_conversation_and_stops_its_wait_clock(world, alice, webhook, frozen_clock):
    conversation = inbound(world.practice).conversation
    frozen_clock.advance(seconds=42)
    reply(alice, conversation)
    conversation.refresh_from_db()
    assert conversation.status == "assigned" and conversation.assignee_id == world.alice.pk
    assert conversation.waiting_since is None
    assert conversation.first_response_at == frozen_clock.now


def test_a_permanent_refusal_fails_the_message_with_a_reason_and_no_retry(world, alice, webhook,
                                                                           django_capture_on_commit_callbacks):
    webhook.answer(410, "gone")
    conversation = inbound(world.practice).conversation
    with django_capture_on_commit_callbacks(execute=True):
        event = reply(alice, conversation)
    event.refresh_from_db()
    assert event.delivery_status == "failed"
    assert "refused" in event.delivery_error and event.delivery_error_code == "410"
    deliver_event.apply(args=[event.pk])
    assert len(webhook.requests) == 1


def test_a_transient_failure_stays_pending_and_the_retry_delivers(world, alice, webhook,
                                                                    django_capture_on_commit_callbacks):
    webhook.answer(503)
    conversation = inbound(world.practice).conversation
    with django_capture_on_commit_callbacks(execute=True):
        event = reply(alice, conversation)
    event.refresh_from_db()
    assert event.delivery_status == "pending" and event.delivery_attempted_at is None
    deliver_event.apply(args=[event.pk])
    event.refresh_from_db()
    assert event.delivery_status == "delivered"
    assert len(webhook.requests) == 2


def test_an_attempt_in_flight_is_never_repeated_by_a_second_worker(world, alice, webhook, frozen_clock):
    conversation = inbound(world.practice).conversation
    event = reply(alice, conversation)
    Event.objects.filter(pk=event.pk).update(delivery_attempted_at=frozen_clock.now, delivery_attempts=1)
    with pytest.raises(outbound.RetryLater):
        outbound.deliver(event.pk)
    assert webhook.requests == []


def test_after_a_crash_the_next_attempt_reconciles_before_sending(world, alice, webhook, frozen_clock, monkeypatch):
    conversation = inbound(world.practice).conversation
    event = reply(alice, conversation)
    Event.objects.filter(pk=event.pk).update(delivery_attempted_at=frozen_clock.now, delivery_attempts=1)
    frozen_clock.advance(minutes=2)
    from channels_app.api.adapter import ApiAdapter

    asked = []
    monkeypatch.setattr(ApiAdapter, "reconcile", lambda self, e: asked.append(e.pk) or
                        outbound.SendResult(provider_id="found-it", status="delivered"))
    outbound.deliver(event.pk)
    event.refresh_from_db()
    assert asked == [event.pk]
    assert event.delivery_status == "delivered" and event.provider_id == "found-it"
    assert webhook.requests == []


def test_gives_up_after_the_attempt_limit(world, alice, webhook, settings):
    settings.OUTBOUND_MAX_ATTEMPTS = 2
    conversation = inbound(world.practice).conversation
    event = reply(alice, conversation)
    Event.objects.filter(pk=event.pk).update(delivery_attempts=2)
    outbound.deliver(event.pk)
    event.refresh_from_db()
    assert event.delivery_status == "failed" and event.delivery_error_code == "gave_up"


def test_the_sweep_hands_over_messages_whose_task_was_lost(world, alice, webhook, frozen_clock):
    conversation = inbound(world.practice).conversation
    event = reply(alice, conversation)  # no on_commit here: the task never ran
    assert sweep_outbound.apply().result == 0  # too fresh to be called lost
    frozen_clock.advance(seconds=31)
    assert sweep_outbound.apply().result == 1
    event.refresh_from_db()
    assert event.delivery_status == "delivered"


@pytest.mark.parametrize("sequence,final", [
    (["queued", "sent", "delivered"], "delivered"),
    (["delivered", "sent"], "delivered"),
    (["sent", "delivered", "queued", "sending"], "delivered"),
    (["failed", "delivered"], "failed"),
    (["delivered", "undelivered"], "delivered"),
    (["delivered", "read", "delivered"], "read"),
    (["sent", "undelivered", "sent"], "undelivered"),
    (["sent", "bogus"], "sent"),
])
def test_delivery_status_only_moves_forward(world, alice, sequence, final):
    conversation = inbound(world.practice).conversation
    event = reply(alice, conversation)
    Event.objects.filter(pk=event.pk).update(provider_id="PROV1", delivery_status="queued")
    for status in sequence:
        outbound.update_delivery_status(practice_id=world.practice.pk, channel="api", provider_id="PROV1", status=status)
    event.refresh_from_db()
    assert event.delivery_status == final


def test_a_note_is_never_delivered(world, alice, webhook, django_capture_on_commit_callbacks):
    conversation = inbound(world.practice).conversation
    with django_capture_on_commit_callbacks(execute=True):
        note = outbound.add_note(alice, conversation.pk, "Patient prefers mornings")
    assert note.direction == "internal" and note.delivery_status == ""
    assert webhook.requests == []
    assert sweep_outbound.apply().result == 0


def test_empty_and_oversized_replies_are_refused(world, alice):
    conversation = inbound(world.practice).conversation
    with pytest.raises(InvalidInput):
        reply(alice, conversation, "   ")
    with pytest.raises(InvalidInput):
        reply(alice, conversation, "x" * 20_001)
    assert not Event.objects.filter(direction="out").exists()


def test_an_unknown_channel_is_refused(world, alice):
    conversation = inbound(world.practice).conversation
    with pytest.raises(InvalidInput):
        outbound.send_message(alice, conversation.pk, "hi", channel="carrier-pigeon")
    with pytest.raises(InvalidInput):
        outbound.send_message(alice, conversation.pk, "hi", channel="../etc")


def test_replying_to_a_conversation_in_another_department_is_not_found(world):
    conversation = inbound(world.practice).conversation
    with pytest.raises(NotFound):
        reply(access.viewer_for(world.bob), conversation)


def test_a_reply_reopens_a_resolved_conversation(world, alice, webhook, frozen_clock):
    conversation = inbound(world.practice).conversation
    Conversation.objects.filter(pk=conversation.pk).update(status="resolved", resolved_at=frozen_clock.now - timedelta(days=1))
    reply(alice, conversation, "Following up on your question")
    conversation.refresh_from_db()
    assert conversation.status == "assigned" and conversation.resolved_at is None
