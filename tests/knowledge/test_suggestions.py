"""Articles suggested for a conversation: its topic's articles first, then
those matching the patient's recent messages, which are never logged."""

import logging

import pytest

from hub.knowledge.search import suggest_for_conversation
from hub.lib import access
from tests.factories import inbound
from tests.knowledge.conftest import viewer, write

pytestmark = pytest.mark.django_db


@pytest.fixture
def articles(world):
    bill = world.billing.topics.get()
    return {
        "disputes": write(world.sam, "Billing disputes", "Listen, then explain the charges.", topics=[bill]),
        "plans": write(world.sam, "Payment plans", "Split a balance over twelve months."),
        "insurance": write(world.sam, "Accepted insurance", "Aetna, Cigna and Medicare."),
        "hours": write(world.sam, "Opening hours", "Monday to Friday."),
    }


def test_topic_articles_then_the_patient_s_words(world, articles, caplog):
    caplog.set_level(logging.DEBUG)
    inbound(world.practice, body="Is Medicare ok for this?", topic_slug="bill")
    conversation = inbound(world.practice, body="Can I split the balance? My DOB is 03/12/1984").conversation
    hits = suggest_for_conversation(viewer(world.bob), conversation)
    assert [h.title for h in hits] == ["Billing disputes", "Payment plans", "Accepted insurance"]
    assert hits[1].url == f"/console/kb/{articles['plans'].slug}/"
    assert "Medicare" not in caplog.text and "balance" not in caplog.text


def test_without_topic_or_words_nothing_is_suggested(world, articles):
    conversation = inbound(world.practice, body="Hi! Thanks 555-0101").conversation
    assert suggest_for_conversation(viewer(world.sam), conversation) == []


def test_only_for_a_conversation_the_viewer_may_see(world, other_world, articles, signed_in):
    conversation = inbound(world.practice, body="About my bill", topic_slug="bill").conversation  # Billing
    with pytest.raises(access.NotVisible):
        suggest_for_conversation(viewer(world.alice), conversation)  # alice works Scheduling
    path = f"/api/v1/conversations/{conversation.pk}/kb-suggestions"
    assert signed_in(world.alice).get(path).status_code == 404
    assert signed_in(other_world.sam).get(path).status_code == 404
    [hit] = signed_in(world.bob).get(path).json()
    assert hit["title"] == "Billing disputes" and hit["mark"] == "new" and hit["snippets"] == []
