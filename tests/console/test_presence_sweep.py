"""Presence when a server process dies with console sockets open: no
disconnect runs, so the periodic sweep (hub.tasks.sweep_presence) sets
offline whoever had a console and no longer sends heartbeats."""

import pytest
from django.core.cache import cache

from hub.actions import presence
from hub.models import AgentProfile
from hub.tasks import sweep_presence


@pytest.fixture(autouse=True)
def no_consoles_yet(world):
    """User ids repeat across tests on SQLite, and Redis keys outlive a test."""
    users = [world.alice.pk, world.bob.pk, world.sam.pk]
    cache.delete_many([presence.alive_key(u) for u in users] + [presence.console_key(u) for u in users])


def presence_of(user) -> str:
    return AgentProfile.objects.get(user=user).presence


def test_a_console_that_went_quiet_is_set_offline_by_the_sweep(world):
    presence.signed_in(world.alice.pk, heartbeat=15)
    presence.signed_in(world.bob.pk, heartbeat=15)
    assert sweep_presence() == 0  # both heartbeats are alive

    cache.delete(presence.alive_key(world.alice.pk))  # her server was killed
    assert sweep_presence() == 1
    assert presence_of(world.alice) == "offline" and presence_of(world.bob) == "available"
    assert sweep_presence() == 0


def test_presence_set_without_a_console_is_left_alone(world):
    presence.set_presence(world.sam.pk, "available")  # through the REST API, no socket
    assert sweep_presence() == 0
    assert presence_of(world.sam) == "available"


def test_an_ordinary_disconnect_ends_the_console_mark(world):
    presence.signed_in(world.alice.pk, heartbeat=15)
    cache.delete(presence.alive_key(world.alice.pk))
    presence.offline_if_gone(world.alice.pk)  # the check a closed socket schedules
    presence.set_presence(world.alice.pk, "available")  # then through the REST API alone
    assert sweep_presence() == 0
    assert presence_of(world.alice) == "available"
