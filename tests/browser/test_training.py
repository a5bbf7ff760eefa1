"""Role-play practice in a real browser: an agent opens Practice from the
console, plays the red-flag scenario to its end (the patient's messages
arrive after their typing delays) and sees the scorecard; a supervisor
scores the run with the rubric and the agent sees the review. Nothing
reaches the hub's conversations."""

import pytest
from playwright.sync_api import expect

from hub.models import Conversation, Event
from hub.training.models import PracticeRun
from tests.browser.test_kpi import serious_axe_violations
from tests.conftest import build_world

pytestmark = pytest.mark.django_db(transaction=True)


def test_an_agent_plays_a_scenario_to_its_scorecard(live_hub, open_console):
    world = build_world()
    page = open_console(world.alice)
    violations = []
    page.on("console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None)
    page.get_by_role("link", name="Practice").click()
    card = page.locator('[data-scenario="chest-pain-red-flag"]')
    expect(card).to_contain_text("Not played yet")
    card.get_by_role("button", name="Start").click()

    transcript = page.locator("#transcript")
    expect(page.locator("#play-title")).to_have_text("Chest pain: a red-flag caller")
    expect(transcript).to_contain_text("goes down my left arm", timeout=10000)
    expect(page.locator("#play-timer")).to_contain_text("target 15 s")
    page.fill("#reply-text", "I'm sorry, this could be serious: please hang up and call 911 right now.")
    page.click("#reply-send")
    expect(transcript.locator("li.entry-agent")).to_contain_text("call 911 right now")
    expect(transcript).to_contain_text("Should I really call 911 for this?", timeout=10000)

    page.click("#open-escalate")
    page.get_by_label("Advise 911 (emergency)").check()
    page.locator("#escalate-dialog").get_by_role("button", name="Escalate").click()

    expect(page.locator("#result-view")).to_be_visible(timeout=10000)
    expect(page.locator(".overall-score")).to_have_text("100")
    checks = page.locator(".checks")
    for title in ("Response times", "Routing and escalation", "Identity verified before details", "Resolution"):
        expect(checks).to_contain_text(title)
    expect(checks.locator('.check[data-ok="false"]')).to_have_count(0)
    expect(page.locator("#review")).to_contain_text("Not reviewed by a supervisor yet.")
    expect(page.locator("#result-transcript")).to_contain_text("emergency advice")
    expect(page.locator("#result-transcript")).to_contain_text("calling 911 now")
    assert serious_axe_violations(page) == []

    page.click("#result-back")
    expect(card).to_contain_text("Best 100 · last 100 · 1 run")
    assert Conversation.objects.count() == 0 and Event.objects.count() == 0

    run = PracticeRun.objects.get()
    sam = open_console(world.sam)
    sam.goto(live_hub.url + "/console/training/")
    sam.locator(f'#team-runs tr[data-run="{run.pk}"]').get_by_role("button").click()
    for key, points in (("greeting", "3"), ("empathy", "4"), ("accuracy", "4"), ("compliance", "4"),
                        ("resolution", "4")):
        sam.select_option(f"#review-{key}", points)
    sam.fill("#review-comment", "Fast and clear.")
    sam.get_by_role("button", name="Save review").click()
    expect(sam.locator("#review")).to_contain_text("19 / 20 points (95%)")

    page.locator(f'#my-runs tr[data-run="{run.pk}"]').get_by_role("button").click()
    expect(page.locator("#review")).to_contain_text("Fast and clear.")
    assert page.errors == [] and sam.errors == [] and violations == []
