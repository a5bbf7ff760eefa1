"""The agent console in a real browser, as agents use it."""

import re
import time

import pytest
from playwright.sync_api import expect

from channels_app.models import SandboxMessage
from hub.models import Event
from tests.browser.conftest import SCREENSHOTS, queue_row, stored_conversation, text_from_patient
from tests.conftest import build_world

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_new_text_appears_is_picked_up_answered_and_delivered(live_hub, open_console):
    world = build_world()
    page = open_console(world.alice)
    started = time.monotonic()
    text_from_patient(live_hub, from_="+15555550111", body="Hi! Can I book a flu shot for Friday?")
    conversation = stored_conversation("+15555550111")
    expect(queue_row(page, conversation.pk)).to_be_visible(timeout=5000)
    assert time.monotonic() - started < 3
    expect(queue_row(page, conversation.pk)).to_contain_text("Scheduling")

    queue_row(page, conversation.pk).locator('button[data-action="pick-up"]').click()
    expect(page.locator("#thread-actions")).to_contain_text("Transfer")
    expect(page.locator("#timeline")).to_contain_text("Can I book a flu shot for Friday?")
    page.fill("#reply-body", "Yes! Friday 10:30 works. Shall I book it?")
    page.click("#reply-send")
    reply = page.locator("#timeline li.ev-out").last
    expect(reply).to_contain_text("Friday 10:30")
    expect(reply.locator('.delivery[data-status="delivered"]')).to_be_visible(timeout=10000)
    sent = SandboxMessage.objects.get()
    assert (sent.to, sent.body) == ("+15555550111", "Yes! Friday 10:30 works. Shall I book it?")
    page.screenshot(path=str(SCREENSHOTS / "console.png"))
    assert page.errors == []


def test_two_agents_race_for_one_conversation_and_exactly_one_wins(live_hub, open_console):
    from hub.models import AgentProfile
    from tests.conftest import make_user

    world = build_world()
    carol = make_user(world.practice, "carol", AgentProfile.Role.AGENT, [world.scheduling], "Carol", "Cruz")
    alice_page, carol_page = open_console(world.alice), open_console(carol)
    text_from_patient(live_hub, from_="+15555550122", body="Is the clinic open on Saturday?")
    conversation = stored_conversation("+15555550122")
    for page in (alice_page, carol_page):
        expect(queue_row(page, conversation.pk)).to_be_visible(timeout=5000)
    buttons = [p.locator(f'#queue li[data-conversation-id="{conversation.pk}"] button[data-action="pick-up"]')
               for p in (alice_page, carol_page)]
    # Both click at once (no waiting for either's answer).
    for button in buttons:
        button.dispatch_event("click")
    conversation.refresh_from_db()
    deadline = time.monotonic() + 5
    while conversation.assignee_id is None and time.monotonic() < deadline:
        time.sleep(0.05)
        conversation.refresh_from_db()
    assert conversation.assignee_id in (world.alice.pk, carol.pk)
    assert Event.objects.filter(conversation=conversation, kind="assignment").count() == 1
    loser = carol_page if conversation.assignee_id == world.alice.pk else alice_page
    winner_name = "Alice" if conversation.assignee_id == world.alice.pk else "Carol"
    expect(loser.locator("#notices")).to_contain_text(re.compile(f"{winner_name}.*(took|has)"), timeout=5000)
    # It has left the loser's waiting list.
    expect(loser.locator(f'#queue li[data-conversation-id="{conversation.pk}"] button[data-action="pick-up"]')
           ).to_have_count(0, timeout=5000)


def test_transfer_moves_it_to_the_other_departments_queue(live_hub, open_console):
    world = build_world()
    alice, bob = open_console(world.alice), open_console(world.bob)
    text_from_patient(live_hub, from_="+15555550133", body="I was charged twice for my visit")
    conversation = stored_conversation("+15555550133")
    queue_row(alice, conversation.pk).click()
    alice.click('#thread-actions button[data-action="transfer"]')
    dialog = alice.locator("#transfer-dialog")
    expect(dialog).to_be_visible()
    alice.select_option("#transfer-department", str(world.billing.pk))
    alice.fill("#transfer-reason", "Billing question: double charge")
    alice.click("#transfer-submit")
    expect(queue_row(bob, conversation.pk)).to_be_visible(timeout=5000)
    expect(queue_row(alice, conversation.pk)).to_have_count(0, timeout=5000)
    conversation.refresh_from_db()
    assert conversation.department == world.billing
    transfer = Event.objects.get(conversation=conversation, kind="transfer")
    assert "double charge" in transfer.body
    queue_row(bob, conversation.pk).click()
    expect(bob.locator("#timeline")).to_contain_text("Billing question: double charge")


def test_an_internal_note_is_never_sent_to_the_patient(live_hub, open_console):
    world = build_world()
    page = open_console(world.alice)
    text_from_patient(live_hub, from_="+15555550144", body="My mother is the patient, can I book for her?")
    conversation = stored_conversation("+15555550144")
    queue_row(page, conversation.pk).click()
    page.check("#reply-note")
    page.fill("#reply-body", "Caller is the daughter; check HIPAA authorization on file")
    page.click("#reply-send")
    note = page.locator("#timeline li.ev-note")
    expect(note).to_contain_text("HIPAA authorization")
    time.sleep(1.5)  # long enough for any delivery to have happened
    assert SandboxMessage.objects.count() == 0
    stored = Event.objects.get(conversation=conversation, kind="note")
    assert stored.direction == "internal" and stored.delivery_status == ""


def test_the_page_recovers_after_the_server_restarts(live_hub, open_console):
    world = build_world()
    page = open_console(world.alice)
    live_hub.stop_web()
    expect(page.locator("#stream-down")).to_be_visible(timeout=10000)
    live_hub.start_web()
    expect(page.locator('#stream-state[data-state="live"]')).to_be_visible(timeout=20000)
    expect(page.locator("#stream-down")).to_be_hidden()
    text_from_patient(live_hub, from_="+15555550155", body="Are you there?")
    conversation = stored_conversation("+15555550155")
    expect(queue_row(page, conversation.pk)).to_be_visible(timeout=5000)


def test_keyboard_help_lists_the_shortcuts(live_hub, open_console):
    world = build_world()
    page = open_console(world.alice)
    page.locator("body").press("?")
    help_dialog = page.locator("#help-dialog")
    expect(help_dialog).to_be_visible()
    for shortcut in ("Pick up", "Transfer", "Resolve"):
        expect(help_dialog).to_contain_text(shortcut)
    page.keyboard.press("Escape")
    expect(help_dialog).to_be_hidden()


def test_patient_text_is_shown_as_text_never_as_html(live_hub, open_console):
    world = build_world()
    page = open_console(world.alice)
    text_from_patient(live_hub, from_="+15555550166", body='<img src=x onerror="window.pwned=1"><b>bold</b>')
    conversation = stored_conversation("+15555550166")
    queue_row(page, conversation.pk).click()
    expect(page.locator("#timeline")).to_contain_text('<img src=x onerror="window.pwned=1"><b>bold</b>')
    assert page.evaluate("window.pwned") is None
    assert page.locator("#timeline b").count() == 0
