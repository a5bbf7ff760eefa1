"""Quality review in a real browser under the hub's CSP: a supervisor
scores a resolved conversation, the agent reads the coaching comment and
acknowledges it, and the trends chart draws."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.test_kpi import serious_axe_violations
from tests.conftest import build_world
from tests.qa.conftest import handled

pytestmark = pytest.mark.django_db(transaction=True)

COMMENT = "Warm opening. Next time confirm the appointment date back to the patient."


def _csp_violations(page) -> list[str]:
    found: list[str] = []
    page.on("console", lambda msg: found.append(msg.text) if "Content Security Policy" in msg.text else None)
    return found


def test_a_supervisor_scores_a_conversation_and_the_agent_reads_the_coaching(live_hub, open_console):
    world = build_world()
    conversation = handled(world, world.alice)

    page = open_console(world.sam)
    violations = _csp_violations(page)
    page.click("a.topbar-button:has-text('QA')")
    page.click(".qa-nav a:has-text('Conversations to review')")
    row = page.locator(f'#conversations tr[data-conversation-id="{conversation.pk}"]')
    expect(row).to_contain_text("Alice Adams")
    row.locator("a:has-text('Review')").click()
    expect(page.locator("h1")).to_have_text(f"Review conversation #{conversation.pk}")
    expect(page.locator(".qa-timeline")).to_contain_text("Can I book a visit?")

    for key, value in (("greeting", 4), ("empathy", 3), ("accuracy", 4), ("compliance", 2)):
        page.fill(f"#id_score_{key}", str(value))
    expect(page.locator("#review-total")).to_contain_text("score every criterion")
    page.fill("#id_score_resolution", "3")
    expect(page.locator("#review-total")).to_have_text("16 of 20 points (80%)")
    page.fill("#id_comments", COMMENT)
    assert serious_axe_violations(page) == []
    page.click("button:has-text('Save review')")
    expect(page.locator(".flash")).to_contain_text("Review saved")
    expect(page.locator(".ack")).to_contain_text("has not acknowledged it yet")

    agent = open_console(world.alice)
    agent_violations = _csp_violations(agent)
    agent.click("a.topbar-button:has-text('My reviews')")
    card = agent.locator(".review-card").first
    expect(card).to_contain_text(COMMENT)
    expect(card).to_contain_text("80.0%")
    card.locator("button:has-text('Acknowledge')").click()
    expect(agent.locator(".flash")).to_contain_text("Review acknowledged")
    expect(agent.locator(".review-card .ack-done")).to_contain_text("Acknowledged on")

    page.click(".qa-nav a:has-text('Trends')")
    expect(page.locator("body")).to_have_attribute("data-charts", "ready")
    expect(page.locator("#trend-agents")).to_contain_text("Alice Adams")
    assert serious_axe_violations(page) == []
    for section, heading in (("Training signals", "Training signals"), ("Rubric", "Review rubric")):
        page.click(f".qa-nav a:has-text('{section}')")
        expect(page.locator("h1")).to_have_text(heading)
        assert serious_axe_violations(page) == []
    assert violations == [] and agent_violations == []
    assert page.errors == [] and agent.errors == []
