"""Child processes of the hub's launchers and tests: start one with its
output in a log file, signal it, stop it.

A process started here leads a session (and so a process group) of its own:
a terminal's Ctrl-C reaches only its launcher, which decides when and how
each child stops, and SIGKILL takes a child's own children with it (a
Celery worker's pool), as a crash of its machine would.
"""

from __future__ import annotations

import os
import signal
import subprocess
from datetime import datetime, timezone
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent.parent
STOP_SECONDS = 20.0


def spawn(args: list[str], *, env: dict, log: Path, name: str) -> subprocess.Popen:
    """Start `args` in the repository, appending its output to `log`."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "ab") as out:
        stamp = datetime.now(timezone.utc).isoformat(timespec="seconds")
        out.write(f"--- {name} starting at {stamp}\n".encode())
        out.flush()
        return subprocess.Popen(args, cwd=BASE_DIR, env=env, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)


def _leads_group(process: subprocess.Popen) -> bool:
    try:
        return os.getpgid(process.pid) == process.pid
    except ProcessLookupError:
        return False


def send(process: subprocess.Popen, sig: int) -> None:
    """Signal a process. SIGKILL goes to its whole process group when it
    leads one; other signals to the process alone, which tells its own
    children (a worker's warm shutdown waits for its pool)."""
    if process.poll() is not None:
        return
    try:
        if sig == signal.SIGKILL and _leads_group(process):
            os.killpg(process.pid, sig)
        else:
            process.send_signal(sig)
    except ProcessLookupError:
        pass


def kill(process: subprocess.Popen) -> None:
    send(process, signal.SIGKILL)
    if process.poll() is None:
        process.wait(10)


def reap_group(process: subprocess.Popen) -> None:
    """SIGKILL whatever is left of an exited process's group (a pool child
    orphaned by a crash)."""
    if process.poll() is None or not process.pid:
        return
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def stop(process: subprocess.Popen, timeout: float = STOP_SECONDS) -> None:
    """SIGTERM, then SIGKILL if it has not exited within `timeout`."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            kill(process)
