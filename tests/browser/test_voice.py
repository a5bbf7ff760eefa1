"""A phone call in the console: holding in the queue, taken by an agent,
and on the thread with its hold time and talk time."""

import subprocess
import sys
import time

import pytest
from playwright.sync_api import expect

from hub.models import AgentProfile, Call
from tests.browser.conftest import SCREENSHOTS
from tests.conftest import build_world
from tests.processes import ROOT

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_holding_call_is_taken_from_the_console(live_hub, open_console):
    world = build_world()
    AgentProfile.objects.filter(user=world.alice).update(voice_endpoint="client:alice")
    caller = subprocess.Popen(
        [sys.executable, "manage.py", "simulate_call", "--from", "+15555550199", "--press", "1",
         "--hangup-after", "60", "--talk", "3", "--url", live_hub.url],
        cwd=ROOT, env=live_hub.env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        page = open_console(world.alice)
        deadline = time.monotonic() + 15
        while not Call.objects.filter(status="queued").exists():
            assert time.monotonic() < deadline, "the call never reached the queue"
            time.sleep(0.1)
        call = Call.objects.get()
        row = page.locator(f'#queue li[data-conversation-id="{call.conversation_id}"]')
        expect(row).to_be_visible(timeout=5000)
        expect(row).to_contain_text("Scheduling")
        time.sleep(2)  # a ticking hold time
        row.locator('button[data-action="pick-up"]').click()
        timeline = page.locator("#timeline")
        expect(timeline).to_contain_text("On hold in the Scheduling queue")
        expect(timeline).to_contain_text("Answered by Alice Adams after", timeout=10000)
        expect(timeline).to_contain_text("talk time", timeout=15000)
        output, _ = caller.communicate(timeout=30)
        assert caller.returncode == 0, output
    finally:
        if caller.poll() is None:
            caller.kill()
    call.refresh_from_db()
    assert call.status == "completed" and call.answered_by == world.alice
    assert call.queue_seconds >= 2 and call.talk_seconds >= 3
    page.screenshot(path=str(SCREENSHOTS / "console-call.png"))
