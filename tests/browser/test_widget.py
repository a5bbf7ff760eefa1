"""The chat widget on a practice's website, as patients meet it."""

import json
import time
from pathlib import Path

import pytest
from playwright.sync_api import expect

from hub.actions import outbound
from hub.lib import access
from hub.models import Conversation, Event
from tests.browser.conftest import SCREENSHOTS, add_script
from tests.conftest import build_world

pytestmark = pytest.mark.django_db(transaction=True)
AXE = Path(__file__).parent / "node_modules" / "axe-core" / "axe.min.js"


@pytest.fixture
def open_demo(browser, live_hub):
    contexts = []

    def open_page(hostile=False, width=1280, height=860):
        context = browser.new_context(viewport={"width": width, "height": height})
        contexts.append(context)
        page = context.new_page()
        page.errors = []
        page.on("pageerror", lambda exc: page.errors.append(str(exc)))
        page.goto(live_hub.url + "/widget/demo/" + ("?hostile=1" if hostile else ""))
        expect(page.get_by_role("button", name="Chat with us")).to_be_visible(timeout=10000)
        return page

    yield open_page
    for context in contexts:
        context.close()


def start_chat(page, name="Pat", message="Hi, can I get a flu shot this week?"):
    if not page.get_by_label("First name").is_visible():
        page.get_by_role("button", name="Chat with us").click()
    page.get_by_label("First name").fill(name)
    page.get_by_label("What is this about?").select_option(label="Something else")
    page.get_by_role("button", name="Start chat").click()
    box = page.get_by_label("Your message")
    expect(box).to_be_visible(timeout=10000)
    if message:
        box.fill(message)
        box.press("Enter")
        expect(page.locator("#hub-chat-widget").get_by_text(message)).to_be_visible()


def wait_for(query, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = query()
        if found:
            return found
        time.sleep(0.05)
    raise AssertionError("not found in time")


def test_a_patient_chats_and_an_agent_answers_from_the_console(live_hub, open_demo, open_console):
    world = build_world()
    patient = open_demo()
    start_chat(patient)
    conversation = wait_for(lambda: Conversation.objects.filter(channel="web").first())
    agent = open_console(world.alice)
    row = agent.locator(f'#queue li[data-conversation-id="{conversation.pk}"]')
    expect(row).to_be_visible(timeout=5000)
    row.locator('button[data-action="pick-up"]').click()
    expect(agent.locator("#timeline")).to_contain_text("flu shot")
    agent.fill("#reply-body", "Yes! We have walk-in flu shots every morning, 8 to 11.")
    agent.click("#reply-send")
    # The bubble itself (a "New message from Alice" notice may quote it too).
    reply = "Yes! We have walk-in flu shots every morning, 8 to 11."
    expect(patient.locator("#hub-chat-widget").get_by_text(reply, exact=True)).to_be_visible(timeout=5000)
    expect(patient.locator("#hub-chat-widget").get_by_text("Alice", exact=True)).to_be_visible()
    patient.screenshot(path=str(SCREENSHOTS / "widget.png"))
    assert patient.errors == [] and agent.errors == []


def test_reloading_the_page_restores_the_conversation(live_hub, open_demo):
    world = build_world()
    page = open_demo()
    start_chat(page, message="Do you take Blue Cross?")
    conversation = wait_for(lambda: Conversation.objects.filter(channel="web").first())
    outbound.send_message(access.viewer_for(world.alice), conversation.pk, "We do, PPO and HMO plans.")
    expect(page.locator("#hub-chat-widget").get_by_text("PPO and HMO")).to_be_visible(timeout=5000)
    page.reload()
    widget = page.locator("#hub-chat-widget")
    page.wait_for_timeout(500)
    if not widget.get_by_label("Your message").is_visible():  # the panel stays open across pages
        page.get_by_role("button", name="Chat with us").click()
    expect(widget.get_by_text("Do you take Blue Cross?")).to_be_visible(timeout=10000)
    expect(widget.get_by_text("We do, PPO and HMO plans.", exact=True)).to_have_count(1)


def test_a_dropped_connection_recovers_without_loss_or_duplicates(live_hub, open_demo):
    world = build_world()
    page = open_demo()
    start_chat(page, message="Hello?")
    conversation = wait_for(lambda: Conversation.objects.filter(channel="web").first())
    live_hub.stop_web()
    viewer = access.viewer_for(world.alice)
    for text in ("Reply one while you were away", "Reply two while you were away"):
        outbound.send_message(viewer, conversation.pk, text)
    live_hub.start_web()
    widget = page.locator("#hub-chat-widget")
    for text in ("Reply one while you were away", "Reply two while you were away"):
        expect(widget.get_by_text(text, exact=True)).to_have_count(1, timeout=40000)
    widget.get_by_label("Your message").fill("Got them, thanks")
    widget.get_by_label("Your message").press("Enter")
    wait_for(lambda: Event.objects.filter(body="Got them, thanks").exists())
    assert Event.objects.filter(conversation=conversation, body="Hello?").count() == 1


STYLE_PROBE = """() => {
  const root = document.querySelector('#hub-chat-widget').shadowRoot;
  return [...root.querySelectorAll('*')].filter(e => e.tagName !== 'STYLE').map(e => {
    const s = getComputedStyle(e), r = e.getBoundingClientRect();
    return [e.tagName, s.display, s.fontFamily, s.fontSize, s.color, s.backgroundColor, s.visibility,
            Math.round(r.width), Math.round(r.height)].join('|');
  });
}"""


def test_a_hostile_host_page_cannot_change_the_widget(live_hub, open_demo):
    build_world()
    pages = {}
    for hostile in (False, True):
        page = open_demo(hostile=hostile)
        page.get_by_role("button", name="Chat with us").click()
        expect(page.get_by_label("First name")).to_be_visible()
        pages[hostile] = page
    plain, hostile = (pages[False].evaluate(STYLE_PROBE), pages[True].evaluate(STYLE_PROBE))
    assert len(plain) > 20
    assert plain == hostile
    pages[True].screenshot(path=str(SCREENSHOTS / "widget-hostile-page.png"))


def axe_violations(page):
    add_script(page, AXE)
    result = page.evaluate("""async () => {
      const r = await axe.run({include: [['#hub-chat-widget']]}, {resultTypes: ['violations']});
      return r.violations.map(v => ({id: v.id, impact: v.impact, nodes: v.nodes.length, help: v.help}));
    }""")
    return [v for v in result if v["impact"] in ("serious", "critical")]


def test_axe_finds_no_serious_or_critical_violations(live_hub, open_demo):
    world = build_world()
    page = open_demo()
    page.get_by_role("button", name="Chat with us").click()
    expect(page.get_by_label("First name")).to_be_visible()
    assert axe_violations(page) == []  # the pre-chat form
    start_chat(page, message=None)
    page.get_by_label("Your message").fill("Checking accessibility")
    page.get_by_label("Your message").press("Enter")
    conversation = wait_for(lambda: Conversation.objects.filter(channel="web").first())
    outbound.send_message(access.viewer_for(world.alice), conversation.pk, "Thanks for waiting!")
    expect(page.locator("#hub-chat-widget").get_by_text("Thanks for waiting!")).to_be_visible(timeout=5000)
    assert axe_violations(page) == []  # the conversation


def test_the_keyboard_alone_works_end_to_end(live_hub, open_demo):
    build_world()
    page = open_demo()
    launcher = page.get_by_role("button", name="Chat with us")
    launcher.focus()
    page.keyboard.press("Enter")
    expect(page.get_by_label("First name")).to_be_focused()
    page.keyboard.type("Pat")
    page.keyboard.press("Tab")
    page.keyboard.press("Escape")
    expect(launcher).to_be_focused()


def test_html_from_the_patient_is_text_in_the_widget_and_the_console(live_hub, open_demo, open_console):
    world = build_world()
    page = open_demo()
    payload = '<img src=x onerror="window.pwned=1"><script>window.pwned=2</script>'
    start_chat(page, message=payload)
    conversation = wait_for(lambda: Conversation.objects.filter(channel="web").first())
    assert page.evaluate("window.pwned") is None
    agent = open_console(world.alice)
    agent.locator(f'#queue li[data-conversation-id="{conversation.pk}"]').click()
    expect(agent.locator("#timeline")).to_contain_text(payload)
    assert agent.evaluate("window.pwned") is None
    assert json.loads(json.dumps(Event.objects.get(conversation=conversation, kind="message").body)) == payload


def test_the_widget_says_when_an_agent_comes_online(live_hub, open_demo, open_console):
    world = build_world()
    page = open_demo()
    start_chat(page, message="Anyone there?")
    widget = page.locator("#hub-chat-widget")
    expect(widget.get_by_text("away right now", exact=False).first).to_be_visible()
    open_console(world.alice)  # signing in makes her available
    expect(widget.get_by_text("We usually reply within a few minutes.", exact=False).first).to_be_visible(timeout=5000)
