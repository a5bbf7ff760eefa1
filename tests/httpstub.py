"""A real HTTP server on 127.0.0.1 that records requests and answers from a
script: for exercising the hub's outbound HTTP without mocking its client."""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict
    body: bytes

    def json(self):
        return json.loads(self.body)


@dataclass
class Stub:
    server: ThreadingHTTPServer
    requests: list[Recorded] = field(default_factory=list)
    script: deque = field(default_factory=deque)  # of (status, body, delay_seconds)

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def answer(self, status: int, body: str | bytes = "", delay: float = 0.0, times: int = 1) -> None:
        for _ in range(times):
            self.script.append((status, body, delay))

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def start_stub() -> Stub:
    stub: Stub

    class Handler(BaseHTTPRequestHandler):
        def _handle(self):
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            stub.requests.append(Recorded(self.command, self.path, dict(self.headers), body))
            status, text, delay = stub.script.popleft() if stub.script else (200, "", 0.0)
            if delay:
                time.sleep(delay)
            payload = text if isinstance(text, bytes) else text.encode()
            self.send_response(status)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_POST = _handle

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    stub = Stub(server=server)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    return stub
