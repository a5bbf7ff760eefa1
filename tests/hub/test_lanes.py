"""Django's HTTP requests in the web process run on a fixed set of reused
threads (hub/lib/lanes.py), driven here through the hub's ASGI application
with Django's real handler and middleware."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest
from django.http import HttpResponse
from django.urls import path

pytestmark = pytest.mark.django_db(transaction=True)


class Seen:
    lock = threading.Lock()
    running = 0
    most = 0
    threads: set[int] = set()
    finished = 0

    @classmethod
    def reset(cls):
        cls.running = cls.most = cls.finished = 0
        cls.threads = set()


def slow_view(request):
    with Seen.lock:
        Seen.running += 1
        Seen.most = max(Seen.most, Seen.running)
        Seen.threads.add(threading.get_ident())
    try:
        time.sleep(float(request.GET.get("sleep", "0.02")))
    finally:
        with Seen.lock:
            Seen.running -= 1
            Seen.finished += 1
    return HttpResponse(f"thread {threading.get_ident()}")


urlpatterns = [path("slow", slow_view)]


def scope(query: bytes = b"") -> dict:
    return {"type": "http", "method": "GET", "path": "/slow", "raw_path": b"/slow", "query_string": query,
            "headers": [(b"host", b"localhost")], "scheme": "http", "server": ("localhost", 80),
            "client": ("127.0.0.1", 5000), "asgi": {"version": "3.0"}, "http_version": "1.1", "root_path": ""}


async def get(application, query: bytes = b"", *, disconnect_after: float | None = None) -> list[dict]:
    sent: list[dict] = []
    body_given = False

    async def receive():
        nonlocal body_given
        if not body_given:
            body_given = True
            return {"type": "http.request", "body": b"", "more_body": False}
        if disconnect_after is None:
            await asyncio.Event().wait()  # the client stays
        await asyncio.sleep(disconnect_after)
        return {"type": "http.disconnect"}

    async def send(message):
        sent.append(message)

    await application(scope(query), receive, send)
    return sent


@pytest.fixture
def application(settings):
    settings.ROOT_URLCONF = __name__
    Seen.reset()
    from hub.asgi import application

    return application


def test_a_burst_of_requests_runs_on_a_bounded_set_of_reused_threads(application, settings):
    async def burst():
        return await asyncio.gather(*(get(application) for _ in range(60)))

    answers = asyncio.run(burst())
    assert all(sent[0]["status"] == 200 for sent in answers)
    assert Seen.finished == 60
    assert 1 < Seen.most <= settings.HTTP_THREADS
    assert len(Seen.threads) <= settings.HTTP_THREADS
    # A second burst reuses those threads rather than starting new ones:
    # 120 requests in all, never more than HTTP_THREADS threads.
    asyncio.run(burst())
    assert Seen.finished == 120
    assert len(Seen.threads) <= settings.HTTP_THREADS


def test_a_client_that_leaves_mid_request_does_not_hold_up_the_others(application, settings):
    async def run():
        leavers = [get(application, b"sleep=0.3", disconnect_after=0.05) for _ in range(settings.HTTP_THREADS)]
        stayers = [get(application) for _ in range(20)]
        return await asyncio.wait_for(asyncio.gather(*leavers, *stayers), timeout=10)

    answers = asyncio.run(run())
    assert all(sent[0]["status"] == 200 for sent in answers[settings.HTTP_THREADS:])
    assert Seen.running == 0
    assert len(Seen.threads) <= settings.HTTP_THREADS


def test_a_request_goes_to_its_thread_once_for_the_whole_middleware_chain(application, monkeypatch):
    """Every hop between the event loop and the request's thread waits for
    the loop, which also serves every websocket of the process: the chain
    (sessions, CSRF, auth, the second-factor guards, CSP, axes) and the
    view run in one hop, not one or two per middleware."""
    from asgiref import sync

    hops = {"to thread": 0, "to loop": 0}
    to_thread, to_loop = sync.SyncToAsync.__call__, sync.AsyncToSync.__call__

    async def counted_to_thread(self, *args, **kwargs):
        hops["to thread"] += 1
        return await to_thread(self, *args, **kwargs)

    def counted_to_loop(self, *args, **kwargs):
        hops["to loop"] += 1
        return to_loop(self, *args, **kwargs)

    monkeypatch.setattr(sync.SyncToAsync, "__call__", counted_to_thread)
    monkeypatch.setattr(sync.AsyncToSync, "__call__", counted_to_loop)
    sent = asyncio.run(get(application))
    assert sent[0]["status"] == 200
    # The middleware ran: its headers are on the answer.
    assert any(name.lower() == b"content-security-policy" for name, _ in sent[0]["headers"])
    # request_started's receivers, the chain with the view, the response's close.
    assert hops == {"to thread": 3, "to loop": 0}
