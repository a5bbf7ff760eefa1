"""Connecting to the console socket the way a browser does."""

import json

from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.test import Client

from hub.asgi import application

ORIGIN = b"http://localhost:8000"


@database_sync_to_async
def session_cookie(user) -> bytes:
    client = Client()
    client.force_login(user)
    return f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}".encode()


async def open_socket(user=None, *, origin=ORIGIN, path="/ws/console/"):
    headers = [(b"origin", origin)] if origin else []
    if user is not None:
        headers.append((b"cookie", await session_cookie(user)))
    communicator = WebsocketCommunicator(application, path, headers=headers)
    connected, _ = await communicator.connect(timeout=5)
    assert connected
    return communicator


async def hello(communicator, cursors=None):
    await communicator.send_json_to({"type": "hello", "cursors": cursors or {}})
    welcome = await communicator.receive_json_from(timeout=5)
    assert welcome["type"] == "welcome", welcome
    return welcome


async def receive_until(communicator, predicate, timeout=5):
    """Messages up to and including the first that matches, skipping heartbeats."""
    seen = []
    while True:
        message = await communicator.receive_json_from(timeout=timeout)
        if message["type"] == "heartbeat":
            continue
        seen.append(message)
        if predicate(message):
            return seen


async def drain(communicator, wait=0.3):
    """Everything that arrives within `wait` seconds."""
    # receive_nothing, unlike a timed-out receive, leaves the consumer running.
    out = []
    while not await communicator.receive_nothing(timeout=wait):
        out.append(json.loads((await communicator.receive_output())["text"]))
    return [m for m in out if m["type"] != "heartbeat"]
