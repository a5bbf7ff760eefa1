"""The hub's pages work under its Content-Security-Policy: an agent, a
supervisor, a patient on the widget's demo page and an administrator use
them, and the browser reports no violation."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import expect

from hub.models import Attachment, Conversation, Event
from tests.browser.conftest import text_from_patient
from tests.conftest import build_world

pytestmark = pytest.mark.django_db(transaction=True)
PNG = Path(__file__).resolve().parents[2] / "console" / "static" / "console" / "demo-card.png"

# Installed before any page script: every violation event of the document
# (and of shadow roots, whose events are composed) is reported to the test.
LISTENER = """
document.addEventListener('securitypolicyviolation', (e) => {
  window.__reportCsp([e.violatedDirective, e.blockedURI, e.sourceFile, e.lineNumber, e.sample].join(' | '));
}, true);
"""


@pytest.fixture
def guarded(browser, live_hub):
    """guarded() -> a page that records CSP violations (the event and the
    console's "Content Security Policy" messages) in page.violations."""
    contexts = []

    def new_page(width=1400, height=900):
        context = browser.new_context(viewport={"width": width, "height": height})
        contexts.append(context)
        page = context.new_page()
        page.violations, page.errors = [], []
        context.expose_binding("__reportCsp", lambda source, text: page.violations.append(text))
        context.add_init_script(LISTENER)
        page.on("console", lambda m: page.violations.append(m.text)
                if "Content Security Policy" in m.text or "Content-Security-Policy" in m.text else None)
        page.on("pageerror", lambda exc: page.errors.append(str(exc)))
        return page

    yield new_page
    for context in contexts:
        context.close()


def sign_in(page, live_hub, user, password=None, path="/console/"):
    page.goto(live_hub.url + "/console/login/?next=" + path)
    page.fill("#id_username", user.username)
    page.fill("#id_password", password or f"{user.username}-password-1")
    page.click("button[type=submit]")
    page.wait_for_url(live_hub.url + path)


def wait_for(query, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = query()
        if found:
            return found
        time.sleep(0.05)
    raise AssertionError("not found in time")


def settle(page):
    """Let late reports (a lazy picture, a socket) arrive."""
    page.wait_for_timeout(500)


def test_the_console_works_under_the_policy(live_hub, guarded):
    world = build_world()
    page = guarded()
    sign_in(page, live_hub, world.alice)
    expect(page.locator('#stream-state[data-state="live"]')).to_be_attached(timeout=15000)
    text_from_patient(live_hub, from_="+15555550171", body="Can I come in for a blood test tomorrow?")
    conversation = wait_for(lambda: Conversation.objects.filter(patient__contact_points__address="+15555550171").first())
    row = page.locator(f'#queue li[data-conversation-id="{conversation.pk}"]')
    expect(row).to_be_visible(timeout=5000)
    row.locator('button[data-action="pick-up"]').click()
    expect(page.locator("#timeline")).to_contain_text("blood test tomorrow")
    page.fill("#reply-body", "Yes, any time after 8.")
    page.click("#reply-send")
    expect(page.locator("#timeline li.ev-out").last.locator('.delivery[data-status="delivered"]')).to_be_visible(
        timeout=10000)
    page.click("#help-open")  # a dialog
    page.keyboard.press("Escape")
    page.goto(live_hub.url + "/console/account/two-factor/")  # its QR code is a data: picture
    expect(page.locator("img.qr")).to_be_visible()
    settle(page)
    assert page.violations == []
    assert page.errors == []


def test_a_patients_picture_shows_in_the_console_under_the_policy(live_hub, guarded):
    world = build_world()
    patient = guarded()
    patient.goto(live_hub.url + "/widget/demo/")
    patient.get_by_role("button", name="Chat with us").click()
    patient.get_by_label("First name").fill("Pat")
    patient.get_by_label("What is this about?").select_option(label="Something else")
    patient.get_by_role("button", name="Start chat").click()
    box = patient.get_by_label("Your message")
    expect(box).to_be_visible(timeout=10000)
    box.fill("Hello, a question about my rash")
    box.press("Enter")
    widget = patient.locator("#hub-chat-widget")
    expect(widget.get_by_text("Hello, a question about my rash")).to_be_visible()
    widget.locator("input[type=file]").set_input_files(str(PNG))
    expect(widget.locator(".staged img")).to_be_visible()  # the preview: a blob: picture
    box.fill("This is the rash")
    box.press("Enter")
    attachment = wait_for(lambda: Attachment.objects.filter(status="stored").first(), timeout=15)
    expect(widget.get_by_text("This is the rash")).to_be_visible()
    settle(patient)
    assert patient.violations == []
    assert patient.errors == []

    agent = guarded()
    sign_in(agent, live_hub, world.alice)
    conversation = Event.objects.get(pk=attachment.event_id).conversation
    agent.locator(f'#queue li[data-conversation-id="{conversation.pk}"] .row-open').click()
    picture = agent.locator(f'#timeline img[src="/console/attachments/{attachment.pk}"]')
    expect(picture).to_be_visible(timeout=10000)
    agent.wait_for_function("(img) => img.complete && img.naturalWidth > 0", arg=picture.element_handle(),
                            timeout=10000)
    settle(agent)
    assert agent.violations == []
    assert agent.errors == []


def test_the_kpi_pages_work_under_the_policy(live_hub, guarded):
    world = build_world()
    page = guarded(width=1440, height=1000)
    sign_in(page, live_hub, world.sam, path="/kpi/")
    expect(page.locator("canvas").first).to_be_visible(timeout=10000)
    assert page.evaluate("() => typeof Chart === 'function' && document.querySelectorAll('canvas').length > 0")
    page.goto(live_hub.url + "/kpi/wallboard/")
    expect(page.locator("#wb-state")).to_have_attribute("data-state", "live", timeout=10000)
    settle(page)
    assert page.violations == []
    assert page.errors == []


def test_the_widget_demo_page_works_under_the_policy(live_hub, guarded):
    build_world()
    page = guarded(width=1280, height=860)
    page.goto(live_hub.url + "/widget/demo/")
    policy = page.evaluate("() => fetch(location.href).then(r => r.headers.get('content-security-policy'))")
    assert "style-src 'self'" in policy and "unsafe-inline" not in policy
    page.get_by_role("button", name="Chat with us").click()
    page.get_by_label("First name").fill("Pat")
    page.get_by_label("What is this about?").select_option(label="Something else")
    page.get_by_role("button", name="Start chat").click()
    box = page.get_by_label("Your message")
    expect(box).to_be_visible(timeout=10000)
    box.fill("Do you take new patients?")
    box.press("Enter")
    widget = page.locator("#hub-chat-widget")
    expect(widget.get_by_text("Do you take new patients?")).to_be_visible()
    expect(widget.get_by_text("Delivered")).to_be_visible(timeout=10000)
    # Styled by its constructed stylesheet: the launcher is laid out, not bare.
    styled = page.evaluate("""() => {
      const root = document.querySelector('#hub-chat-widget').shadowRoot;
      return root.adoptedStyleSheets.length === 1 && !root.querySelector('style')
        && getComputedStyle(root.querySelector('.launch')).position !== 'static';
    }""")
    assert styled
    settle(page)
    assert page.violations == []
    assert page.errors == []


def test_the_admin_works_under_the_policy(live_hub, guarded):
    world = build_world()
    get_user_model().objects.create_superuser("root", "root@hub.invalid", "root-password-1")
    page = guarded()
    page.goto(live_hub.url + "/admin/login/")
    page.fill("#id_username", "root")
    page.fill("#id_password", "root-password-1")
    page.click("input[type=submit]")
    expect(page.locator("#site-name")).to_be_visible()
    page.goto(live_hub.url + f"/admin/hub/practice/{world.practice.pk}/change/")
    expect(page.locator("form#practice_form")).to_be_visible()
    page.goto(live_hub.url + "/admin/hub/department/")
    expect(page.locator("#result_list")).to_be_visible()
    page.goto(live_hub.url + "/admin/hub/department/add/")
    expect(page.locator("form#department_form")).to_be_visible()
    settle(page)
    assert page.violations == []
    assert page.errors == []
