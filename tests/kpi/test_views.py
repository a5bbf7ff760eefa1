"""The KPI pages over HTTP and the wallboard socket: who may see them, the
numbers they show for a known morning, the CSV exports, and bad input."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime, timezone

import pytest
from channels.db import database_sync_to_async
from django.core.cache import cache
from django.test import AsyncClient, Client

from kpi import live, rollup, tables
from kpi.tasks import push_wallboards
from tests.conftest import build_world
from tests.console.helpers import open_socket
from tests.factories import inbound
from tests.kpi.scenario import small_day

# 10:00 in New York (the practice's time zone), a Wednesday.
MORNING = datetime(2025, 3, 12, 14, 0, tzinfo=timezone.utc)
DAY = {"from": "2025-03-12", "to": "2025-03-12"}


@pytest.fixture
def morning(world, frozen_clock):
    """small_day() played at MORNING and rolled up; the clock stays an hour later."""
    frozen_clock.set(MORNING)
    made = small_day(world, frozen_clock)
    rollup.rebuild()
    frozen_clock.advance(hours=1)
    return made


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def boot_of(response, element_id: str) -> dict:
    text = response.content.decode()
    return json.loads(text.split(f'id="{element_id}" type="application/json">')[1].split("</script>")[0])


def read_csv(response) -> list[list[str]]:
    body = b"".join(response.streaming_content) if response.streaming else response.content
    return list(csv.reader(io.StringIO(body.decode())))


# --- who may look -------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/kpi/", "/kpi/wallboard/", "/kpi/export/summary.csv"])
def test_anonymous_visitors_are_sent_to_sign_in(client, path):
    response = client.get(path)
    assert response.status_code == 302
    assert response["Location"].startswith("/console/login/?next=")


@pytest.mark.parametrize("path", ["/kpi/", "/kpi/wallboard/", "/kpi/export/contacts.csv"])
def test_agents_are_refused(world, path):
    response = signed_in(world.alice).get(path)
    assert response.status_code == 403
    assert b"supervisors and practice admins" in response.content


def test_a_user_of_no_practice_is_refused(db):
    from django.contrib.auth import get_user_model

    response = signed_in(get_user_model().objects.create_user("drifter", password="x")).get("/kpi/")
    assert response.status_code == 403 and b"not a staff member" in response.content


def test_practice_admins_see_the_dashboard(world):
    from hub.models import AgentProfile
    from tests.conftest import make_user

    admin = make_user(world.practice, "ada", AgentProfile.Role.ADMIN, first="Ada", last="Admin")
    assert signed_in(admin).get("/kpi/").status_code == 200


# --- the dashboard's numbers ------------------------------------------------------------


def test_the_dashboard_shows_the_mornings_numbers(world, morning):
    response = signed_in(world.sam).get("/kpi/", DAY)
    assert response.status_code == 200
    cards = {c["key"]: c for c in response.context["cards"]}
    # Two answered (30 s and 300 s), one waiting: one of two within 120 s.
    assert cards["service_level"]["value"] == "50%"
    assert cards["service_level"]["status"] == "bad"  # target 80%
    assert "target 80%" in cards["service_level"]["detail"]
    assert cards["average_speed_of_answer"]["value"] == "2m 45s"
    assert cards["average_wait"]["value"] == "2m 45s"
    assert cards["first_response_time"]["value"] == "2m 45s"
    assert cards["resolution_time"]["value"] == "1m 30s"
    assert cards["transfer_rate"]["value"] == "0%"
    assert cards["contacts"]["value"] == "3"
    assert cards["abandonment_rate"]["value"] == "—"  # nothing could be abandoned
    assert cards["first_contact_resolution"]["value"] == "—"  # the window has not passed
    html = response.content.decode()
    assert '<p class="value">50%</p>' in html and '<p class="value">2m 45s</p>' in html

    departments = next(t for t in response.context["grouped"] if t.name == "by-department")
    rows = {r[0].text: [c.text for c in r] for r in departments.rows}
    assert set(rows) == {"Scheduling", "Billing"}
    headers = [h.text for h in departments.headers]
    assert rows["Scheduling"][headers.index("Contacts")] == "2"
    assert rows["Billing"][headers.index("Service level")] == "0%"
    assert rows["Billing"][headers.index("ASA")] == "5m 00s"

    agents = {r[0].text: r for r in response.context["agents"].rows}
    assert set(agents) == {"Alice Adams", "Bob Brown"}

    charts = boot_of(response, "kpi-boot")["charts"]
    assert charts["volume"]["labels"] == ["2025-03-12"]
    assert {d["key"]: d["data"] for d in charts["volume"]["datasets"]}["api"] == [3]
    assert charts["service_level"]["datasets"][0]["data"] == [0.5] and charts["service_level"]["target"] == 0.8
    waits = {d["key"]: d["data"] for d in charts["wait"]["datasets"]}
    assert sum(waits["messages"]) == 2 and sum(waits["calls"]) == 0
    assert len(charts["abandonment"]["labels"]) == 24 and len(charts["staffing"]["labels"]) == 24
    # Each chart has its numbers as a table and a CSV link with the same filters.
    for name in ("volume", "service-level", "wait-distribution", "abandonment-by-hour", "staffing"):
        assert f'id="table-{name}"' in html
        assert f'href="/kpi/export/{name}.csv?from=2025-03-12&amp;to=2025-03-12"' in html
    assert 'role="img"' in html and 'aria-describedby="summary-volume"' in html


def test_filters_narrow_every_number(world, morning):
    response = signed_in(world.sam).get("/kpi/", {**DAY, "department": world.billing.pk})
    cards = {c["key"]: c for c in response.context["cards"]}
    assert cards["contacts"]["value"] == "1"
    assert cards["average_speed_of_answer"]["value"] == "5m 00s"
    assert response.context["form"]["department"] == str(world.billing.pk)
    assert f'<option value="{world.billing.pk}" selected>Billing</option>' in response.content.decode()
    assert f"department={world.billing.pk}" in response.context["query"]

    by_agent = signed_in(world.sam).get("/kpi/", {**DAY, "agent": world.alice.pk})
    assert {c["key"]: c for c in by_agent.context["cards"]}["contacts"]["value"] == "1"


def test_the_dashboard_lists_the_practices_departments_topics_and_staff(world, other_world):
    response = signed_in(world.sam).get("/kpi/")
    choices = response.context["choices"]
    assert [name for _, name in choices["departments"]] == ["Billing", "Nurse Line", "Scheduling"]
    assert [name for _, name in choices["topics"]] == ["Bill question"]
    assert [name for _, name in choices["agents"]] == ["Alice Adams", "Bob Brown", "Sam Stone"]


def test_an_empty_range_shows_dashes_not_errors(world):
    response = signed_in(world.sam).get("/kpi/", {"from": "2020-01-01", "to": "2020-01-03"})
    assert response.status_code == 200
    cards = {c["key"]: c for c in response.context["cards"]}
    assert cards["contacts"]["value"] == "0"
    assert cards["service_level"]["value"] == "—" and cards["average_wait"]["value"] == "—"


# --- CSV --------------------------------------------------------------------------------------


def test_the_contacts_csv_has_one_row_per_contact(world, morning):
    response = signed_in(world.sam).get("/kpi/export/contacts.csv", DAY)
    assert response.status_code == 200 and response.streaming
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="riverside-contacts-2025-03-12-to-2025-03-12.csv"'
    rows = read_csv(response)
    assert rows[0] == tables.TABLES["contacts"](tables.parse_scope(world.practice, DAY)).columns
    body = [dict(zip(rows[0], r, strict=True)) for r in rows[1:]]
    assert [(r["department"], r["outcome"], r["wait_seconds"], r["agent"]) for r in body] == [
        ("Scheduling", "answered", "30.0", "Alice Adams"),
        ("Billing", "answered", "300.0", "Bob Brown"),
        ("Scheduling", "waiting", "", ""),
    ]
    assert body[0]["offered_at"] == "2025-03-12T10:00:00-04:00"
    text = "\n".join(",".join(r) for r in rows)
    for private in ("appointment", "my bill", "+1555555", "555-"):  # no patient's words or numbers
        assert private not in text.lower()


def test_row_exports_are_audited(world, morning):
    from hub.models import AuditEntry

    signed_in(world.sam).get("/kpi/export/conversations.csv", DAY)
    entry = AuditEntry.objects.get(action="kpi.exported")
    assert (entry.user_id, entry.object_id, entry.detail["from"]) == (world.sam.pk, "conversations", "2025-03-12")


def test_the_summary_csv_has_every_headline_number(world, morning):
    response = signed_in(world.sam).get("/kpi/export/summary.csv", DAY)
    rows = read_csv(response)
    assert rows[0] == ["metric", "value"]
    values = dict(rows[1:])
    assert values["contacts"] == "3" and values["answered"] == "2"
    assert values["service_level"] == "0.5" and values["average_speed_of_answer"] == "165.0"
    assert values["abandonment_rate"] == ""  # None is an empty cell


def test_the_by_department_csv(world, morning):
    response = signed_in(world.sam).get("/kpi/export/by-department.csv", DAY)
    rows = read_csv(response)
    assert rows[0][:4] == ["department_id", "name", "contacts", "answered"]
    by_name = {r[1]: dict(zip(rows[0], r, strict=True)) for r in rows[1:]}
    assert set(by_name) == {"Scheduling", "Billing"}
    assert by_name["Scheduling"]["department_id"] == str(world.scheduling.pk)
    assert (by_name["Scheduling"]["contacts"], by_name["Scheduling"]["service_level"]) == ("2", "1.0")
    assert (by_name["Billing"]["contacts"], by_name["Billing"]["service_level"]) == ("1", "0.0")


def test_csv_filters_are_those_of_the_page(world, morning):
    response = signed_in(world.sam).get("/kpi/export/contacts.csv", {**DAY, "department": world.billing.pk})
    rows = read_csv(response)
    assert [r[rows[0].index("department")] for r in rows[1:]] == ["Billing"]


def test_every_table_exports(world, morning):
    client = signed_in(world.sam)
    for name in tables.TABLES:
        response = client.get(f"/kpi/export/{name}.csv", DAY)
        assert response.status_code == 200, name
        assert read_csv(response)[0], name


def test_a_cell_that_looks_like_a_formula_is_defused(world, morning):
    world.scheduling.name = "=HYPERLINK(\"http://x\")"
    world.scheduling.save()
    from hub.lib import directory

    directory.forget()
    rows = read_csv(signed_in(world.sam).get("/kpi/export/by-department.csv", DAY))
    assert "'=HYPERLINK(\"http://x\")" in [r[1] for r in rows]


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_the_contacts_csv_streams_under_asgi():
    world = await database_sync_to_async(build_world)()
    for n in range(3):
        await database_sync_to_async(inbound)(world.practice, phone=f"+1555555020{n}")
    await database_sync_to_async(rollup.rebuild)()
    client = AsyncClient()
    await database_sync_to_async(client.force_login)(world.sam)
    response = await client.get("/kpi/export/contacts.csv")
    assert response.status_code == 200 and response.is_async
    body = b"".join([chunk async for chunk in response.streaming_content]).decode()
    assert len(list(csv.reader(io.StringIO(body)))) == 4


# --- bad input ------------------------------------------------------------------------------


@pytest.mark.parametrize(("params", "message"), [
    ({"from": "2025-13-01"}, "Dates are YYYY-MM-DD."),
    ({"from": "yesterday"}, "Dates are YYYY-MM-DD."),
    ({"from": "2025-03-12", "to": "2025-03-01"}, "'from' is after 'to'."),
    ({"from": "2020-01-01", "to": "2025-01-01"}, "at most 400 days"),
    ({"from": "9999-12-30", "to": "9999-12-31"}, "Dates are between 2000 and 2199."),
    ({"from": "0001-01-01", "to": "0001-01-02"}, "Dates are between 2000 and 2199."),
    ({"department": "billing"}, "'department' is an id."),
    ({"department": "99999999"}, "No such department."),
    ({"topic": "-1"}, "'topic' is an id."),
    ({"agent": "99999999"}, "No such agent."),
    ({"agent": "1" * 40}, "'agent' is an id."),
    ({"department": "\u00b2"}, "'department' is an id."),  # "²".isdigit() is true
    ({"topic": "\u0661"}, "'topic' is an id."),  # an Arabic-Indic one
    ({"channel": "fax"}, "'channel' is one of"),
])
def test_bad_filters_are_a_clear_400(world, params, message):
    client = signed_in(world.sam)
    export = client.get("/kpi/export/contacts.csv", params)
    assert export.status_code == 400
    assert export["Content-Type"].startswith("text/plain")
    assert message in export.content.decode()
    page = client.get("/kpi/", params)
    assert page.status_code == 400
    assert message.replace("'", "&#x27;") in page.content.decode()
    assert 'role="alert"' in page.content.decode()


def test_another_practices_ids_are_not_filters(world, other_world):
    from hub.models import Topic

    client = signed_in(world.sam)
    for params in ({"department": other_world.billing.pk}, {"agent": other_world.alice.pk},
                   {"topic": Topic.objects.get(practice=other_world.practice).pk}):
        response = client.get("/kpi/export/summary.csv", params)
        assert response.status_code == 400, params


def test_an_unknown_table_is_404(world):
    response = signed_in(world.sam).get("/kpi/export/patients.csv")
    assert response.status_code == 404
    assert b"No such table" in response.content and b"contacts" in response.content
    assert signed_in(world.sam).get("/kpi/export/..%2Fsettings.csv").status_code == 404


def test_only_get(world):
    response = signed_in(world.sam).post("/kpi/export/summary.csv")
    assert response.status_code in (403, 405)  # CSRF or method: never a 500


# --- the wallboard page -----------------------------------------------------------------------


def test_the_wallboard_page_carries_the_live_snapshot(world, morning):
    response = signed_in(world.sam).get("/kpi/wallboard/")
    assert response.status_code == 200
    boot = boot_of(response, "wallboard-boot")
    snapshot = boot["snapshot"]
    assert snapshot["waiting_total"] == 1
    assert snapshot["waiting"][0]["department"] == "Scheduling"
    assert snapshot["today"]["service_level"] == 0.5 and snapshot["today"]["service_level_target"] == 0.8
    assert boot["socket"] == "/ws/wallboard/"
    html = response.content.decode()
    assert 'href="/kpi/"' in html and 'href="/console/"' in html


# --- the wallboard socket -----------------------------------------------------------------


create_world = database_sync_to_async(build_world)


async def _wallboard(user, **kwargs):
    return await open_socket(user, path="/ws/wallboard/", **kwargs)


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_a_supervisor_gets_a_snapshot_then_updates():
    world = await create_world()
    await database_sync_to_async(inbound)(world.practice, phone="+15555550201")
    await cache.adelete(f"wallboard-last:{world.practice.pk}")
    socket = await _wallboard(world.sam)
    first = await socket.receive_json_from(timeout=5)
    assert first["type"] == "snapshot"
    assert first["data"]["waiting_total"] == 1 and first["data"]["practice"] == world.practice.name
    assert await cache.aget(live.watchers_key(world.practice.pk))

    await database_sync_to_async(inbound)(world.practice, phone="+15555550202", topic_slug="bill")
    await database_sync_to_async(push_wallboards)()
    update = await socket.receive_json_from(timeout=5)
    assert update["type"] == "update"
    assert update["data"]["waiting_total"] == 2
    assert {w["department"] for w in update["data"]["waiting"]} == {"Scheduling", "Billing"}

    # Nothing changed: nothing is pushed.
    await database_sync_to_async(push_wallboards)()
    assert await socket.receive_nothing(timeout=0.5)

    await socket.send_json_to({"type": "ping"})
    assert (await socket.receive_json_from(timeout=5))["type"] == "pong"
    await socket.send_json_to({"type": "launch"})
    assert (await socket.receive_json_from(timeout=5))["code"] == "unknown_type"
    await socket.send_to(text_data="{not json")
    assert (await socket.receive_json_from(timeout=5))["code"] == "unknown_type"
    await socket.disconnect()


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_an_agents_wallboard_socket_is_closed_with_4403():
    world = await create_world()
    socket = await _wallboard(world.alice)
    closed = await socket.receive_output(timeout=5)
    assert closed == {"type": "websocket.close", "code": 4403,
                      "reason": "the wallboard is for supervisors and practice admins"}
    assert not await cache.aget(live.watchers_key(world.practice.pk))


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_a_wallboard_socket_without_a_session_is_closed_with_4401():
    socket = await _wallboard(None)
    closed = await socket.receive_output(timeout=5)
    assert closed == {"type": "websocket.close", "code": 4401, "reason": "sign in first"}


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_a_wallboard_socket_from_a_foreign_origin_is_refused():
    world = await create_world()
    socket = await _wallboard(world.sam, origin=b"https://evil.example")
    closed = await socket.receive_output(timeout=5)
    assert closed["code"] == 4403


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_one_practices_wallboard_hears_nothing_of_another():
    world = await create_world()
    other = await database_sync_to_async(build_world)("lakeside")
    await cache.adelete(f"wallboard-last:{world.practice.pk}")
    socket = await _wallboard(world.sam)
    assert (await socket.receive_json_from(timeout=5))["type"] == "snapshot"
    await database_sync_to_async(push_wallboards)()  # what this wallboard has is now the last pushed
    mine = await socket.receive_json_from(timeout=5)
    assert (mine["type"], mine["data"]["practice"]) == ("update", world.practice.name)
    await database_sync_to_async(inbound)(other.practice, phone="+15555550203")
    await cache.aset(live.watchers_key(other.practice.pk), 1, timeout=30)
    await database_sync_to_async(push_wallboards)()
    assert await socket.receive_nothing(timeout=0.5)
    await socket.disconnect()
