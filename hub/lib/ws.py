"""Websocket helpers shared by the console and widget sockets."""

import logging
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import ParseResult, urlparse

from channels.consumer import get_handler_name
from channels.db import DatabaseSyncToAsync
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from channels.security.websocket import AllowedHostsOriginValidator
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from hub.lib.env import envint

# Close codes (4000-4999 are the application's own; see docs/protocol.md).
CLOSE_PROTOCOL = 4400
CLOSE_UNAUTHENTICATED = 4401
CLOSE_FORBIDDEN = 4403
CLOSE_RATE_LIMITED = 4429
CLOSE_SESSION_EXPIRED = 4440  # signed out (here, in another tab, by an admin)
# Automatic logoff after inactivity. A code of its own: Daphne does not pass
# close reasons on, so the code alone must tell the page what happened.
CLOSE_IDLE_LOGOFF = 4441
CLOSE_SERVER_RESTART = 4503
# Standard "try again later": a service the socket needs (Redis) is down
# for a moment; the client reconnects and sends again what was unanswered.
CLOSE_TRY_AGAIN = 1013

log = logging.getLogger(__name__)


# The consumers' database calls share this process-wide pool of threads.
DB_THREADS = ThreadPoolExecutor(max_workers=envint("WS_DB_THREADS", 8), thread_name_prefix="ws-db")


def db(func):
    """A consumer's database call, run on the hub's pool of database threads.

    Channels' `database_sync_to_async` is thread-sensitive: outside an HTTP
    request every call of every socket in the process would queue for one
    thread. Consumer calls keep no connection state from one call to the
    next (each opens and ends its own transaction), so any free thread
    serves them. Django's connection is per thread and goes back to the
    psycopg pool after each call; a pool of its own (rather than the event
    loop's default executor) keeps the number of threads, and so of
    connections, the same however many event loops come and go."""
    return DatabaseSyncToAsync(func, thread_sensitive=False, executor=DB_THREADS)


def origin_of(scope) -> ParseResult | None:
    for name, value in scope.get("headers", []):
        if name == b"origin":
            try:
                return urlparse(value.decode("latin1"))
            except (UnicodeDecodeError, ValueError):
                return None
    return None


async def refuse(receive, send, code: int, reason: str) -> None:
    """Accept the handshake only to close it at once with a code and a reason
    a client can read (a bare HTTP 403 tells a browser script nothing). No
    data is ever sent on such a socket."""
    message = await receive()
    if message["type"] == "websocket.connect":
        await send({"type": "websocket.accept"})
        await send({"type": "websocket.close", "code": code, "reason": reason})


def allowed_hosts_only(application):
    """Channels' AllowedHostsOriginValidator, refusing with close code 4403."""
    validator = AllowedHostsOriginValidator(application)

    async def checked(scope, receive, send):
        if scope["type"] == "websocket" and not validator.valid_origin(origin_of(scope)):
            return await refuse(receive, send, CLOSE_FORBIDDEN, "origin not allowed")
        return await application(scope, receive, send)

    return checked


class HubSocket(AsyncJsonWebsocketConsumer):
    """The base of the hub's websocket consumers.

    Channels' consumer, before every message it handles (each client frame
    and each channel-layer message, so each event fanned out to each
    socket), runs `close_old_connections` through `sync_to_async`: a hop to
    the process's one thread-sensitive thread and back, for every socket,
    for every event. The hub's consumers touch the database only through
    `db()` above, which closes stale connections itself on the thread that
    uses them, so that hop does nothing for them but cost CPU and queue
    every socket's messages behind one thread. Here a message goes straight
    to its handler."""

    async def dispatch(self, message):
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        try:
            await handler(message)
        except (RedisConnectionError, RedisTimeoutError):
            # Redis restarting or failing over (rate limits, presence, the
            # channel layer live there): close with "try again" rather than
            # crash; the client reconnects and its replay covers the gap.
            log.warning("a socket closed: Redis did not answer (%s)", message["type"])
            await self.close(code=CLOSE_TRY_AGAIN)
