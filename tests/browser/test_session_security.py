"""Sign-in security as a person meets it in Chromium: turning on two-factor
sign-in and signing in with it, and automatic logoff of an idle console
whose socket is open."""

import base64
import re
import time

import pytest
from django.conf import settings
from django_otp.oath import totp

from hub.lib import clock, sessions
from hub.models import AgentProfile
from tests.conftest import build_world, make_user


def code_for(secret: str, *, ahead: int = 0) -> str:
    """The authenticator app's code for the key shown on the page; `ahead`
    steps later (the hub accepts one step of drift, and a code only once)."""
    key = base64.b32decode(secret.replace(" ", "") + "=" * (-len(secret.replace(" ", "")) % 8))
    return f"{totp(key, step=30, t0=-30 * ahead):06d}"


@pytest.mark.django_db(transaction=True)
def test_turning_on_two_factor_and_signing_in_with_it(live_hub, browser):
    world = build_world()
    make_user(world.practice, "tess", AgentProfile.Role.AGENT, [world.scheduling])
    context = browser.new_context(viewport={"width": 1200, "height": 900})
    page = context.new_page()
    page.goto(live_hub.url + "/console/login/")
    page.fill("#id_username", "tess")
    page.fill("#id_password", "tess-password-1")
    page.click("button[type=submit]")
    page.wait_for_selector('#stream-state[data-state="live"]', timeout=15000)

    page.click("text=Sign-in security")
    page.wait_for_selector("img.qr")
    page.wait_for_function("() => document.querySelector('img.qr').complete")
    assert page.locator("img.qr").evaluate("img => img.naturalWidth > 100")  # the QR code draws
    secret = page.locator(".secret code").inner_text()
    page.fill("#id_otp_token", "000000" if code_for(secret) != "000000" else "111111")
    page.click("text=Turn on two-factor sign-in")
    assert "did not match" in page.locator("[role=alert]").inner_text()
    time.sleep(1.1)  # a wrong code makes the next try wait a second
    page.fill("#id_otp_token", code_for(secret))
    page.click("text=Turn on two-factor sign-in")
    page.wait_for_selector('#stream-state[data-state="live"]', timeout=15000)

    # Sign out; a password alone no longer opens the console.
    page.click("text=Sign out")
    page.wait_for_url(re.compile(r".*/console/login/.*"))
    page.fill("#id_username", "tess")
    page.fill("#id_password", "tess-password-1")
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r".*/console/login/verify/.*"))
    page.goto(live_hub.url + "/console/")
    assert "/console/login/verify/" in page.url
    page.fill("#id_otp_token", code_for(secret, ahead=1))
    page.click("text=Verify")
    page.wait_for_selector('#stream-state[data-state="live"]', timeout=15000)
    context.close()


@pytest.mark.django_db(transaction=True)
def test_an_idle_console_signs_itself_out_and_says_why(live_hub, open_console):
    world = build_world()
    page = open_console(world.alice)
    # Make the session's last activity 16 minutes old, as if the agent had
    # walked away: the open socket notices within a heartbeat.
    cookie = next(c for c in page.context.cookies() if c["name"] == settings.SESSION_COOKIE_NAME)
    session = sessions.store(cookie["value"])
    session[sessions.LAST_ACTIVE] = clock.now().timestamp() - (settings.IDLE_LOGOFF_MINUTES + 1) * 60
    session.save()
    page.wait_for_url(re.compile(r".*/console/login/\?.*expired=1"), timeout=15000)
    assert "signed out after 15 minutes without activity" in page.locator("main").inner_text()
    page.goto(live_hub.url + "/console/")
    assert "/console/login/" in page.url  # the session really is gone
