"""Browser tests: Debian's Chromium driven by Playwright against the hub
served by a real Daphne process and a real Celery worker, on the test
database. They run in their own pytest invocation (`make test` does this):
Playwright's event loop and pytest-asyncio's do not share a process well."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from django.conf import settings

from hub.lib.embedded_redis import free_port
from tests.processes import ROOT, stop, test_database_url

# Playwright's sync API keeps an event loop in the test thread; the ORM
# calls these tests make are ordinary blocking calls all the same.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SCREENSHOTS = ROOT / "docs" / "screenshots"


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/browser/" in str(item.fspath):
            item.add_marker(pytest.mark.browser)


def _deadlocked(exc: BaseException) -> bool:
    return any("deadlock detected" in str(e) for e in (exc, exc.__cause__) if e is not None)


@pytest.fixture(scope="session", autouse=True)
def _flush_again_after_a_deadlock():
    """After a browser test the live hub may still be answering the page's
    last requests (audit rows of a panel's read) while the test database is
    emptied. On PostgreSQL the flush's TRUNCATE and such a request can
    deadlock, and PostgreSQL cancels the flush: it is tried again once the
    request is over, instead of leaving the next test yesterday's rows."""
    from django.core.management.base import CommandError
    from django.db import OperationalError
    from django.test import TransactionTestCase

    original = TransactionTestCase._fixture_teardown

    def teardown(self):
        for attempt in range(5):
            try:
                return original(self)
            except (OperationalError, CommandError) as exc:
                if attempt == 4 or not _deadlocked(exc):
                    raise
                time.sleep(0.5)

    TransactionTestCase._fixture_teardown = teardown
    yield
    TransactionTestCase._fixture_teardown = original


@dataclass
class LiveHub:
    port: int
    env: dict
    web: subprocess.Popen | None = None
    worker: subprocess.Popen | None = None
    beat: subprocess.Popen | None = None
    logs: list = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start_web(self) -> None:
        log = open(Path(self.env["HUB_VAR_DIR"]) / f"web-{len(self.logs)}.log", "w")
        self.logs.append(log)
        self.web = subprocess.Popen(
            [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(self.port), "hub.asgi:application"],
            cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(self.url + "/console/login/", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            if self.web.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the hub did not start: " + Path(log.name).read_text()[-3000:])
            time.sleep(0.2)

    def stop_web(self) -> None:
        if self.web is not None and self.web.poll() is None:
            os.killpg(self.web.pid, signal.SIGTERM)
            try:
                self.web.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(self.web.pid, signal.SIGKILL)
                self.web.wait()

    def restart_web(self) -> None:
        self.stop_web()
        time.sleep(0.5)
        self.start_web()

    def start_beat(self) -> None:
        """Celery beat with the hub's own schedule (the KPI refresh every
        second, the SLA and delivery sweeps), its schedule file in the hub's
        var dir, sending to this hub's worker queue. Only the tests that ask
        for it (`live_beat`) run with periodic tasks."""
        if self.beat is not None and self.beat.poll() is None:
            return
        var = Path(self.env["HUB_VAR_DIR"])
        log = open(var / "beat.log", "a")
        self.logs.append(log)
        self.beat = subprocess.Popen(
            [sys.executable, "-m", "celery", "--app", "hub", "beat", "--schedule", str(var / "celerybeat-schedule"),
             "--loglevel", "WARNING"],
            cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT)

    def stop_beat(self) -> None:
        if self.beat is not None:
            stop(self.beat)
            self.beat = None


@pytest.fixture(scope="session")
def live_hub(django_db_setup, django_db_blocker, tmp_path_factory):
    var = tmp_path_factory.mktemp("live-hub")
    queue = f"browser-{uuid.uuid4().hex[:8]}"
    port = free_port()
    with django_db_blocker.unblock():
        database_url = test_database_url()
    env = {**os.environ, "DATABASE_URL": database_url, "HUB_ENV": "test", "CELERY_TASK_ALWAYS_EAGER": "0",
           "CELERY_QUEUE": queue, "HEARTBEAT_SECONDS": "2", "PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
           "SMS_BACKEND": "sandbox", "TWILIO_ACCOUNT_SID": "", "TWILIO_AUTH_TOKEN": "", "HUB_VAR_DIR": str(var),
           # The same channel layer as this test process, so that actions a
           # test runs in-process reach the browsers' sockets.
           "CHANNEL_LAYER_PREFIX": settings.CHANNEL_LAYER_PREFIX,
           "CACHE_KEY_PREFIX": settings.CACHES["default"]["KEY_PREFIX"], "LOG_LEVEL": "WARNING", "SANDBOX_SENT_AFTER": "0.2",
           "SANDBOX_DELIVERED_AFTER": "0.6", "MEDIA_ROOT": str(var / "media")}
    hub = LiveHub(port=port, env=env)
    hub.start_web()
    worker_log = open(var / "worker.log", "w")
    hub.worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "--app", "hub", "worker", "--pool", "solo", "--queues", queue,
         "--hostname", f"{queue}@%h", "--without-gossip", "--without-mingle", "--loglevel", "WARNING"],
        cwd=ROOT, env=env, stdout=worker_log, stderr=subprocess.STDOUT)
    yield hub
    hub.stop_beat()
    hub.stop_web()
    stop(hub.worker)


@pytest.fixture
def live_beat(live_hub, transactional_db):
    """The live hub with Celery beat running, for one test; ready once the
    worker has run the first periodic KPI refresh."""
    from kpi.models import RollupState

    live_hub.start_beat()
    deadline = time.monotonic() + 30
    while not RollupState.objects.exists():
        if live_hub.beat.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError("celery beat did not start: "
                               + (Path(live_hub.env["HUB_VAR_DIR"]) / "beat.log").read_text()[-3000:])
        time.sleep(0.2)
    yield live_hub
    live_hub.stop_beat()


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    executable = shutil.which("chromium")
    if executable is None:
        pytest.fail("Debian's chromium is not installed (make test installs it)")
    playwright = sync_playwright().start()
    browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
    yield browser
    browser.close()
    playwright.stop()


@pytest.fixture
def open_console(browser, live_hub):
    """open_console(user) -> a signed-in console page in its own browser context."""
    contexts = []

    def open_as(user, password=None):
        context = browser.new_context(viewport={"width": 1400, "height": 900})
        contexts.append(context)
        page = context.new_page()
        page.errors = []
        page.on("pageerror", lambda exc: page.errors.append(str(exc)))
        page.goto(live_hub.url + "/console/login/")
        page.fill("#id_username", user.username)
        page.fill("#id_password", password or f"{user.username}-password-1")
        page.click("button[type=submit]")
        page.wait_for_selector('#stream-state[data-state="live"]', timeout=15000)
        return page

    yield open_as
    for context in contexts:
        context.close()


def add_script(page, path: Path) -> None:
    """Run a test tool (axe-core) in the page. The hub's CSP allows only its
    own scripts, so the file is served as if from the page's origin."""
    origin = "/".join(page.url.split("/")[:3])
    url = f"{origin}/__test-tools__/{path.name}"
    page.route(url, lambda route: route.fulfill(path=str(path), content_type="text/javascript"))
    page.add_script_tag(url=url)


def text_from_patient(live_hub, *, from_: str, body: str, to: str = "+15550100100") -> str:
    """A signed Twilio incoming-SMS webhook to the live hub."""
    from twilio.request_validator import RequestValidator

    from channels_app.twilio_common.simulate import incoming_sms

    params = incoming_sms(from_=from_, to=to, body=body)
    url = live_hub.url + "/webhooks/twilio/sms"
    signature = RequestValidator("sandbox-auth-token").compute_signature(url, params)
    response = httpx.post(url, data=params, headers={"X-Twilio-Signature": signature}, timeout=10)
    assert response.status_code == 200, response.text
    return params["MessageSid"]


def queue_row(page, conversation_id):
    """A conversation's row in the console's queue."""
    return page.locator(f'#queue li[data-conversation-id="{conversation_id}"]')


def stored_conversation(phone, timeout=10.0):
    """The conversation of the patient with this phone, once the live hub
    has stored it."""
    from hub.models import Conversation

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = Conversation.objects.filter(patient__contact_points__address=phone).first()
        if found:
            return found
        time.sleep(0.05)
    raise AssertionError("the conversation was not stored")
