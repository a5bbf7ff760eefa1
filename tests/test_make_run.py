"""`make run` as a new user meets it: nothing configured, the hub comes up
(web, worker, beat, embedded Redis, SQLite), serves the console and says it
is healthy, and Ctrl-C or SIGTERM stops every process it started."""

import os
import random
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import psutil
import pytest

ROOT = Path(__file__).resolve().parents[1]


def listen_port() -> int:
    """A free port outside Linux's ephemeral range (32768-60999): nothing
    else the hub starts (its embedded Redis, its outgoing connections) can
    take it between this check and the web server binding it."""
    while True:
        port = random.randint(20000, 29999)
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port


def start_launcher(tmp_path):
    port = listen_port()
    env = {k: v for k, v in os.environ.items()
           if k not in ("DATABASE_URL", "REDIS_URL", "HUB_ENV", "DJANGO_SETTINGS_MODULE", "CHANNEL_LAYER_PREFIX",
                        "CACHE_KEY_PREFIX", "CELERY_QUEUE")}
    env.update(PORT=str(port), HUB_VAR_DIR=str(tmp_path / "var"), CELERY_QUEUE=f"makerun{port}")
    launcher = subprocess.Popen([sys.executable, "-m", "hub.devtools.run"], cwd=ROOT, env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
    return launcher, f"http://127.0.0.1:{port}", env


def wait_healthy(launcher, base):
    deadline = time.monotonic() + 120
    health = None
    while time.monotonic() < deadline:
        try:
            health = httpx.get(f"{base}/healthz", timeout=5)
            if health.status_code == 200:
                break
        except httpx.HTTPError:
            pass
        assert launcher.poll() is None, launcher.stdout.read()
        time.sleep(0.5)
    assert health is not None and health.status_code == 200, health and health.text
    return health


@pytest.mark.slow
def test_the_hub_starts_with_nothing_configured_and_stops_on_ctrl_c(tmp_path):
    launcher, base, env = start_launcher(tmp_path)
    try:
        health = wait_healthy(launcher, base)
        assert health.json()["status"] == "ok"
        login = httpx.get(f"{base}/console/login/")
        assert login.status_code == 200 and "Sign in" in login.text
        assert httpx.get(f"{base}/console/", follow_redirects=False).status_code == 302
        try_sms_round_trip(base, env)
        children = psutil.Process(launcher.pid).children(recursive=True)
        assert len(children) >= 5  # honcho, daphne, worker (and its pool), beat, redis

        os.killpg(launcher.pid, signal.SIGINT)  # what Ctrl-C in the terminal does
        output, _ = launcher.communicate(timeout=60)
        assert "Agent console" in output and "alice" in output
        gone, alive = psutil.wait_procs(children, timeout=30)
        assert not alive, [p.cmdline() for p in alive]
        with pytest.raises(httpx.HTTPError):
            httpx.get(f"{base}/healthz", timeout=2)
    finally:
        if launcher.poll() is None:
            os.killpg(launcher.pid, signal.SIGKILL)


@pytest.mark.slow
def test_sigterm_to_the_launcher_alone_stops_everything(tmp_path):
    """As `kill`, systemd or a container runtime stop it: one SIGTERM to the
    launcher process, nothing to its children."""
    launcher, base, _ = start_launcher(tmp_path)
    children = []
    try:
        wait_healthy(launcher, base)
        children = psutil.Process(launcher.pid).children(recursive=True)
        assert len(children) >= 5
        launcher.send_signal(signal.SIGTERM)
        launcher.communicate(timeout=60)
        gone, alive = psutil.wait_procs(children, timeout=30)
        assert not alive, [p.cmdline() for p in alive]
    finally:
        if launcher.poll() is None:
            os.killpg(launcher.pid, signal.SIGKILL)
        for child in children:  # whatever a failed stop left behind
            try:
                child.kill()
            except psutil.NoSuchProcess:
                pass


def try_sms_round_trip(base: str, env: dict) -> None:
    """simulate_sms, then as alice: the text is in the queue, a reply goes
    out through the sandbox and its ticks reach delivered."""
    sent = subprocess.run([sys.executable, "manage.py", "simulate_sms", "--from", "+15551230001",
                           "--body", "Can I get my flu shot this week?"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert sent.returncode == 0, sent.stderr
    with httpx.Client(base_url=base) as browser:
        page = browser.get("/console/login/")
        csrf = browser.cookies["csrftoken"]
        assert browser.post("/console/login/", data={"username": "alice", "password": "hub-alice-demo",
                                                     "csrfmiddlewaretoken": csrf},
                            headers={"Referer": base + "/console/login/"}).status_code == 302
        assert page.status_code == 200
        queue = browser.get("/api/v1/conversations").json()["items"]
        [conversation] = [c for c in queue if c["channel"] == "sms" and c["patient_name"].startswith("Unknown")]
        reply = browser.post(f"/api/v1/conversations/{conversation['id']}/messages",
                             json={"body": "Yes, walk in any morning."},
                             headers={"X-CSRFToken": browser.cookies["csrftoken"]})
        assert reply.status_code == 201, reply.text
        deadline = time.monotonic() + 30
        status = None
        while time.monotonic() < deadline:
            events = browser.get(f"/api/v1/conversations/{conversation['id']}").json()["events"]
            status = [e for e in events if e["direction"] == "out"][-1]["delivery_status"]
            if status == "delivered":
                break
            time.sleep(0.3)
        assert status == "delivered"
