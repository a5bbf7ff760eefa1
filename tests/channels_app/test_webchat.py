"""The widget's socket: origin, identity, messages both ways, replay, limits."""

import uuid

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator

from channels_app.webchat import consumer as widget_consumer
from channels_app.webchat import tokens
from hub.actions import outbound
from hub.asgi import application
from hub.lib import access
from hub.models import ConsentChange, ContactPoint, Conversation, Event, Practice
from tests.conftest import build_world
from tests.console.helpers import drain, hello, open_socket

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True)]

ORIGIN = b"http://localhost:8000"


async def widget(practice, origin=ORIGIN):
    communicator = WebsocketCommunicator(application, f"/ws/widget/{practice.widget_key}/",
                                         headers=[(b"origin", origin)] if origin else [])
    connected, _ = await communicator.connect(timeout=5)
    assert connected
    return communicator


async def start(communicator, **form):
    await communicator.send_json_to({"type": "start", "name": "Pat", **form})
    welcome = await communicator.receive_json_from(timeout=5)
    assert welcome["type"] == "welcome", welcome
    return welcome


async def say(communicator, body, topic=""):
    client_id = uuid.uuid4().hex
    await communicator.send_json_to({"type": "message", "id": client_id, "body": body, "topic": topic})
    return client_id


async def until(communicator, kind, timeout=5):
    while True:
        message = await communicator.receive_json_from(timeout=timeout)
        if message["type"] == kind:
            return message


create_world = database_sync_to_async(build_world)


@database_sync_to_async
def agent_reply(user, conversation_id, body, channel=None):
    return outbound.send_message(access.viewer_for(user), conversation_id, body, channel=channel)


async def test_an_unknown_practice_key_is_refused():
    communicator = WebsocketCommunicator(application, "/ws/widget/pk_nope/", headers=[(b"origin", ORIGIN)])
    await communicator.connect()
    assert (await communicator.receive_output())["code"] == 4404


async def test_a_foreign_origin_is_refused():
    world = await create_world()
    communicator = await widget(world.practice, origin=b"https://evil.example")
    closed = await communicator.receive_output()
    assert closed == {"type": "websocket.close", "code": 4403, "reason": "origin not allowed"}


async def test_a_visitor_chats_and_the_agent_answers():
    world = await create_world()
    communicator = await widget(world.practice)
    welcome = await start(communicator)
    assert welcome["token"] and welcome["conversation_id"] is None and welcome["agents_available"] is False
    client_id = await say(communicator, "Do you take Aetna?", topic="bill")
    ack = await until(communicator, "ack")
    assert ack["id"] == client_id
    own = await until(communicator, "event")
    assert own["event"]["direction"] == "in" and own["event"]["body"] == "Do you take Aetna?"

    conversation = await database_sync_to_async(Conversation.objects.select_related("department").get)()
    assert conversation.channel == "web" and conversation.department_id == world.billing.pk
    await agent_reply(world.bob, conversation.pk, "Yes, we do! Which plan?")
    reply = await until(communicator, "event")
    assert reply["event"] | {"id": 0, "created_at": ""} == {
        "id": 0, "conversation_id": conversation.pk, "seq": reply["event"]["seq"], "direction": "out",
        "channel": "web", "body": "Yes, we do! Which plan?", "created_at": "", "agent_name": "Bob",
        "attachments": [], "status": "pending"}
    await communicator.disconnect()


async def test_the_widget_never_sees_notes_or_internal_lines():
    world = await create_world()
    communicator = await widget(world.practice)
    await start(communicator)
    await say(communicator, "hello")
    await until(communicator, "event")
    conversation = await database_sync_to_async(Conversation.objects.get)()
    await database_sync_to_async(outbound.add_note)(access.viewer_for(world.alice), conversation.pk,
                                                    "Sounds like a billing question")
    await agent_reply(world.alice, conversation.pk, "Hi Pat!")
    events = [m for m in await drain(communicator, 0.5) if m["type"] == "event"]
    assert [e["event"]["body"] for e in events] == ["Hi Pat!"]


async def test_a_returning_visitor_resumes_and_gets_exactly_what_they_missed():
    world = await create_world()
    first = await widget(world.practice)
    token = (await start(first))["token"]
    await say(first, "first message")
    seen = await until(first, "event")
    cursor = {"conversation_id": seen["event"]["conversation_id"], "seq": seen["event"]["seq"]}
    await first.disconnect()

    conversation_id = cursor["conversation_id"]
    await agent_reply(world.alice, conversation_id, "missed reply one")
    await database_sync_to_async(outbound.add_note)(access.viewer_for(world.alice), conversation_id, "note")
    await agent_reply(world.alice, conversation_id, "missed reply two")

    second = await widget(world.practice)
    await second.send_json_to({"type": "resume", "token": token, "cursor": cursor})
    welcome = await until(second, "welcome")
    assert welcome["conversation_id"] == conversation_id
    replayed = [m["event"]["body"] for m in await drain(second, 0.5) if m["type"] == "event"]
    assert replayed == ["missed reply one", "missed reply two"]

    # A reload with no cursor gets the whole conversation.
    third = await widget(world.practice)
    await third.send_json_to({"type": "resume", "token": token})
    await until(third, "welcome")
    everything = [m["event"]["body"] for m in await drain(third, 0.5) if m["type"] == "event"]
    assert everything == ["first message", "missed reply one", "missed reply two"]


async def test_a_repeated_message_id_is_stored_once():
    world = await create_world()
    communicator = await widget(world.practice)
    await start(communicator)
    for _ in range(2):
        await communicator.send_json_to({"type": "message", "id": "abcdef0123456789", "body": "once"})
        await until(communicator, "ack")
    assert await database_sync_to_async(Event.objects.filter(body="once").count)() == 1


async def test_message_rules_are_explained_to_the_patient(monkeypatch):
    world = await create_world()
    communicator = await widget(world.practice)
    await communicator.send_json_to({"type": "message", "id": "x" * 16, "body": "before start"})
    assert (await until(communicator, "error"))["code"] == "not_started"
    await start(communicator)
    await communicator.send_json_to({"type": "message", "id": "y" * 16, "body": "x" * 2001})
    assert (await until(communicator, "error"))["code"] == "too_long"
    await communicator.send_json_to({"type": "message", "id": "z" * 16, "body": "   "})
    assert (await until(communicator, "error"))["code"] == "empty"
    # Every attempt counts, the two refused above included.
    monkeypatch.setattr(widget_consumer, "MESSAGES_PER_VISITOR", (5, 60))
    codes = []
    for i in range(5):
        await say(communicator, f"spam {i}")
        reply = await communicator.receive_json_from()
        while reply["type"] == "event":
            reply = await communicator.receive_json_from()
        codes.append(reply["type"] if reply["type"] == "ack" else reply["code"])
    assert codes == ["ack", "ack", "ack", "rate_limited", "rate_limited"]


async def test_the_start_form_links_a_new_mobile_number_with_consent():
    world = await create_world()
    communicator = await widget(world.practice)
    welcome = await start(communicator, phone="(555) 555-0177", sms_consent=True)
    assert welcome["sms_number"] == "+1••••••0177"
    contact = await database_sync_to_async(ContactPoint.objects.get)(kind="phone")
    assert contact.address == "+15555550177"
    change = await database_sync_to_async(ConsentChange.objects.get)()
    assert (change.opted_in, change.source) == (True, "widget")


async def test_a_number_someone_else_already_has_is_not_linked():
    world = await create_world()
    from tests.factories import inbound

    await database_sync_to_async(inbound)(world.practice, phone="+15555550188", body="texted before")
    communicator = await widget(world.practice)
    welcome = await start(communicator, phone="+15555550188", sms_consent=True)
    assert welcome["sms_number"] is None
    owner = await database_sync_to_async(
        lambda: ContactPoint.objects.get(kind="phone", address="+15555550188").patient.first_name)()
    assert owner == ""  # still the texter's, not the visitor's


async def test_a_number_without_consent_is_not_kept():
    world = await create_world()
    communicator = await widget(world.practice)
    await start(communicator, phone="+15555550199", sms_consent=False)
    assert not await database_sync_to_async(ContactPoint.objects.filter(kind="phone").exists)()


async def test_continue_by_sms_moves_the_thread_to_texts(settings):
    settings.SMS_BACKEND = "sandbox"
    world = await create_world()
    communicator = await widget(world.practice)
    await start(communicator, phone="+15555550166", sms_consent=True)
    await say(communicator, "I have to go, can you text me?")
    await until(communicator, "event")
    await communicator.send_json_to({"type": "continue_by_sms"})
    handoff = await until(communicator, "sms_handoff")
    assert handoff["masked_number"] == "+1••••••0166"
    conversation = await database_sync_to_async(Conversation.objects.get)()
    assert conversation.channel == "sms"
    text = await database_sync_to_async(Event.objects.get)(direction="out")
    assert text.channel == "sms" and text.data["automatic"] == "sms_handoff"


async def test_typing_travels_both_ways():
    world = await create_world()
    visitor = await widget(world.practice)
    await start(visitor)
    await say(visitor, "hello")
    await until(visitor, "event")
    conversation = await database_sync_to_async(Conversation.objects.get)()
    agent = await open_socket(world.alice)
    await hello(agent)
    await visitor.send_json_to({"type": "typing"})
    typing = await until(agent, "typing")
    assert typing == {"type": "typing", "conversation_id": conversation.pk, "who": "patient"}
    await agent.send_json_to({"type": "typing", "conversation_id": conversation.pk})
    assert await until(visitor, "typing") == {"type": "typing", "who": "agent", "name": "Alice"}
    await agent.disconnect()


async def test_read_receipts_both_ways():
    from django.test import Client

    world = await create_world()
    visitor = await widget(world.practice)
    await start(visitor)
    await say(visitor, "hello")
    own = await until(visitor, "event")
    conversation_id = own["event"]["conversation_id"]

    def agent_opens():
        client = Client()
        client.force_login(world.alice)
        assert client.get(f"/api/v1/conversations/{conversation_id}").status_code == 200

    await database_sync_to_async(agent_opens)()
    assert await until(visitor, "read") == {"type": "read", "conversation_id": conversation_id,
                                             "seq": own["event"]["seq"]}
    reply = await agent_reply(world.alice, conversation_id, "Hi!")
    shown = await until(visitor, "event")
    await visitor.send_json_to({"type": "read", "conversation_id": conversation_id, "seq": shown["event"]["seq"]})
    await drain(visitor, 0.3)
    assert (await database_sync_to_async(Event.objects.get)(pk=reply.pk)).delivery_status == "read"


async def test_html_is_stored_and_sent_as_text():
    world = await create_world()
    communicator = await widget(world.practice)
    await start(communicator, name="<b>Pat</b>")
    await say(communicator, "<script>alert(1)</script>")
    event = await until(communicator, "event")
    assert event["event"]["body"] == "<script>alert(1)</script>"
    patient = await database_sync_to_async(lambda: Conversation.objects.get().patient.first_name)()
    assert patient == "<b>Pat</b>"


assert Practice


async def test_an_uploaded_file_reaches_the_widget_with_its_attachment(settings, tmp_path):
    from pathlib import Path

    from channels_app.webchat import service

    settings.MEDIA_ROOT = tmp_path
    world = await create_world()
    communicator = await widget(world.practice)
    token = (await start(communicator))["token"]
    visitor_id = tokens.verify(token, world.practice.pk)
    visitor = await database_sync_to_async(service.visitor_for)(world.practice.pk, visitor_id)
    png = (Path(__file__).resolve().parents[2] / "console/static/console/demo-card.png").read_bytes()
    await database_sync_to_async(service.upload)(visitor, client_id="f" * 16, content=png, filename="rash.png",
                                                 declared="image/png", caption="Rash on my arm")
    event = await until(communicator, "event")
    assert event["event"]["body"] == "Rash on my arm"
    assert event["event"]["attachments"] == [{"content_type": "image/png", "filename": "rash.png", "status": "stored"}]


async def test_open_widgets_hear_when_agents_become_available():
    from hub.actions import presence

    world = await create_world()
    communicator = await widget(world.practice)
    assert (await start(communicator))["agents_available"] is False
    await database_sync_to_async(presence.set_presence)(world.alice.pk, "available")
    changed = await until(communicator, "availability")
    assert changed["agents_available"] is True


async def test_a_rate_limited_message_names_its_id(monkeypatch):
    world = await create_world()
    communicator = await widget(world.practice)
    await start(communicator)
    monkeypatch.setattr(widget_consumer, "MESSAGES_PER_VISITOR", (0, 60))
    client_id = await say(communicator, "too fast")
    error = await until(communicator, "error")
    assert error["code"] == "rate_limited" and error["id"] == client_id


async def test_a_message_while_redis_is_down_closes_with_try_again_and_is_sent_again(monkeypatch):
    """The rate limiter lives in Redis: while Redis restarts the socket is
    closed with 1013 (try again), never crashed, and the message sent again
    after the reconnect is stored once."""
    import redis

    from hub.lib import ratelimit

    world = await create_world()
    communicator = await widget(world.practice)
    welcome = await start(communicator)
    real_hit = ratelimit.hit

    def redis_down(*args, **kwargs):
        raise redis.exceptions.ConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(ratelimit, "hit", redis_down)
    client_id = await say(communicator, "are you there?")
    closed = await communicator.receive_output(timeout=5)
    assert closed["type"] == "websocket.close" and closed["code"] == 1013
    monkeypatch.setattr(ratelimit, "hit", real_hit)
    again = await widget(world.practice)
    await again.send_json_to({"type": "resume", "token": welcome["token"]})
    await until(again, "welcome")
    await again.send_json_to({"type": "message", "id": client_id, "body": "are you there?", "topic": ""})
    ack = await until(again, "ack")
    assert ack["id"] == client_id
    count = await database_sync_to_async(
        lambda: Event.objects.filter(body="are you there?").count())()
    assert count == 1
    await again.disconnect()


@database_sync_to_async
def left_lines(conversation_id):
    return list(Event.objects.filter(conversation_id=conversation_id, data__action="visitor_left")
                .values_list("body", flat=True))


async def _gone_for_a_while(settings):
    import asyncio

    await asyncio.sleep(settings.WIDGET_ALIVE_SECONDS + 0.3)


async def test_a_visitor_who_closes_the_page_while_waiting_has_left(settings):
    from channels_app.webchat.tasks import check_visitor_left
    from hub.lib import clock

    settings.WIDGET_ALIVE_SECONDS = 1
    world = await create_world()
    communicator = await widget(world.practice)
    await start(communicator)
    await say(communicator, "Anyone there?")
    await until(communicator, "event")
    conversation = await database_sync_to_async(Conversation.objects.get)()
    await communicator.disconnect()
    left_at = clock.now()
    await _gone_for_a_while(settings)
    assert await database_sync_to_async(check_visitor_left)(conversation.patient_id, left_at.isoformat())
    assert await left_lines(conversation.pk) == ["The patient left the chat"]
    # Once per wait.
    assert not await database_sync_to_async(check_visitor_left)(conversation.patient_id, left_at.isoformat())


async def test_a_visitor_who_comes_back_or_is_not_waiting_has_not_left(settings):
    from channels_app.webchat.tasks import check_visitor_left
    from hub.lib import clock

    settings.WIDGET_ALIVE_SECONDS = 1
    world = await create_world()
    first = await widget(world.practice)
    token = (await start(first))["token"]
    await say(first, "hello")
    await until(first, "event")
    conversation = await database_sync_to_async(Conversation.objects.get)()
    await first.disconnect()
    left_at = clock.now()
    # A page reload: the widget is back before the check runs.
    second = await widget(world.practice)
    await second.send_json_to({"type": "resume", "token": token})
    await until(second, "welcome")
    assert not await database_sync_to_async(check_visitor_left)(conversation.patient_id, left_at.isoformat())
    # Answered: closing the page now is not leaving a queue.
    await agent_reply(world.alice, conversation.pk, "Hi!")
    await second.disconnect()
    left_at = clock.now()
    await _gone_for_a_while(settings)
    assert not await database_sync_to_async(check_visitor_left)(conversation.patient_id, left_at.isoformat())
    assert await left_lines(conversation.pk) == []
