"""Staff sessions: automatic logoff after inactivity, second-factor state,
and ending a session everywhere at once (its pages and its open sockets).

A session remembers when its person last did something (`LAST_ACTIVE`,
epoch seconds by the hub's clock). Pages and API calls a person makes count
as activity; so does the console's `activity` socket message, sent while
they type, click or scroll. Heartbeats and background refreshes do not.
After `IDLE_LOGOFF_MINUTES` without activity the session is over: the next
request is signed out, and every socket opened with that session closes
with code 4441 (signing out by hand closes them with 4440).

Every socket opened with a session joins that session's channel-layer
group, so signing out (by hand, by idle logoff or by an admin) closes the
person's sockets in every server process.
"""

from __future__ import annotations

import hashlib
import logging
from importlib import import_module

from django.conf import settings

from hub.lib import clock

log = logging.getLogger(__name__)

LAST_ACTIVE = "hub_last_active"
# Writing the session on every request would cost a write per request; the
# mark moves at most this often (so logoff may come this much early).
TOUCH_EVERY_SECONDS = 15
# Requests a page makes by itself (refreshes, polls) carry this header and
# do not count as activity.
BACKGROUND_HEADER = "HTTP_X_HUB_BACKGROUND"

REASON_IDLE = "idle"
REASON_SIGNED_OUT = "signed_out"


def idle_span() -> str:
    """The idle limit for people: "15 minutes", "1 minute"."""
    minutes = settings.IDLE_LOGOFF_MINUTES
    return f"{minutes:g} minute{'' if minutes == 1 else 's'}"


def idle_limit_seconds() -> float:
    return settings.IDLE_LOGOFF_MINUTES * 60


def now_ts() -> float:
    return clock.now().timestamp()


def touch(session, *, force: bool = False) -> None:
    """Mark activity on a session (a SessionBase)."""
    now = now_ts()
    last = session.get(LAST_ACTIVE)
    if force or not isinstance(last, (int, float)) or now - last >= TOUCH_EVERY_SECONDS:
        session[LAST_ACTIVE] = now


def seconds_left(session) -> float | None:
    """Seconds before idle logoff; None when the session has no mark (it
    predates this, or is not a staff session)."""
    if settings.IDLE_LOGOFF_MINUTES <= 0:
        return None
    last = session.get(LAST_ACTIVE)
    if not isinstance(last, (int, float)):
        return None
    return last + idle_limit_seconds() - now_ts()


def is_idle_expired(session) -> bool:
    left = seconds_left(session)
    return left is not None and left <= 0


def session_group(session_key: str) -> str:
    """The channel-layer group of a session's sockets (the key itself is a
    credential: only a digest of it is used as a name)."""
    return "session." + hashlib.sha256(session_key.encode()).hexdigest()[:40]


def store(session_key: str):
    """A fresh SessionStore for a key, read from the store on first use."""
    engine = import_module(settings.SESSION_ENGINE)
    return engine.SessionStore(session_key=session_key)


def end_everywhere(session_key: str | None, reason: str) -> None:
    """Close every socket opened with this session (after the caller has
    flushed or is flushing the session itself)."""
    if not session_key:
        return
    from hub.lib.events import broadcast

    try:
        broadcast(session_group(session_key), {"type": "session.ended", "reason": reason})
    except Exception:  # the sockets still end at their next check
        log.warning("could not tell a session's sockets that it ended", exc_info=True)


def expire_idle(session_key: str, *, user_id: int | None, practice_id: int | None, ip: str | None, via: str) -> None:
    """Idle logoff: delete the session, record it, close its sockets."""
    from hub.lib import audit

    store(session_key).delete(session_key)
    audit.record(user_id=user_id, practice_id=practice_id, action="session.idle_logoff",
                 obj=("user", user_id or 0), via=via, ip=ip,
                 detail={"idle_minutes": settings.IDLE_LOGOFF_MINUTES})
    end_everywhere(session_key, REASON_IDLE)


# --- sockets --------------------------------------------------------------------

ENDED = "ended"  # signed out, deleted or never valid
SECOND_FACTOR = "second_factor"
EXPIRING_WARNING_SECONDS = 120


def socket_state(session_key: str | None, user, *, ip: str | None) -> tuple[str | None, float | None]:
    """(None, seconds left) for a live session; else (ENDED | REASON_IDLE |
    SECOND_FACTOR, None). An idle session found here is ended here."""
    from hub.lib import access, twofactor

    if not session_key or user is None or not user.is_authenticated:
        return ENDED, None
    session = store(session_key)
    if session.get("_auth_user_id") != str(user.pk):
        return ENDED, None
    if is_idle_expired(session):
        expire_idle(session_key, user_id=user.pk, practice_id=access.practice_of(user), ip=ip, via="socket")
        return REASON_IDLE, None
    if twofactor.pending_step(user, session) is not None:
        return SECOND_FACTOR, None
    return None, seconds_left(session)


def socket_activity(session_key: str | None, user) -> None:
    """The person did something in a page whose socket this is."""
    if not session_key:
        return
    session = store(session_key)
    if session.get("_auth_user_id") != str(user.pk) or is_idle_expired(session):
        return  # never revive an ended session
    before = session.get(LAST_ACTIVE)
    touch(session)
    if session.get(LAST_ACTIVE) != before:
        session.save()


class SessionBoundSocket:
    """Mixin for staff sockets (AsyncJsonWebsocketConsumer): the socket lives
    only as long as the session that opened it. Call `bind_session()` in
    connect (after accepting), `check_session()` from a periodic loop and
    before handling client messages, `unbind_session()` in disconnect."""

    session_key: str | None = None
    expiry_warned = False

    def _session_ip(self) -> str | None:
        client = self.scope.get("client")
        return client[0] if client else None

    async def bind_session(self) -> bool:
        session = self.scope.get("session")
        self.session_key = getattr(session, "session_key", None)
        if not await self.check_session():
            return False
        await self.channel_layer.group_add(session_group(self.session_key), self.channel_name)
        return True

    async def unbind_session(self) -> None:
        if self.session_key:
            try:
                await self.channel_layer.group_discard(session_group(self.session_key), self.channel_name)
            except Exception:
                pass  # membership expires by itself

    async def check_session(self) -> bool:
        """False (and the socket closing) when its session is over."""
        from hub.lib.ws import CLOSE_IDLE_LOGOFF, CLOSE_SESSION_EXPIRED, CLOSE_UNAUTHENTICATED, db

        state, left = await db(socket_state)(
            self.session_key, self.scope.get("user"), ip=self._session_ip())
        if state == REASON_IDLE:
            await self.close(code=CLOSE_IDLE_LOGOFF, reason="signed out after inactivity")
            return False
        if state == SECOND_FACTOR:
            await self.close(code=CLOSE_UNAUTHENTICATED, reason="finish signing in first")
            return False
        if state == ENDED:
            await self.close(code=CLOSE_SESSION_EXPIRED, reason="session ended")
            return False
        if left is not None and left <= EXPIRING_WARNING_SECONDS:
            if not self.expiry_warned:
                self.expiry_warned = True
                await self.send_json({"type": "session.expiring", "seconds_left": int(left)})
        else:
            self.expiry_warned = False
        return True

    async def note_activity(self) -> None:
        from hub.lib.ws import db

        await db(socket_activity)(self.session_key, self.scope.get("user"))
        self.expiry_warned = False

    async def session_ended(self, message) -> None:
        """Another process ended this socket's session."""
        from hub.lib.ws import CLOSE_IDLE_LOGOFF, CLOSE_SESSION_EXPIRED

        if message.get("reason") == REASON_IDLE:
            await self.close(code=CLOSE_IDLE_LOGOFF, reason="signed out after inactivity")
        else:
            await self.close(code=CLOSE_SESSION_EXPIRED, reason="signed out")
