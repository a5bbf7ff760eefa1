"""A chat widget's visitor token opens that visitor's own thread and
nothing else: not another visitor's, not another practice's, and not when
forged. Tokens are signed (channels_app/webchat/tokens.py) and carry the
practice; the widget's protocol takes no conversation or patient ids from
the client, so the token is the only key."""

import uuid

import pytest
from channels.db import database_sync_to_async

from channels_app.webchat import tokens
from tests.channels_app.test_webchat import create_world, say, start, until, widget
from tests.conftest import build_world
from tests.console.helpers import drain

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True)]


async def test_a_forged_visitor_token_is_refused():
    world = await create_world()
    communicator = await widget(world.practice)
    await communicator.send_json_to({"type": "resume", "token": "eyJwIjoxLCJ2IjoiYWJjIn0:forged:signature"})
    assert (await communicator.receive_output())["code"] == 4401


async def test_a_token_from_another_practice_is_refused(other_world=None):
    world = await create_world()
    other = await database_sync_to_async(build_world)("lakeside")
    token = tokens.issue(other.practice.pk, uuid.uuid4().hex)
    communicator = await widget(world.practice)
    await communicator.send_json_to({"type": "resume", "token": token})
    assert (await communicator.receive_output())["code"] == 4401


async def test_a_token_opens_only_its_own_visitors_thread():
    world = await create_world()
    pat = await widget(world.practice)
    await start(pat)
    await say(pat, "Pat's private question")
    await until(pat, "event")
    sam = await widget(world.practice)
    sam_token = (await start(sam, name="Sam"))["token"]
    resumed = await widget(world.practice)
    await resumed.send_json_to({"type": "resume", "token": sam_token})
    await until(resumed, "welcome")
    bodies = [m["event"]["body"] for m in await drain(resumed, 0.5) if m["type"] == "event"]
    assert "Pat's private question" not in bodies
