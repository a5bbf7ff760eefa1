"""Serving the demo EHR: a threaded wsgiref server that logs nothing.

Request lines carry patients' phone numbers and names (search parameters),
so the handler's access and error logging is silenced entirely, and so is
wsgiref's traceback printing (the app answers its own errors).
"""

from __future__ import annotations

import io
import threading
from dataclasses import dataclass
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server as wsgiref_make_server

from hub.ehr.demo.app import FHIR_PREFIX, TOKEN_PATH


class SilentHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass

    def get_stderr(self) -> io.StringIO:
        return io.StringIO()


class ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True  # a request held by a "delay" fault must not block shutdown
    block_on_close = False

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # e.g. a client that hung up during a delay: nothing worth a traceback


def make_server(host: str, port: int, app: Any) -> ThreadingWSGIServer:
    return wsgiref_make_server(host, port, app, server_class=ThreadingWSGIServer, handler_class=SilentHandler)


def origin(server: ThreadingWSGIServer) -> str:
    host, port = server.server_address[:2]
    return f"http://{'127.0.0.1' if host in ('0.0.0.0', '') else host}:{port}"


@dataclass
class RunningServer:
    """A demo EHR serving on a background thread."""

    server: ThreadingWSGIServer
    thread: threading.Thread
    app: Any

    @property
    def base_url(self) -> str:
        return origin(self.server) + FHIR_PREFIX

    @property
    def token_url(self) -> str:
        return origin(self.server) + TOKEN_PATH

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


def start_in_thread(app: Any, host: str = "127.0.0.1", port: int = 0) -> RunningServer:
    """Serve `app` on a daemon thread (port 0: any free port)."""
    server = make_server(host, port, app)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                              name="demo-ehr", daemon=True)
    thread.start()
    return RunningServer(server, thread, app)
