"""Least privilege, tried the way an intruder would: another department's
thread through the console page, the REST API and the websocket; another
practice's data through exports and the KPI API; the Django admin by staff
who are not superusers. Each attempt is refused and nothing leaks."""

import csv
import io
from datetime import date, timedelta

import pytest
from channels.db import database_sync_to_async
from django.contrib.auth import get_user_model
from django.test import Client

from hub.actions import conversations as conversation_actions
from hub.lib import access
from hub.models import AgentProfile, ApiToken, Event
from kpi import rollup
from tests.conftest import build_world, make_user
from tests.console.helpers import drain, hello, open_socket
from tests.factories import inbound

NURSE_SECRET = "Chest tightness since lunch, Oriole Quintero here"
NURSE_PHONE = "+15555550177"


def nurse_line_thread(world):
    result = inbound(world.practice, phone=NURSE_PHONE, body=NURSE_SECRET, department_slug="nurse",
                     first_name="Oriole", last_name="Quintero")
    assert result.conversation.department_id == world.nurse.pk
    return result.conversation


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def bearer(user) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {ApiToken.issue(user)[1]}"}


def leaks(response) -> bool:
    text = response.content.decode(errors="replace")
    return "Oriole" in text or "Quintero" in text or "Chest tightness" in text or "5550177" in text


# --- another department's thread --------------------------------------------------

def test_the_console_page_never_carries_another_departments_thread(world):
    nurse_line_thread(world)
    page = signed_in(world.bob).get("/console/")
    assert page.status_code == 200
    assert not leaks(page)
    # The supervisor, who covers the whole practice, does get it.
    assert "Oriole" in signed_in(world.sam).get("/console/").content.decode()


@pytest.mark.parametrize("method,path,body", [
    ("get", "/api/v1/conversations/{id}", None),
    ("post", "/api/v1/conversations/{id}/messages", {"body": "Hello from billing"}),
    ("post", "/api/v1/conversations/{id}/notes", {"body": "peeking"}),
    ("post", "/api/v1/conversations/{id}/pick-up", {}),
    ("post", "/api/v1/conversations/{id}/resolve", {}),
    ("get", "/api/v1/patients/{patient}", None),
    ("get", "/api/v1/patients/{patient}/timeline", None),
])
def test_the_api_answers_404_for_another_departments_thread(world, method, path, body):
    conversation = nurse_line_thread(world)
    events_before = Event.objects.filter(conversation=conversation).count()
    url = path.format(id=conversation.pk, patient=conversation.patient_id)
    kwargs = {"data": body, "content_type": "application/json"} if body is not None else {}
    response = getattr(Client(), method)(url, **bearer(world.bob), **kwargs)
    assert response.status_code == 404, (url, response.status_code, response.content[:200])
    assert not leaks(response)
    conversation.refresh_from_db()
    assert conversation.assignee_id is None and conversation.status != "resolved"
    assert Event.objects.filter(conversation=conversation).count() == events_before


def test_lists_and_search_leave_out_another_departments_thread(world):
    nurse_line_thread(world)
    for path in ("/api/v1/conversations", "/api/v1/conversations?status=all", "/api/v1/patients",
                 "/api/v1/patients?q=Oriole", "/api/v1/patients?q=Quintero"):
        response = Client().get(path, **bearer(world.bob))
        assert response.status_code == 200, (path, response.status_code)
        assert not leaks(response), path


def test_a_transferred_thread_becomes_visible_to_the_receiving_agent(world):
    conversation = nurse_line_thread(world)
    client = Client()
    headers = bearer(world.bob)
    assert client.get(f"/api/v1/conversations/{conversation.pk}", **headers).status_code == 404
    conversation_actions.transfer(access.viewer_for(world.sam), conversation.pk, department_id=world.billing.pk,
                                  reason="billing question after all")
    assert client.get(f"/api/v1/conversations/{conversation.pk}", **headers).status_code == 200


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_the_websocket_carries_nothing_of_another_departments_thread():
    world = await database_sync_to_async(build_world)()
    bob = await open_socket(world.bob)
    await hello(bob)
    sam = await open_socket(world.sam)
    await hello(sam)
    conversation = await database_sync_to_async(nurse_line_thread)(world)
    # The supervisor sees it arrive: the event really was published.
    seen_by_sam = await drain(sam, wait=1.0)
    assert any(m.get("payload", {}).get("conversation_id") == conversation.pk
               or m.get("payload", {}).get("id") == conversation.pk for m in seen_by_sam)
    for message in await drain(bob, wait=0.5):
        payload = message.get("payload", {})
        assert payload.get("conversation_id") != conversation.pk and payload.get("id") != conversation.pk, message
        assert "Oriole" not in str(message)
    # Asking the server to act on it (typing into it) changes and reveals nothing.
    await bob.send_json_to({"type": "typing", "conversation_id": conversation.pk})
    assert all("Oriole" not in str(m) for m in await drain(bob, wait=0.3))
    await bob.disconnect()
    await sam.disconnect()


def test_an_attachment_from_another_departments_thread_is_not_served(world, tmp_path, settings):
    from hub.models import Attachment

    settings.MEDIA_ROOT = tmp_path
    conversation = nurse_line_thread(world)
    event = Event.objects.filter(conversation=conversation).first()
    (tmp_path / "scan.pdf").write_bytes(b"%PDF-1.4 test")
    attachment = Attachment.objects.create(practice=world.practice, event=event, content_type="application/pdf",
                                           size=13, file="scan.pdf", status=Attachment.Status.STORED)
    assert signed_in(world.bob).get(f"/console/attachments/{attachment.pk}").status_code == 404
    assert signed_in(world.sam).get(f"/console/attachments/{attachment.pk}").status_code == 200


# --- another practice -----------------------------------------------------------------

def test_another_practices_admin_exports_nothing_of_this_practice(world, other_world):
    conversation = nurse_line_thread(world)
    conversation_actions.pick_up(access.viewer_for(world.sam), conversation.pk)
    rollup.rebuild()
    today = date.today()
    span = f"from={today - timedelta(days=200)}&to={today + timedelta(days=1)}"

    def export(user, table):
        response = signed_in(user).get(f"/kpi/export/{table}.csv?{span}")
        assert response.status_code == 200, (table, response.status_code)
        return list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))

    own_admin = make_user(world.practice, "rita-admin", AgentProfile.Role.ADMIN)
    other_admin = make_user(other_world.practice, "olga-admin", AgentProfile.Role.ADMIN)
    # The control: this practice's own admin does export the conversation.
    assert any(row["conversation_id"] == str(conversation.pk) for row in export(own_admin, "conversations"))
    for table in ("contacts", "conversations"):
        assert export(other_admin, table) == [], table
    # Nor through the KPI REST API with the other practice's integration token.
    answer = Client().get(f"/api/v1/kpi/conversations?{span}", HTTP_AUTHORIZATION=f"Bearer {other_world.token}")
    assert answer.status_code == 200 and answer.json()["rows"] == []
    own = Client().get(f"/api/v1/kpi/conversations?{span}", HTTP_AUTHORIZATION=f"Bearer {world.token}").json()
    column = own["columns"].index("conversation_id")
    assert any(row[column] == conversation.pk for row in own["rows"])


def test_another_practices_staff_cannot_reach_this_practices_thread(world, other_world):
    conversation = nurse_line_thread(world)
    for user in (other_world.sam, other_world.integration):
        response = Client().get(f"/api/v1/conversations/{conversation.pk}", **bearer(user))
        assert response.status_code == 404
        assert not leaks(response)


# --- the Django admin -------------------------------------------------------------------

@pytest.mark.parametrize("who", ["alice", "sam", "practice_admin"])
def test_the_django_admin_is_for_superusers_only(world, who):
    if who == "practice_admin":
        user = make_user(world.practice, "pat-admin", AgentProfile.Role.ADMIN)
    else:
        user = getattr(world, who)
    user.is_staff = True  # even marked staff, with every model permission
    user.save()
    from django.contrib.auth.models import Permission

    user.user_permissions.set(Permission.objects.all())
    client = signed_in(user)
    for path in ("/admin/", "/admin/hub/patient/", "/admin/hub/auditentry/", "/admin/auth/user/"):
        response = client.get(path)
        assert response.status_code == 302 and "/admin/login/" in response["Location"], (path, response.status_code)


def test_a_superuser_reaches_the_django_admin(world):
    root = get_user_model().objects.create_superuser("root", "root@example.org", "root-password-1-long")
    response = signed_in(root).get("/admin/")
    assert response.status_code == 200
