"""The console page and its starting state."""

import json

from django.test import Client

from hub.actions import presence
from hub.lib import access, queue
from hub.lib.event_types import ConversationOut, conversation_out
from hub.models import AgentProfile, Conversation
from tests.factories import inbound


def test_the_queue_snapshot_matches_the_stream_schema_exactly(world):
    inbound(world.practice, first_name="Pat", last_name="Jones", topic_slug="bill")
    inbound(world.practice, phone="+15555550102")
    viewer = access.viewer_for(world.sam)
    snapshot = queue.open_conversations(viewer)
    expected = [conversation_out(c).model_dump(mode="json") for c in
                Conversation.objects.select_related("patient").order_by("-priority", "waiting_since", "id")]
    assert snapshot == expected
    for row in snapshot:
        ConversationOut.model_validate(row)


def test_the_console_page_carries_the_queue_and_the_stream_positions(world):
    inbound(world.practice, first_name="Pat")
    inbound(world.practice, phone="+15555550102", topic_slug="bill")
    client = Client()
    client.force_login(world.alice)
    response = client.get("/console/")
    assert response.status_code == 200
    boot = json.loads(response.content.decode().split('id="console-boot" type="application/json">')[1].split("</script>")[0])
    assert [c["patient_name"] for c in boot["conversations"]] == ["Pat"]  # billing's is not hers
    assert boot["cursors"][f"dept.{world.scheduling.pk}"] == 3
    assert boot["user"]["department_ids"] == [world.scheduling.pk]


def test_the_console_needs_a_login(client):
    response = client.get("/console/")
    assert response.status_code == 302 and response["Location"].startswith("/console/login/")


def test_a_user_without_a_practice_is_told_so(db, client):
    from django.contrib.auth import get_user_model

    client.force_login(get_user_model().objects.create_user("drifter", password="x"))
    response = client.get("/console/")
    assert response.status_code == 403 and b"not a staff member" in response.content


def test_presence_goes_offline_only_when_no_socket_is_left(world, settings):
    presence.signed_in(world.alice.pk, heartbeat=15)
    assert AgentProfile.objects.get(user=world.alice).presence == "available"
    presence.offline_if_gone(world.alice.pk)  # another tab keeps her alive
    assert AgentProfile.objects.get(user=world.alice).presence == "available"
    from django.core.cache import cache

    cache.delete(presence.alive_key(world.alice.pk))
    presence.offline_if_gone(world.alice.pk)
    assert AgentProfile.objects.get(user=world.alice).presence == "offline"


def test_supervisors_find_the_kpis_from_the_console(world, client):
    client.force_login(world.sam)
    assert b'href="/kpi/"' in client.get("/console/").content
    client.force_login(world.alice)
    assert b'href="/kpi/"' not in client.get("/console/").content


def test_the_favicon_browsers_ask_for_is_there(db):
    client = Client()
    answer = client.get("/favicon.ico")
    assert answer.status_code == 301
    icon = client.get(answer["Location"])
    assert icon.status_code == 200
    assert icon["Content-Type"].startswith("image/svg+xml")
    assert b"<svg" in b"".join(icon.streaming_content if icon.streaming else [icon.content])
