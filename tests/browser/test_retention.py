"""Retention in a real browser: purged content is shown as removed, never
as an empty bubble; the practice admin's page works under the hub's CSP."""

from datetime import UTC, datetime

import pytest
from django.db import transaction
from playwright.sync_api import expect

from hub.actions import attachments
from hub.lib import clock
from hub.models import AgentProfile
from hub.retention.models import RetentionPolicy
from hub.retention.purge import purge_practice
from tests.browser.conftest import SCREENSHOTS
from tests.conftest import build_world, make_user
from tests.factories import inbound

pytestmark = pytest.mark.django_db(transaction=True)

OLD = datetime(2020, 3, 2, 15, 0, tzinfo=UTC)
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
REMOVED = "Message removed under the practice's retention policy"


def test_purged_messages_and_files_are_shown_as_removed(live_hub, open_console):
    world = build_world()
    clock.set_source(lambda: OLD)
    try:
        result = inbound(world.practice, phone="+15555550161", body="An old worry about my knee")
        with transaction.atomic():
            attachments.store(result.event, PNG, filename="knee.png", declared="image/png")
            attachments.refresh_event(result.event.pk)
    finally:
        clock.set_source(None)
    RetentionPolicy.objects.create(practice=world.practice, message_days=30, attachment_days=30)
    purge_practice(world.practice)

    page = open_console(world.sam)
    page.locator(f'#queue li[data-conversation-id="{result.conversation.pk}"]').click()
    message = page.locator("#timeline li.ev-in").first
    expect(message).to_contain_text(REMOVED)
    expect(message).to_contain_text("File removed under the practice's retention policy")
    expect(page.locator("#timeline")).not_to_contain_text("knee")
    assert page.errors == []


def test_the_admin_page_under_the_content_security_policy(live_hub, open_console):
    world = build_world()
    make_user(world.practice, "ada", AgentProfile.Role.ADMIN, first="Ada", last="Admin")
    from django.contrib.auth import get_user_model

    page = open_console(get_user_model().objects.get(username="ada"))
    violations = []
    page.on("console", lambda msg: violations.append(msg.text) if "Content Security Policy" in msg.text else None)
    page.click("a.topbar-button:has-text('Retention')")
    expect(page.locator("h1")).to_have_text("Retention and legal holds")
    page.fill("#id_message_days", "20")
    page.click("button:has-text('Save policy')")
    expect(page.locator(".field .errorlist").first).to_contain_text("Enter a whole number of days from 30 to 36500")
    page.fill("#id_message_days", "365")
    page.click("button:has-text('Save policy')")
    expect(page.locator(".flash")).to_contain_text("Retention policy saved.")
    page.select_option("#id_target", "conversation")
    page.fill("#id_object_id", "424242")
    page.fill("#id_reason", "Records request")
    page.click("button:has-text('Place hold')")
    expect(page.locator("#id_object_id_error, .field-object_id .errorlist").first).to_contain_text(
        "There is no conversation #424242 in your practice.")
    page.screenshot(path=str(SCREENSHOTS / "retention.png"), full_page=True)
    assert RetentionPolicy.objects.get(practice=world.practice).message_days == 365
    assert violations == [] and page.errors == []
