"""Urgency, SLA clocks, alerts and offers in the console, in a real browser."""

import time

import pytest
from playwright.sync_api import expect

from hub.models import AgentProfile, Department, SlaPolicy
from tests.browser.conftest import SCREENSHOTS, queue_row, stored_conversation, text_from_patient
from tests.conftest import build_world

pytestmark = pytest.mark.django_db(transaction=True)


def test_an_urgent_text_alerts_the_supervisor_and_jumps_to_the_nurse_line(live_hub, open_console):
    world = build_world()
    page = open_console(world.sam)
    text_from_patient(live_hub, from_="+15555550161", body="My chest pain is getting worse")
    conversation = stored_conversation("+15555550161")
    alert = page.locator('#alerts [data-alert-kind="urgent"]').first
    expect(alert).to_be_visible(timeout=5000)
    expect(alert).to_contain_text("chest pain")
    urgent_row = queue_row(page, conversation.pk)
    expect(urgent_row.locator("[data-urgent]")).to_be_visible(timeout=5000)
    expect(urgent_row).to_contain_text("Nurse Line")
    assert page.errors == []


def test_the_sla_badge_counts_down_and_the_breach_is_an_alert(live_hub, live_beat, open_console):
    world = build_world()
    SlaPolicy.objects.create(practice=world.practice, name="Fast", first_response_seconds=5)
    page = open_console(world.sam)
    text_from_patient(live_hub, from_="+15555550162", body="Is the clinic open on Saturday?")
    conversation = stored_conversation("+15555550162")
    badge = queue_row(page, conversation.pk).locator("[data-sla]")
    expect(badge).to_be_visible(timeout=5000)
    # Beat's sweep breaches it at the deadline; the tray says so.
    expect(page.locator('#alerts [data-alert-kind="sla_breach"]').first).to_be_visible(timeout=15000)
    expect(badge).to_have_attribute("data-sla-state", "breached")
    assert page.errors == []


def test_an_offered_conversation_is_accepted_from_the_banner(live_hub, open_console):
    world = build_world()
    Department.objects.filter(pk=world.scheduling.pk).update(assignment="round_robin", offer_timeout_seconds=60)
    page = open_console(world.alice)
    # Available: offers come to people who are.
    page.locator("#presence").select_option("available")
    expect(page.locator("#presence")).to_have_value("available")
    deadline = time.monotonic() + 5
    while AgentProfile.objects.get(user=world.alice).presence != "available" and time.monotonic() < deadline:
        time.sleep(0.05)
    text_from_patient(live_hub, from_="+15555550163", body="Can I move my appointment?")
    conversation = stored_conversation("+15555550163")
    offer = page.locator("[data-offer-id]").first
    expect(offer).to_be_visible(timeout=8000)
    page.screenshot(path=str(SCREENSHOTS / "console-offer.png"))
    offer.locator('button[data-action="accept-offer"]').click()
    expect(page.locator("#timeline")).to_contain_text("Can I move my appointment?", timeout=5000)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        conversation.refresh_from_db()
        if conversation.assignee_id == world.alice.pk:
            break
        time.sleep(0.05)
    assert conversation.assignee_id == world.alice.pk and conversation.status == "assigned"
    expect(page.locator("[data-offer-id]")).to_have_count(0)
    assert page.errors == []
