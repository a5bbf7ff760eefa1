"""The knowledge base in a real browser: a supervisor assigns an article,
the agent reads it and marks it read, the supervisor sees it completed;
and an agent inserts a snippet from a suggested article into a reply."""

import pytest
from playwright.sync_api import expect

from hub.knowledge.models import ArticleAssignment
from hub.knowledge.seed import seed_articles
from hub.models import Event
from tests.browser.conftest import queue_row, stored_conversation, text_from_patient
from tests.browser.test_kpi import serious_axe_violations
from tests.conftest import build_world

pytestmark = pytest.mark.django_db(transaction=True)

RED_FLAGS = "/console/kb/red-flag-symptoms/"


def test_a_supervisor_assigns_an_article_and_sees_it_completed(live_hub, open_console):
    world = build_world()
    seed_articles(world.practice)
    sam = open_console(world.sam)
    sam.goto(live_hub.url + RED_FLAGS)
    sam.get_by_label("Alice Adams (agent)").check()
    sam.get_by_role("button", name="Assign", exact=True).click()
    expect(sam.locator(".flash")).to_contain_text("Assigned to 1 person.")
    expect(sam.locator('tr[data-status="assigned"]')).to_contain_text("Alice Adams")
    assert serious_axe_violations(sam) == []

    alice = open_console(world.alice)
    assigned = alice.locator("#kb-assigned")
    expect(assigned).to_contain_text("Red-flag symptoms policy")
    alice.goto(live_hub.url + "/console/kb/")
    expect(alice.locator(".kb-mine")).to_contain_text("Red-flag symptoms policy")
    assert serious_axe_violations(alice) == []
    alice.locator(".kb-mine").get_by_role("link", name="Red-flag symptoms policy").click()
    expect(alice.locator("h1")).to_have_text("Red-flag symptoms policy")
    expect(alice.locator(".kb-assigned")).to_contain_text("Assigned to you by Sam Stone")
    alice.get_by_role("button", name="Mark as read").click()
    expect(alice.locator(".flash")).to_contain_text("Marked as read. Assignment completed.")
    expect(alice.locator(".kb-assigned")).to_have_count(0)

    sam.reload()
    done = sam.locator('tr[data-status="completed"]')
    expect(done).to_contain_text("Alice Adams")
    expect(done).to_contain_text("Completed")
    assert ArticleAssignment.objects.get().completed_version == 1
    assert sam.errors == [] and alice.errors == []


def test_an_agent_inserts_a_snippet_from_a_suggested_article(live_hub, open_console):
    world = build_world()
    seed_articles(world.practice)
    page = open_console(world.alice)
    text_from_patient(live_hub, from_="+15555550131", body="I got a bill I don't understand. Can I get a payment plan?")
    conversation = stored_conversation("+15555550131")
    queue_row(page, conversation.pk).locator('button[data-action="pick-up"]').click()

    suggestion = page.locator('#kb-results [data-article="billing-disputes-script"]')
    expect(suggestion).to_be_visible(timeout=10000)
    expect(suggestion).to_contain_text("New")
    page.fill("#reply-body", "Hi Pat. ")
    suggestion.locator("summary").click()
    suggestion.locator('[data-insert-snippet="Payment plan offer"]').click()
    expect(page.locator("#reply-body")).to_have_value(
        "Hi Pat. We can split your balance into monthly payments over up to 12 months, with no interest. "
        "Would you like me to set that up?")
    expect(page.locator("#notices")).to_contain_text("is in the reply box")

    # Search finds the others; nothing was sent.
    page.fill("#kb-q", "anxious")
    page.locator("#kb-search").get_by_role("button", name="Search").click()
    expect(page.locator('#kb-results [data-article="calming-an-anxious-caller"]')).to_be_visible()
    assert not Event.objects.filter(conversation=conversation, direction="out").exists()
    assert page.errors == []
