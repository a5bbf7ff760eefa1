"""`make run`: the whole hub on one machine with nothing configured.

Starts an embedded Redis when REDIS_URL is unset (SQLite is the settings'
own default when DATABASE_URL is unset) and the demo EHR (a FHIR R4 server
with synthetic patients) unless EHR_DEMO=0, migrates, seeds the demo
practice, then runs the web server, a Celery worker and Celery beat together under
honcho. Ctrl-C (or SIGTERM, as from `kill`, systemd or a container
runtime) stops every process it started, the embedded Redis included.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent.parent
sys.path.insert(0, str(BASE_DIR))

from hub.lib import embedded_redis  # noqa: E402


def _manage(*args: str, env: dict) -> None:
    subprocess.run([sys.executable, "manage.py", *args], cwd=BASE_DIR, env=env, check=True)


def _wait_for_port(host: str, port: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return True
        except OSError:
            time.sleep(0.2)
    return False


def _free_port(host: str, start: int) -> int:
    for port in range(start, start + 50):
        with socket.socket() as probe:
            try:
                probe.bind((host, port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port for the demo EHR from {start}")


def _start_demo_ehr(env: dict, var_dir: Path) -> subprocess.Popen:
    """The demo EHR on the port after the hub's (or the next free one), seeded
    (slots topped up) on every start; its data lives in var/demo-ehr.sqlite3."""
    port = int(env.get("EHR_DEMO_PORT") or _free_port("127.0.0.1", int(env["PORT"]) + 1))
    process = subprocess.Popen(
        [sys.executable, "-m", "hub.ehr.demo", "serve", "--host", "127.0.0.1", "--port", str(port),
         "--db", str(var_dir / "demo-ehr.sqlite3"), "--seed", "--timezone", env.get("DEMO_TIMEZONE", "America/New_York")],
        cwd=BASE_DIR, env=env, start_new_session=True,
    )
    if not _wait_for_port("127.0.0.1", port, 30):
        process.terminate()
        raise RuntimeError("the demo EHR did not start")
    env["EHR_DEMO_URL"] = f"http://127.0.0.1:{port}/fhir/R4"
    return process


def _banner(base: str, env: dict) -> str:
    from hub.demo.staff import logins

    lines = [
        "",
        "=" * 68,
        "  The hub is running.",
        f"  Agent console     {base}/console/",
        f"  KPI dashboard     {base}/kpi/   (wallboard: {base}/kpi/wallboard/)",
        f"  Chat widget demo  {base}/widget/demo/",
        f"  Admin             {base}/admin/",
        f"  REST API schema   {base}/api/v1/docs",
        f"  Health            {base}/healthz",
        *([f"  Demo EHR (FHIR)   {env['EHR_DEMO_URL']}"] if env.get("HUB_DEMO_EHR") else []),
        "",
        "  Demo logins (user / password):",
    ]
    lines += [f"    {role:<16} {user:<8} {password}" for user, password, role in logins()]
    lines += [
        "",
        f"  Database: {'PostgreSQL (DATABASE_URL)' if env.get('DATABASE_URL') else 'SQLite, var/hub.sqlite3'}",
        f"  Redis:    {env['REDIS_URL']}{' (embedded)' if env.get('HUB_EMBEDDED_REDIS') else ''}",
        "  Press Ctrl-C to stop everything.",
        "=" * 68,
        "",
    ]
    return "\n".join(lines)


class _Stop(Exception):
    """SIGINT or SIGTERM reached the launcher."""


def _stop(signum, frame):
    raise _Stop(signum)


def main() -> int:
    # Installed explicitly: a shell starting `make run` in the background
    # leaves SIGINT ignored, and SIGTERM would otherwise end the launcher
    # without stopping what it started.
    signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGTERM, _stop)
    env = dict(os.environ)
    env.setdefault("HOST", "127.0.0.1")
    env.setdefault("PORT", "8000")
    env.setdefault("DJANGO_SETTINGS_MODULE", "hub.settings")
    env["PYTHONUNBUFFERED"] = "1"
    # The Procfile's programs (daphne, celery) live beside this interpreter,
    # which need not be on PATH (`.venv/bin/python -m hub.devtools.run`).
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    env.setdefault("HUB_VAR_DIR", str(BASE_DIR / "var"))
    host, port = env["HOST"], int(env["PORT"])
    var_dir = Path(env["HUB_VAR_DIR"])
    var_dir.mkdir(parents=True, exist_ok=True)

    redis_server = None
    if not env.get("REDIS_URL"):
        redis_server = embedded_redis.start(data_dir=var_dir / "run", write_state=var_dir == BASE_DIR / "var")
        env["REDIS_URL"] = redis_server.url
        env["HUB_EMBEDDED_REDIS"] = "1"
    honcho = None
    demo_ehr = None
    try:
        if env.get("EHR_DEMO", "1") != "0" and not env.get("EHR_DEMO_URL"):
            demo_ehr = _start_demo_ehr(env, var_dir)
            env["HUB_DEMO_EHR"] = "1"
        _manage("migrate", "--noinput", "-v", "0", env=env)
        _manage("seed_demo", env=env)
        os.environ.update(env)
        from django.conf import settings  # read PUBLIC_BASE_URL exactly as the server will

        base = settings.PUBLIC_BASE_URL
        # honcho gives each process its own PORT; every process must agree
        # on the public URL (status callbacks, signatures).
        env["PUBLIC_BASE_URL"] = base
        (var_dir / "run").mkdir(parents=True, exist_ok=True)
        (var_dir / "run" / "public_url").write_text(base)
        probe_host = "127.0.0.1" if host in ("0.0.0.0", "::") else host
        # Its own session: the launcher alone decides when honcho stops, so
        # one signal stops everything once, whoever sent it.
        honcho = subprocess.Popen(
            [sys.executable, "-m", "honcho", "--procfile", "Procfile", "start", "--port", str(port)],
            cwd=BASE_DIR, env=env, start_new_session=True,
        )

        def announce():
            if _wait_for_port(probe_host, port, 60):
                print(_banner(base, env), flush=True)

        threading.Thread(target=announce, daemon=True).start()
        return honcho.wait()
    except (_Stop, KeyboardInterrupt):
        if honcho is not None and honcho.poll() is None:
            honcho.send_signal(signal.SIGTERM)  # honcho stops its processes
        return 0
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        if honcho is not None:
            try:
                honcho.wait(30)
            except subprocess.TimeoutExpired:
                honcho.kill()
                honcho.wait()
        if demo_ehr is not None:
            demo_ehr.terminate()
            try:
                demo_ehr.wait(10)
            except subprocess.TimeoutExpired:
                demo_ehr.kill()
        if redis_server is not None:
            redis_server.stop()
            embedded_redis.clear_state(redis_server)
        state = var_dir / "run" / "public_url"
        if env.get("PUBLIC_BASE_URL") and state.exists() and state.read_text() == env["PUBLIC_BASE_URL"]:
            state.unlink(missing_ok=True)  # ours, not a newer hub's

if __name__ == "__main__":
    sys.exit(main())
