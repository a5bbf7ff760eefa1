"""Staff presence: available, busy, away, offline. Every change is kept
(time in each state is a KPI) and published on the practice's stream."""

from __future__ import annotations

from django.db import transaction

from hub.actions.errors import InvalidInput
from hub.lib import clock
from hub.lib.event_types import PresenceOut
from hub.lib.events import practice_stream, publish
from hub.models import AgentProfile, PresenceChange


def presence_out(profile: AgentProfile) -> PresenceOut:
    return PresenceOut(user_id=profile.user_id, name=profile.display_name, presence=profile.presence,
                       changed_at=profile.presence_changed_at)


def set_presence(user_id: int, presence: str, *, reason: str = "manual", only_if: tuple[str, ...] = ()) -> AgentProfile:
    """Change someone's presence. `only_if` applies the change only from
    those states (auto-away must not override a deliberate "busy")."""
    if presence not in AgentProfile.Presence.values:
        raise InvalidInput("Presence is available, busy, away or offline.", code="bad_presence")
    with transaction.atomic():
        profile = AgentProfile.objects.select_for_update(no_key=True).select_related("user").get(user_id=user_id)
        if profile.presence == presence or (only_if and profile.presence not in only_if):
            return profile
        now = clock.now()
        profile.presence, profile.presence_changed_at = presence, now
        profile.save(update_fields=["presence", "presence_changed_at"])
        PresenceChange.objects.create(practice_id=profile.practice_id, user_id=user_id, presence=presence,
                                      reason=reason[:32], at=now)
        publish(([practice_stream(profile.practice_id)], "presence.updated", presence_out(profile)))
        if presence == AgentProfile.Presence.AVAILABLE:
            transaction.on_commit(lambda: _offer_backlog_later(user_id))
        practice_id = profile.practice_id
        transaction.on_commit(lambda: tell_chat_visitors(practice_id))
    return profile


def tell_chat_visitors(practice_id: int) -> None:
    """Open chat widgets say honestly whether anyone is there."""
    from channels_app.webchat.service import availability
    from hub.lib.events import broadcast, practice_visitors_group

    broadcast(practice_visitors_group(practice_id), {"type": "availability.changed", **availability(practice_id)})


def _offer_backlog_later(user_id: int) -> None:
    from hub.tasks import offer_backlog

    try:
        offer_backlog.delay(user_id)
    except Exception:
        pass  # the offers sweep will offer the backlog


def alive_key(user_id: int) -> str:
    return f"presence:alive:{user_id}"


def mark_alive(user_id: int, seconds: float) -> None:
    """A console socket of this person is open (refreshed by its heartbeats,
    in Redis so that every server process sees it)."""
    from django.core.cache import cache

    cache.set(alive_key(user_id), 1, timeout=int(seconds) + 1)


def console_key(user_id: int) -> str:
    return f"presence:console:{user_id}"


def signed_in(user_id: int, heartbeat: float) -> None:
    from django.conf import settings
    from django.core.cache import cache

    mark_alive(user_id, heartbeat * 3)
    # This person's presence now follows their console sockets, even if the
    # process holding them dies without closing them (see sweep_gone).
    cache.set(console_key(user_id), 1, timeout=settings.SESSION_COOKIE_AGE)
    set_presence(user_id, AgentProfile.Presence.AVAILABLE, reason="signed in",
                 only_if=(AgentProfile.Presence.OFFLINE,))


def offline_if_gone(user_id: int) -> None:
    """After a socket closed: offline, unless another tab or a reconnect
    kept the person alive."""
    from django.core.cache import cache

    if cache.get(alive_key(user_id)) is None:
        cache.delete(console_key(user_id))
        set_presence(user_id, AgentProfile.Presence.OFFLINE, reason="disconnected",
                     only_if=(AgentProfile.Presence.AVAILABLE, AgentProfile.Presence.BUSY,
                              AgentProfile.Presence.AWAY))


def sweep_gone() -> int:
    """Offline for everyone whose console sockets all ended without closing:
    their server process was killed or its machine lost, so no disconnect
    scheduled the usual check. Returns how many went offline."""
    from django.core.cache import cache

    users = list(AgentProfile.objects.exclude(presence=AgentProfile.Presence.OFFLINE)
                 .values_list("user_id", flat=True))
    if not users:
        return 0
    found = cache.get_many([console_key(u) for u in users] + [alive_key(u) for u in users])
    gone = [u for u in users if console_key(u) in found and alive_key(u) not in found]
    for user_id in gone:
        offline_if_gone(user_id)
    return len(gone)
