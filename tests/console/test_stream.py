"""The console socket: authentication, origin, replay by sequence."""

import pytest
from channels.db import database_sync_to_async
from django.test import override_settings

from hub.lib import events
from tests.conftest import build_world
from tests.console.helpers import ORIGIN, drain, hello, open_socket, receive_until
from tests.factories import inbound

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True)]

create_world = database_sync_to_async(build_world)
ingest_sync = database_sync_to_async(inbound)


def dept(world):
    return f"dept.{world.scheduling.pk}"


async def test_a_socket_without_a_session_is_closed_with_4401():
    communicator = await open_socket(None)
    closed = await communicator.receive_output(timeout=5)
    assert closed == {"type": "websocket.close", "code": 4401, "reason": "sign in first"}


async def test_a_socket_from_a_foreign_origin_is_closed_with_4403():
    world = await create_world()
    communicator = await open_socket(world.alice, origin=b"https://evil.example")
    closed = await communicator.receive_output(timeout=5)
    assert closed["type"] == "websocket.close" and closed["code"] == 4403


async def test_a_socket_with_no_origin_is_refused():
    world = await create_world()
    communicator = await open_socket(world.alice, origin=None)
    closed = await communicator.receive_output(timeout=5)
    assert closed["code"] == 4403


async def test_a_user_with_no_practice_is_refused():
    from django.contrib.auth import get_user_model

    stranger = await database_sync_to_async(get_user_model().objects.create_user)("stranger", password="x")
    communicator = await open_socket(stranger)
    closed = await communicator.receive_output(timeout=5)
    assert closed["code"] == 4403


async def test_malformed_cursors_close_the_socket_with_4400():
    world = await create_world()
    communicator = await open_socket(world.alice)
    await communicator.send_json_to({"type": "hello", "cursors": {"dept.1": "lots"}})
    closed = await communicator.receive_output(timeout=5)
    assert closed["code"] == 4400


async def test_garbage_gets_an_error_not_a_crash():
    world = await create_world()
    communicator = await open_socket(world.alice)
    await communicator.send_to(text_data="{not json")
    assert (await communicator.receive_json_from())["code"] == "bad_json"
    await communicator.send_json_to({"type": "launch"})
    assert (await communicator.receive_json_from())["code"] == "unknown_type"
    await hello(communicator)
    await communicator.disconnect()


async def test_live_events_arrive_with_their_sequence():
    world = await create_world()
    communicator = await open_socket(world.alice)
    welcome = await hello(communicator)
    assert dept(world) in welcome["heads"]
    await ingest_sync(world.practice, body="hello")
    got = await receive_until(communicator, lambda m: m["type"] == "conversation.updated")
    assert [(m["type"], m["stream"], m["seq"]) for m in got] == [
        ("event.created", dept(world), 1), ("event.created", dept(world), 2),
        ("conversation.updated", dept(world), 3)]
    assert got[0]["payload"]["body"].startswith("Routed to Scheduling")
    assert got[1]["payload"]["body"] == "hello"
    await communicator.disconnect()


async def test_an_agent_does_not_receive_another_departments_events():
    world = await create_world()
    communicator = await open_socket(world.bob)  # billing
    await hello(communicator)
    await ingest_sync(world.practice, body="for scheduling")
    assert await drain(communicator, 0.5) == []
    await communicator.disconnect()


async def test_reconnect_with_last_sequence_replays_exactly_what_was_missed():
    world = await create_world()
    first = await open_socket(world.alice)
    await hello(first)
    await ingest_sync(world.practice, body="m1")
    seen = await receive_until(first, lambda m: m["seq"] == 3)
    cursor = seen[-1]["seq"]
    await first.disconnect()

    for i in range(3):
        await ingest_sync(world.practice, body=f"missed {i}")

    second = await open_socket(world.alice)
    await hello(second, {dept(world): cursor})
    replayed = await drain(second, 0.5)
    # The conversation was already waiting: each message is one event, no
    # new conversation snapshot.
    assert [m["seq"] for m in replayed] == [4, 5, 6]
    assert [m["payload"]["body"] for m in replayed] == ["missed 0", "missed 1", "missed 2"]

    await ingest_sync(world.practice, body="live again")
    live = await receive_until(second, lambda m: m["type"] == "event.created")
    assert [m["seq"] for m in live] == [7]
    await second.disconnect()


async def test_a_dropped_live_message_is_filled_from_the_database_before_the_next(monkeypatch):
    world = await create_world()
    communicator = await open_socket(world.alice)
    await hello(communicator)

    real_send = events._send

    async def lose_everything(pending):
        return None

    monkeypatch.setattr(events, "_send", lose_everything)
    await ingest_sync(world.practice, body="lost in transit")
    monkeypatch.setattr(events, "_send", real_send)
    await ingest_sync(world.practice, body="arrives")

    got = await receive_until(communicator, lambda m: m["seq"] == 4)
    assert [m["seq"] for m in got] == [1, 2, 3, 4]
    assert [m["payload"]["body"] for m in got if m["type"] == "event.created"][1:] == ["lost in transit", "arrives"]
    await communicator.disconnect()


async def caught_up_with_two_held_back(monkeypatch, bodies):
    """A socket that has everything so far, and the publishes of two more
    messages, stored but not yet sent (seq 4 and 5): (the socket, the two
    sends)."""
    world = await create_world()
    communicator = await open_socket(world.alice)
    await hello(communicator)
    await ingest_sync(world.practice, body="first")  # opens the conversation: seq 1-3
    await receive_until(communicator, lambda m: m["seq"] == 3)
    real_send, held = events._send, []

    async def hold(pending):
        held.append(pending)

    monkeypatch.setattr(events, "_send", hold)
    for body in bodies:
        await ingest_sync(world.practice, body=body)
    monkeypatch.setattr(events, "_send", real_send)
    return communicator, [lambda pending=pending: real_send(pending) for pending in held]


async def test_entries_that_arrive_out_of_order_are_sent_in_order_without_a_replay(monkeypatch):
    """Two commits on one stream, published by different processes, can
    reach a socket in the other order: the later one waits for the earlier,
    and nothing is read from the database."""
    from hub.lib import replay

    communicator, sends = await caught_up_with_two_held_back(monkeypatch, ["second", "third"])
    reads = []
    real_entries = replay.entries
    monkeypatch.setattr(replay, "entries", lambda *args: reads.append(args) or real_entries(*args))

    await sends[1]()  # "third" first
    assert await communicator.receive_nothing(timeout=0.1)
    await sends[0]()
    got = await receive_until(communicator, lambda m: m["seq"] == 5)
    assert [(m["seq"], m["payload"]["body"]) for m in got] == [(4, "second"), (5, "third")]
    assert reads == []
    assert await communicator.receive_nothing(timeout=0.4)  # nothing twice
    await communicator.disconnect()


async def test_an_entry_whose_predecessor_never_comes_is_sent_after_the_gap_is_read(monkeypatch):
    with override_settings(GAP_WAIT_SECONDS=0.2):
        communicator, sends = await caught_up_with_two_held_back(monkeypatch, ["lost", "late"])
        await sends[1]()
        got = await receive_until(communicator, lambda m: m["seq"] == 5)
        assert [(m["seq"], m["payload"]["body"]) for m in got] == [(4, "lost"), (5, "late")]
        await sends[0]()  # turns up after all: already sent
        assert await communicator.receive_nothing(timeout=0.3)
        await communicator.disconnect()


async def test_the_heartbeat_repairs_a_lost_message_when_nothing_else_arrives(monkeypatch):
    world = await create_world()
    with override_settings(HEARTBEAT_SECONDS=0.4):
        communicator = await open_socket(world.alice)
        await hello(communicator)

        async def lose_everything(pending):
            return None

        monkeypatch.setattr(events, "_send", lose_everything)
        await ingest_sync(world.practice, body="only the heartbeat can save me")
        got = []
        while len([m for m in got if "seq" in m]) < 3:
            message = await communicator.receive_json_from(timeout=3)
            got.append(message)
        assert any(m["type"] == "heartbeat" for m in got)
        assert [m["seq"] for m in got if "seq" in m] == [1, 2, 3]
        await communicator.disconnect()


async def test_the_heartbeat_leaves_entries_on_their_way_to_arrive_by_themselves(monkeypatch):
    """On a busy stream the head runs a little ahead of what has arrived.
    A heartbeat reads from the database only what has been missing since
    the heartbeat before; what is merely on its way arrives once, by
    itself."""
    from hub.lib import replay

    async def until_heartbeat(communicator):
        seen = []
        while not seen or seen[-1]["type"] != "heartbeat":
            seen.append(await communicator.receive_json_from(timeout=5))
        return seen

    world = await create_world()
    with override_settings(HEARTBEAT_SECONDS=1.0):
        communicator = await open_socket(world.alice)
        await hello(communicator)
        await ingest_sync(world.practice, body="first")  # seq 1-3
        got = await until_heartbeat(communicator)
        assert max(m["seq"] for m in got if "seq" in m) == 3
        real_send, held = events._send, []

        async def hold(pending):
            held.append(pending)

        monkeypatch.setattr(events, "_send", hold)
        await ingest_sync(world.practice, body="second")
        await ingest_sync(world.practice, body="third")
        monkeypatch.setattr(events, "_send", real_send)
        reads = []
        real_entries = replay.entries
        monkeypatch.setattr(replay, "entries", lambda *args: reads.append(args) or real_entries(*args))
        await real_send(held[0])  # seq 4 arrives; seq 5 is still on its way at the next heartbeat
        got = await until_heartbeat(communicator)
        assert [m["seq"] for m in got if "seq" in m] == [4]
        assert got[-1]["heads"][dept(world)] == 5
        assert reads == []
        await real_send(held[1])
        got = await receive_until(communicator, lambda m: m.get("seq") == 5)
        assert [m["seq"] for m in got if "seq" in m] == [5]
        # Had it been lost instead, the heartbeat after would have read it.
        got = await until_heartbeat(communicator)
        assert [m for m in got if "seq" in m] == [] and reads == []
        await communicator.disconnect()


async def test_two_tabs_each_get_every_event_once():
    world = await create_world()
    tab1, tab2 = await open_socket(world.alice), await open_socket(world.alice)
    await hello(tab1)
    await hello(tab2)
    await ingest_sync(world.practice, body="both tabs")
    for tab in (tab1, tab2):
        got = await drain(tab, 0.5)
        assert [m["seq"] for m in got] == [1, 2, 3]
        await tab.disconnect()


async def test_a_supervisor_follows_every_department():
    world = await create_world()
    communicator = await open_socket(world.sam)
    welcome = await hello(communicator)
    assert {f"dept.{world.scheduling.pk}", f"dept.{world.billing.pk}", f"dept.{world.nurse.pk}"} <= set(welcome["heads"])
    await ingest_sync(world.practice, body="to billing", topic_slug="bill")
    got = await receive_until(communicator, lambda m: m["type"] == "conversation.updated")
    assert got[0]["stream"] == f"dept.{world.billing.pk}"
    await communicator.disconnect()


async def test_a_cursor_ahead_of_the_server_asks_the_client_to_resync():
    world = await create_world()
    communicator = await open_socket(world.alice)
    await communicator.send_json_to({"type": "hello", "cursors": {dept(world): 999}})
    assert (await communicator.receive_json_from())["type"] == "welcome"
    resync = await communicator.receive_json_from()
    assert resync == {"type": "resync", "stream": dept(world), "seq": 0}
    await communicator.disconnect()


async def test_ping_gets_pong():
    world = await create_world()
    communicator = await open_socket(world.alice)
    await hello(communicator)
    await communicator.send_json_to({"type": "ping"})
    assert (await communicator.receive_json_from())["type"] == "pong"
    await communicator.disconnect()


assert ORIGIN
