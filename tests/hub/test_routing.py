"""Routing a new conversation: the phone menu, the chat form, keyword rules, the default."""

import pytest

from hub.actions.ingest import InboundEvent, ingest
from hub.models import Event, RoutingRule, Topic
from tests.factories import inbound


@pytest.fixture
def rules(world):
    intake = world.practice.default_department  # scheduling, as a stand-in
    RoutingRule.objects.create(practice=world.practice, name="Billing words", pattern="bill|invoice|statement",
                               department=world.billing, topic=Topic.objects.get(slug="bill"), position=1)
    RoutingRule.objects.create(practice=world.practice, name="New patients", pattern="new patient|first visit",
                               department=intake, position=2)
    RoutingRule.objects.create(practice=world.practice, name="SMS refills", pattern="refill", channels="sms",
                               department=world.nurse, position=3)


def notice(conversation):
    return Event.objects.filter(conversation=conversation, kind="status").order_by("seq").first().body


def test_a_keyword_rule_routes_a_text_and_says_why(world, rules):
    conversation = inbound(world.practice, channel="sms", body="I got a STATEMENT for $85, why?").conversation
    assert conversation.department == world.billing and conversation.topic.slug == "bill"
    assert conversation.routing_reason == "Matched rule 'bill|invoice|statement'"
    assert notice(conversation) == "Routed to Billing: Matched rule 'bill|invoice|statement'"


def test_rules_are_tried_in_order(world, rules):
    conversation = inbound(world.practice, body="first visit, and a question about my bill").conversation
    assert conversation.department == world.billing


def test_a_rule_limited_to_a_channel_ignores_others(world, rules):
    assert inbound(world.practice, channel="sms", body="refill please", phone="+15555550301").conversation.department \
        == world.nurse
    assert inbound(world.practice, channel="api", body="refill please", phone="+15555550302").conversation.department \
        == world.scheduling


def test_a_word_inside_another_word_does_not_match(world, rules):
    conversation = inbound(world.practice, body="Billy has a cough").conversation
    assert conversation.department == world.scheduling
    assert conversation.routing_reason == "No rule matched: the practice's default department"


def test_the_phone_menu_choice_routes_a_call(world, rules):
    result = ingest(InboundEvent(practice_id=world.practice.pk, channel="voice", provider_id="CA" + "1" * 32,
                                 contact_kind="phone", contact_address="+15555550303", kind="call",
                                 department_slug="nurse", body="Incoming call"))
    assert result.conversation.department == world.nurse
    assert result.conversation.routing_reason == "Phone menu choice: Nurse Line"


def test_the_chat_forms_reason_routes_a_web_chat(world, rules):
    result = ingest(InboundEvent(practice_id=world.practice.pk, channel="web", provider_id="v1:m1",
                                 contact_kind="web", contact_address="visitor-1", body="hello", topic_slug="bill"))
    assert result.conversation.department == world.billing
    assert result.conversation.routing_reason == "Chosen in the chat form: Bill question"


def test_the_channels_choice_wins_over_keywords(world, rules):
    result = ingest(InboundEvent(practice_id=world.practice.pk, channel="web", provider_id="v2:m1",
                                 contact_kind="web", contact_address="visitor-2", body="my bill", topic_slug="",
                                 department_slug="nurse"))
    assert result.conversation.department == world.nurse


def test_only_the_first_message_routes(world, rules):
    first = inbound(world.practice, body="hello")
    second = inbound(world.practice, body="it's about my invoice")
    assert second.conversation.pk == first.conversation.pk
    assert second.conversation.department == world.scheduling


def test_the_routing_reason_is_in_the_api(world, rules, client):
    conversation = inbound(world.practice, body="invoice question").conversation
    client.force_login(world.bob)
    body = client.get(f"/api/v1/conversations/{conversation.pk}").json()
    assert body["conversation"]["routing_reason"] == "Matched rule 'bill|invoice|statement'"
