"""The chat widget's socket across a Redis restart it survives: the restart
drops its group memberships, and its next ping repairs them and sends what
it missed, once."""

import pytest
from channels.db import database_sync_to_async

from hub.models import Conversation
from tests.channels_app.test_webchat import agent_reply, create_world, say, start, until, widget
from tests.console.helpers import drain
from tests.console.test_redis_restart import own_redis  # noqa: F401 (a fixture)

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True)]


async def test_a_ping_after_a_redis_restart_rejoins_and_sends_what_was_missed(own_redis):  # noqa: F811
    world = await create_world()
    communicator = await widget(world.practice)
    await start(communicator)
    await say(communicator, "Is my refill ready?")
    await until(communicator, "event")
    conversation = await database_sync_to_async(Conversation.objects.get)()

    own_redis.restart()  # the socket stays open; its group memberships are gone
    await agent_reply(world.alice, conversation.pk, "Yes, pick it up after 3.")
    assert [m for m in await drain(communicator, 0.5) if m["type"] == "event"] == []

    await communicator.send_json_to({"type": "ping"})
    repaired = await drain(communicator, 0.5)
    assert [(m["type"], m.get("event", {}).get("body")) for m in repaired] == [
        ("event", "Yes, pick it up after 3."), ("pong", None)]

    await agent_reply(world.alice, conversation.pk, "We close at 6.")
    live = [m["event"]["body"] for m in await drain(communicator, 0.5) if m["type"] == "event"]
    assert live == ["We close at 6."]

    await communicator.send_json_to({"type": "ping"})
    assert [m["type"] for m in await drain(communicator, 0.5)] == ["pong"]  # nothing twice
    await communicator.disconnect()
