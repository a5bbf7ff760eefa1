"""/console/audit/: practice admins search and export their practice's audit
trail; nobody else may, and no practice sees another's rows."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime, timezone
from urllib.parse import parse_qs, urlparse

import pytest
from django.test import Client

from hub.lib import audit, audit_chain
from hub.models import AgentProfile, AuditEntry
from tests.conftest import make_user
from tests.factories import inbound

PAGE = "/console/audit/"
EXPORT = "/console/audit/export.csv"
# 23:30 on 11 March in New York (the practice's time zone) is already the 12th in UTC.
LATE_EVENING = datetime(2025, 3, 12, 3, 30, tzinfo=timezone.utc)
NEXT_MORNING = datetime(2025, 3, 12, 14, 0, tzinfo=timezone.utc)
LATER = datetime(2025, 3, 20, 14, 0, tzinfo=timezone.utc)  # when the admin signs in and looks


@pytest.fixture
def ada(world):
    """riverside's practice admin."""
    return make_user(world.practice, "ada", AgentProfile.Role.ADMIN, [], "Ada", "Admin")


@pytest.fixture
def lee(other_world):
    """lakeside's practice admin."""
    return make_user(other_world.practice, "lee", AgentProfile.Role.ADMIN, [], "Lee", "Lakes")


def signed_in(user, ip="203.0.113.20") -> Client:
    client = Client(REMOTE_ADDR=ip)
    client.force_login(user)
    return client


def row(practice, user, action, *, obj=("conversation", 1), patient_id=None, ip="10.0.0.1", **detail):
    return audit.record(user_id=user.pk if user else None, practice_id=practice.pk, action=action, obj=obj,
                        via="console", ip=ip, detail=detail, patient_id=patient_id)


def shown(response) -> list[int]:
    """The sequence numbers in the page's table, top to bottom."""
    html = response.content.decode()
    return [int(cell.split("<")[0]) for cell in html.split('<td class="num">')[1:]]


def table(response) -> str:
    """The page's table of entries (the form around it lists every action name)."""
    html = response.content.decode()
    return html.split("<tbody>")[1].split("</tbody>")[0] if "<tbody>" in html else ""


def read_csv(response) -> list[dict]:
    assert response.streaming
    body = b"".join(response.streaming_content).decode()
    return list(csv.DictReader(io.StringIO(body)))


@pytest.fixture
def trail(world, frozen_clock):
    """A small trail: alice reads a patient's thread late one evening, bob
    sends a message from another address the next morning."""
    patient = inbound(world.practice).conversation.patient
    frozen_clock.set(LATE_EVENING)
    first = row(world.practice, world.alice, "conversation.viewed", obj=("conversation", 11), patient_id=patient.pk)
    frozen_clock.set(NEXT_MORNING)
    second = row(world.practice, world.bob, "message.sent", obj=("event", 12), patient_id=patient.pk,
                 ip="2001:db8::7", conversation=11)
    third = row(world.practice, world.sam, "kpi.exported", obj=("kpi_table", "contacts"))
    frozen_clock.set(LATER)
    return {"patient": patient, "rows": [first, second, third]}


# --- who may look -----------------------------------------------------------------------------


@pytest.mark.parametrize("path", [PAGE, EXPORT])
def test_anonymous_visitors_are_sent_to_sign_in(client, path):
    response = client.get(path)
    assert response.status_code == 302 and "/console/login/" in response["Location"]


@pytest.mark.parametrize("who", ["alice", "sam", "integration"])
@pytest.mark.parametrize("path", [PAGE, EXPORT])
def test_agents_and_supervisors_are_refused(world, trail, who, path):
    response = signed_in(getattr(world, who)).get(path)
    assert response.status_code == 403
    assert b"practice admins" in response.content
    assert not AuditEntry.objects.filter(action__startswith="audit.").exists()


def test_staff_without_a_practice_are_refused(db):
    from django.contrib.auth import get_user_model

    stranger = get_user_model().objects.create_user("stranger", password="stranger-password-1")
    assert signed_in(stranger).get(PAGE).status_code == 403


def test_only_practice_admins_see_the_link(world, ada):
    assert b'href="/console/audit/"' in signed_in(ada).get("/console/").content
    for user in (world.sam, world.alice):
        assert b'href="/console/audit/"' not in signed_in(user).get("/console/").content


# --- the page ---------------------------------------------------------------------------------


def test_the_admin_sees_the_trail_newest_first_and_the_view_is_audited(world, ada, trail):
    response = signed_in(ada).get(PAGE)
    assert response.status_code == 200
    html = response.content.decode()
    first, second, third = trail["rows"]
    signed_in_row = AuditEntry.objects.get(action="session.signed_in", user=ada)
    assert shown(response) == [signed_in_row.sequence, third.sequence, second.sequence, first.sequence]
    assert "Alice Adams" in html and "Bob Brown" in html and "2001:db8::7" in html
    assert "2025-03-11 23:30:00" in html  # in the practice's time zone
    assert "<script" not in html and "style=" not in html  # a strict CSP allows neither
    viewed = AuditEntry.objects.get(action="audit.viewed")
    assert (viewed.user_id, viewed.ip, viewed.object_type, viewed.practice_id) == (
        ada.pk, "203.0.113.20", "audit_log", world.practice.pk)


@pytest.mark.parametrize("params,expected", [
    ({"from": "2025-03-11", "to": "2025-03-11"}, [0]),  # the practice's day, not UTC's
    ({"from": "2025-03-12", "to": "2025-03-12"}, [1, 2]),
    ({"to": "2025-03-11"}, [0]),
    ({"action": "message.sent"}, [1]),
    ({"action": "conversation."}, [0]),
    ({"object_type": "event", "object_id": "12"}, [1]),
    ({"object_type": "kpi_table"}, [2]),
    ({"ip": "2001:DB8:0:0::7"}, [1]),
    ({"ip": "10.0.0.1", "from": "2025-03-12", "to": "2025-03-19"}, [2]),
])
def test_filters(world, ada, trail, params, expected):
    response = signed_in(ada).get(PAGE, params)
    assert response.status_code == 200
    assert shown(response) == [trail["rows"][i].sequence for i in reversed(expected)]


def test_filter_by_user_and_by_patient(world, ada, trail):
    client = signed_in(ada)
    assert shown(client.get(PAGE, {"user": world.bob.pk})) == [trail["rows"][1].sequence]
    everything_about_patient = [r.sequence for r in reversed(trail["rows"][:2])]
    assert shown(client.get(PAGE, {"patient": trail["patient"].pk})) == everything_about_patient
    html = client.get(PAGE, {"patient": trail["patient"].pk}).content.decode()
    assert 'value="%d"' % trail["patient"].pk in html  # the form keeps the filter
    searched = AuditEntry.objects.filter(action="audit.viewed").order_by("-sequence")[0]
    assert searched.patient_id == trail["patient"].pk  # looking at a patient's trail is about that patient


@pytest.mark.parametrize("params,message", [
    ({"from": "2025-13-01"}, "'From' is a date"),
    ({"from": "2025-03-12", "to": "2025-03-01"}, "'From' is after 'To'"),
    ({"to": "1066-10-14"}, "between 2000 and 2100"),
    ({"user": "alice"}, "'User' is a number"),
    ({"patient": "-4"}, "'Patient' is a number"),
    ({"patient": "99999999999999999999999"}, "'Patient' is a number"),
    ({"action": "DROP TABLE"}, "'Action' is an action name"),
    ({"object_id": "12"}, "Give the object type"),
    ({"object_type": "<b>"}, "'Object type' is a name"),
    ({"object_type": "event", "object_id": "1 OR 1=1"}, "'Object id' is at most 64"),
    ({"ip": "999.1.1.1"}, "'IP address' is an IPv4 or IPv6 address"),
    ({"before": "soon"}, "'before' is a number"),
    ({"from": "2025-03-01\x00"}, "'From' is a date"),
    ({"ip": "10.0.0.1" * 20}, "'IP address'"),
])
def test_bad_filters_say_what_is_wrong(world, ada, trail, params, message):
    client = signed_in(ada)
    response = client.get(PAGE, params)
    assert response.status_code == 400
    assert message in response.content.decode().replace("&#x27;", "'")
    assert shown(response) == []
    if "before" not in params:
        exported = client.get(EXPORT, params)
        assert exported.status_code == 400 and message in exported.content.decode()
    assert not AuditEntry.objects.filter(action__startswith="audit.").exists()


def test_pages_of_a_hundred_newest_first(world, ada):
    for i in range(250):
        row(world.practice, world.alice, "conversation.viewed", obj=("conversation", i))
    client = signed_in(ada)
    filters = {"action": "conversation.viewed"}
    first = client.get(PAGE, filters)
    assert shown(first) == list(range(250, 150, -1))
    html = first.content.decode()
    assert "Newer" not in html

    def link(response, rel):
        href = response.content.decode().split(f'rel="{rel}"')[0].rsplit('href="', 1)[1].split('"')[0]
        return {k: v[0] for k, v in parse_qs(urlparse(href.replace("&amp;", "&")).query).items()}

    older = link(first, "next")
    assert older == {"action": "conversation.viewed", "before": "151"}
    second = client.get(PAGE, older)
    assert shown(second) == list(range(150, 50, -1))
    third = client.get(PAGE, link(second, "next"))
    assert shown(third) == list(range(50, 0, -1))
    assert 'rel="next"' not in third.content.decode()
    back = client.get(PAGE, link(third, "prev"))
    assert shown(back) == list(range(150, 50, -1))
    assert shown(client.get(PAGE, link(back, "prev"))) == list(range(250, 150, -1))


def test_detail_is_shown_escaped(world, ada):
    row(world.practice, world.alice, "conversation.transferred", to="<script>alert(1)</script>")
    html = signed_in(ada).get(PAGE).content.decode()
    assert "<script>alert(1)" not in html and "&lt;script&gt;" in html


# --- the export -------------------------------------------------------------------------------


def test_the_export_has_every_row_of_the_filter_with_its_hashes(world, ada, trail):
    client = signed_in(ada, ip="198.51.100.9")
    response = client.get(EXPORT, {"patient": trail["patient"].pk})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"].startswith('attachment; filename="riverside-audit-')
    rows = read_csv(response)
    first, second, _ = trail["rows"]
    assert [int(r["sequence"]) for r in rows] == [first.sequence, second.sequence]  # chain order
    assert rows[0]["user"] == "Alice Adams" and rows[0]["local_time"] == "2025-03-11T23:30:00-04:00"
    assert rows[1]["ip"] == "2001:db8::7" and json.loads(rows[1]["detail"]) == {"conversation": 11}
    assert rows[1]["prev_hash"] == rows[0]["hash"]  # consecutive in the chain: they link
    for r in rows:  # an auditor re-computes each hash from the CSV alone (docs/audit.md)
        recomputed = audit_chain.entry_hash(
            practice_id=int(r["practice_id"]), sequence=int(r["sequence"]),
            user_id=int(r["user_id"]) if r["user_id"] else None, action=r["action"], object_type=r["object_type"],
            object_id=r["object_id"], patient_id=int(r["patient_id"]) if r["patient_id"] else None,
            ip=r["ip"] or None, via=r["via"], detail=json.loads(r["detail"]), created_at=r["created_at"],
            prev_hash=r["prev_hash"])
        assert recomputed == r["hash"]
    exported = AuditEntry.objects.get(action="audit.exported")
    assert (exported.user_id, exported.ip, exported.practice_id, exported.patient_id, exported.detail) == (
        ada.pk, "198.51.100.9", world.practice.pk, trail["patient"].pk, {"patient": str(trail["patient"].pk)})


def test_the_export_link_carries_the_filters(world, ada, trail):
    html = signed_in(ada).get(PAGE, {"action": "message.sent"}).content.decode()
    assert 'href="/console/audit/export.csv?action=message.sent"' in html


def test_the_whole_trail_exports_and_still_verifies(world, ada, trail):
    from django.core.management import call_command

    rows = read_csv(signed_in(ada).get(EXPORT))
    assert [int(r["sequence"]) for r in rows] == list(range(1, len(rows) + 1))
    # A snapshot up to the export's own row, the next in the chain.
    assert AuditEntry.objects.get(action="audit.exported").sequence == len(rows) + 1
    call_command("verify_audit", "--practice", "riverside", stdout=io.StringIO())


# --- one practice never sees another's --------------------------------------------------------


def test_another_practices_admin_sees_none_of_riversides_rows(world, other_world, ada, lee, trail):
    row(other_world.practice, other_world.alice, "conversation.viewed", obj=("conversation", 99))
    client = signed_in(lee)
    page = table(client.get(PAGE))
    assert "Alice Adams" in page  # lakeside's own alice
    riverside_sequences = {r.sequence for r in trail["rows"]}
    assert "message.sent" not in page and "kpi.exported" not in page and "2001:db8::7" not in page
    for params in ({"user": world.bob.pk}, {"patient": trail["patient"].pk}, {"ip": "2001:db8::7"},
                   {"object_type": "event", "object_id": "12"}):
        response = client.get(PAGE, params)
        assert response.status_code == 200 and shown(response) == []
        assert read_csv(client.get(EXPORT, params)) == []
    exported = read_csv(client.get(EXPORT))
    assert {r["practice_id"] for r in exported} == {str(other_world.practice.pk)}
    assert riverside_sequences  # riverside's rows exist; lakeside just cannot see them
    # lee's own searches are recorded, but never as being about riverside's patient
    lees = AuditEntry.objects.filter(practice=other_world.practice, user=lee, action__startswith="audit.")
    assert lees.count() == 10 and not lees.filter(patient_id__isnull=False).exists()
    assert not AuditEntry.objects.filter(practice=world.practice, action__startswith="audit.").exists()


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_the_export_streams_under_asgi(monkeypatch):
    from channels.db import database_sync_to_async
    from django.db import connections
    from django.test import AsyncClient

    from console import audit_views
    from tests.conftest import build_world

    monkeypatch.setattr(audit_views, "EXPORT_CHUNK", 7)  # several database round trips while streaming
    world = await database_sync_to_async(build_world)()
    admin = await database_sync_to_async(make_user)(world.practice, "ada", AgentProfile.Role.ADMIN)
    for n in range(30):
        await database_sync_to_async(row)(world.practice, world.alice, "conversation.viewed", obj=("conversation", n))
    client = AsyncClient()
    await database_sync_to_async(client.force_login)(admin)
    response = await client.get(EXPORT, {"action": "conversation.viewed"})
    assert response.status_code == 200 and response.is_async
    body = b"".join([chunk async for chunk in response.streaming_content]).decode()
    rows = list(csv.DictReader(io.StringIO(body)))
    assert [int(r["sequence"]) for r in rows] == list(range(1, 31))
    await database_sync_to_async(connections.close_all)()  # the streaming thread's connection
