"""Urgent symptoms: top of the clinical queue, supervisors alerted, a safety reply at once."""

import pytest

from hub.models import Conversation, Event
from tests.factories import inbound


def safety_replies():
    return list(Event.objects.filter(direction="out", data__automatic="safety").values_list("body", flat=True))


@pytest.fixture(autouse=True)
def _sandbox(settings):
    settings.SMS_BACKEND = "sandbox"


def test_a_red_flag_moves_it_to_the_nurse_line_as_urgent_and_replies(world, django_capture_on_commit_callbacks,
                                                                      captured_events):
    with django_capture_on_commit_callbacks(execute=True):
        conversation = inbound(world.practice, channel="sms", body="I have crushing chest pain right now").conversation
    conversation.refresh_from_db()
    assert (conversation.urgent, conversation.priority, conversation.department) == (True, 2, world.nurse)
    notice = Event.objects.get(conversation=conversation, kind="system")
    assert notice.body == 'Urgent: "chest pain" (cardiac); moved to Nurse Line'
    [reply] = safety_replies()
    assert "call 911" in reply
    alerts = [m for m in captured_events if m["event"] == "alert.created"]
    assert alerts and alerts[0]["payload"]["kind"] == "urgent" and alerts[0]["stream"] == f"practice.{world.practice.pk}"


def test_suicidal_thoughts_get_the_988_crisis_line(world, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        inbound(world.practice, channel="sms", body="honestly I just want to end my life")
    [reply] = safety_replies()
    assert "988" in reply


def test_a_negated_symptom_is_surfaced_without_a_safety_reply(world, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        conversation = inbound(world.practice, channel="sms", body="No chest pain, just a rash").conversation
    conversation.refresh_from_db()
    assert conversation.urgent and conversation.department == world.nurse
    assert "negated" in Event.objects.get(conversation=conversation, kind="system").body
    assert safety_replies() == []


def test_one_safety_reply_per_hour(world, frozen_clock, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        inbound(world.practice, channel="sms", body="chest pain")
        frozen_clock.advance(minutes=20)
        inbound(world.practice, channel="sms", body="the chest pain is worse")
    assert len(safety_replies()) == 1
    frozen_clock.advance(minutes=45)
    with django_capture_on_commit_callbacks(execute=True):
        inbound(world.practice, channel="sms", body="still chest pain")
    assert len(safety_replies()) == 2


def test_a_red_flag_on_a_conversation_already_being_worked_moves_it(world, django_capture_on_commit_callbacks):
    from hub.actions import conversations
    from hub.lib import access

    conversation = inbound(world.practice, channel="sms", body="question about my bill", topic_slug="bill").conversation
    conversations.pick_up(access.viewer_for(world.bob), conversation.pk)
    with django_capture_on_commit_callbacks(execute=True):
        inbound(world.practice, channel="sms", body="also I can't breathe well")
    conversation.refresh_from_db()
    assert (conversation.department, conversation.assignee, conversation.status) == (world.nurse, None, "queued")


def test_urgent_conversations_lead_the_queue(world):
    calm = inbound(world.practice, phone="+15555550401", body="refill please").conversation
    urgent = inbound(world.practice, phone="+15555550402", body="my dad has slurred speech").conversation
    order = list(Conversation.objects.order_by("-priority", "waiting_since").values_list("pk", flat=True))
    assert order == [urgent.pk, calm.pk]
