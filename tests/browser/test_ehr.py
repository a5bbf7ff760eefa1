"""The EHR panel in a real browser: a patient texts, the agent verifies them
against the demo EHR (over HTTP, from the live hub), books an appointment,
and the patient gets the confirmation on the same thread."""

import re

import pytest
from playwright.sync_api import expect

from channels_app.models import SandboxMessage
from hub.ehr.demo import DemoEhr, Store, seed, start_in_thread
from hub.ehr.models import EhrConnection, EhrLink
from hub.models import AuditEntry, Event
from tests.browser.conftest import SCREENSHOTS, queue_row, stored_conversation, text_from_patient
from tests.conftest import build_world

pytestmark = pytest.mark.django_db(transaction=True)

PAT = "+15555550101"


@pytest.fixture
def demo_ehr(tmp_path):
    store = Store(str(tmp_path / "ehr.sqlite3"))
    seed(store)
    server = start_in_thread(DemoEhr(store))
    yield server, store
    server.stop()


def test_agent_verifies_a_texting_patient_and_books_an_appointment(live_hub, open_console, demo_ehr):
    server, store = demo_ehr
    world = build_world()
    EhrConnection.objects.create(practice=world.practice, label="Demo EHR", base_url=server.base_url)
    page = open_console(world.alice)
    text_from_patient(live_hub, from_=PAT, body="Could I book a check-up next week? Mornings are best.")
    conversation = stored_conversation(PAT)
    queue_row(page, conversation.pk).locator('button[data-action="pick-up"]').click()
    panel = page.locator("#ehr-panel")

    # Before verification: only a masked candidate, nothing from the record.
    expect(panel.locator('[data-ehr-state="unverified"]')).to_be_visible(timeout=10000)
    expect(page.locator("#thread-identity")).to_have_text("Identity not verified")
    expect(panel).to_contain_text("P••• J•••")
    expect(panel).not_to_contain_text("XJP884512")

    # A wrong date of birth is refused and counted.
    page.fill("#ehr-given", "Pat")
    page.fill("#ehr-family", "Jones")
    page.fill("#ehr-dob", "1984-03-21")
    panel.get_by_role("button", name="Verify", exact=True).click()
    expect(panel.locator(".error:not([hidden])")).to_contain_text("do not match")
    page.fill("#ehr-dob", "1984-03-12")
    panel.get_by_role("button", name="Verify", exact=True).click()
    expect(panel.locator('[data-ehr-state="verified"]')).to_be_visible(timeout=10000)
    expect(page.locator("#thread-identity")).to_have_text("Identity verified")
    expect(panel).to_contain_text("BCBS PPO Gold")
    expect(panel).to_contain_text("XJP884512")
    expect(panel).to_contain_text("Dr. Raj Patel")  # the upcoming physical
    expect(page.locator("#timeline")).to_contain_text("Identity verified")
    # The patient panel now shows the EHR's name for a patient known by number.
    expect(page.locator("#patient-name")).to_have_text("Pat Jones", timeout=10000)

    # Eligibility, from the simulated payer.
    panel.locator('[data-ehr="eligibility"]').click()
    expect(panel.locator(".ehr-eligibility")).to_contain_text("In force", timeout=10000)

    # Book: a morning office visit with Dr. Lee.
    panel.locator('[data-ehr="book"]').click()
    page.select_option("#ehr-type", "Office visit")
    page.select_option("#ehr-who", label="Dr. Ana Lee")
    panel.get_by_role("button", name="Find times").click()
    first_slot = panel.locator("[data-slot]").first
    expect(first_slot).to_be_visible(timeout=10000)
    slot_id = first_slot.get_attribute("data-slot")
    first_slot.click()
    page.fill("#ehr-reason", "Check-up")
    panel.locator('[data-ehr="confirm"]').click()
    expect(page.locator("#notices")).to_contain_text("Appointment booked")

    # The EHR has it, the slot is taken, and the panel lists it.
    assert store.get("Slot", slot_id)["status"] == "busy"
    booked = [a for a in store.search("Appointment")
              if a["slot"][0]["reference"] == f"Slot/{slot_id}" and a["status"] == "booked"]
    assert len(booked) == 1 and booked[0]["description"] == "Check-up"
    expect(panel.locator(f'[data-appointment="{booked[0]["id"]}"]')).to_be_visible(timeout=10000)

    # The patient gets the confirmation on the same thread, delivered by text.
    timeline = page.locator("#timeline")
    expect(timeline).to_contain_text("Appointment booked:")
    confirmation = timeline.locator("li.ev-out").filter(has_text="is booked for")
    expect(confirmation).to_be_visible(timeout=10000)
    expect(confirmation.locator('.delivery[data-status="delivered"]')).to_be_visible(timeout=10000)
    sent = SandboxMessage.objects.filter(to=PAT).order_by("pk").last()
    assert re.search(r"is booked for \w+day, \w+ \d+ at \d+:\d\d [AP]M with Dr\. Ana Lee \(Office visit\)", sent.body)
    event = Event.objects.get(conversation=conversation, body=sent.body)
    assert event.channel == "sms" and event.conversation_id == conversation.pk

    assert EhrLink.objects.get(patient_id=conversation.patient_id).ehr_patient_id == "pat-jones"
    audited = set(AuditEntry.objects.filter(patient_id=conversation.patient_id).values_list("action", flat=True))
    assert {"ehr.identity_verified", "ehr.record_viewed", "ehr.appointment_booked"} <= audited
    page.screenshot(path=str(SCREENSHOTS / "console-ehr.png"))
    assert page.errors == []


def test_panel_says_when_the_ehr_is_down(live_hub, open_console, demo_ehr):
    server, _ = demo_ehr
    world = build_world()
    EhrConnection.objects.create(practice=world.practice, label="Demo EHR", base_url=server.base_url,
                                 timeout_seconds=1)
    server.app.faults.set("*", "status", status=503)
    page = open_console(world.alice)
    text_from_patient(live_hub, from_="+15555550177", body="Is my insurance still good?")
    conversation = stored_conversation("+15555550177")
    queue_row(page, conversation.pk).locator('button[data-action="pick-up"]').click()
    panel = page.locator("#ehr-panel")
    expect(panel.locator(".ehr-degraded")).to_contain_text("EHR unavailable", timeout=10000)
    expect(panel).to_contain_text("Messaging is not affected")
    # Messaging carries on.
    page.fill("#reply-body", "Let me check that for you.")
    page.click("#reply-send")
    expect(page.locator("#timeline li.ev-out").last.locator('.delivery[data-status="delivered"]')).to_be_visible(
        timeout=10000)
    assert page.errors == []
