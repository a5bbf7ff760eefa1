"""What fuzzing the REST API (test_api_fuzz.py) found, one test per bug:
bad input is a clear 4xx naming the field, and nothing is stored."""

import pytest
from django.test import Client

from hub.models import ApiToken, Conversation, Event, Patient
from tests.factories import inbound


@pytest.fixture
def api(world):
    def call(method, path, token=None, json=None, **extra):
        headers = {"HTTP_AUTHORIZATION": f"Bearer {token or world.token}", **extra}
        if json is not None:
            return getattr(Client(), method)(f"/api/v1{path}", data=json, content_type="application/json", **headers)
        return getattr(Client(), method)(f"/api/v1{path}", **headers)

    return call


def _assert_refused(response, field):
    assert response.status_code == 422, (response.status_code, response.content)
    assert response.json()["detail"].startswith(f"{field}:"), response.json()


@pytest.mark.parametrize("payload,field", [
    ({"source_id": "s\x001", "contact": {"phone": "+15555550123"}, "body": "hi"}, "source_id"),
    ({"source_id": "s1", "contact": {"phone": "+15555550123"}, "body": "hi\x00"}, "body"),
    ({"source_id": "s1", "contact": {"phone": "+15555550123", "first_name": "\x00"}, "body": "hi"},
     "contact.first_name"),
    ({"source_id": "s1", "contact": {"external_id": "crm\x00:1"}, "body": "hi"}, "contact.external_id"),
    ({"source_id": "s1", "contact": {"phone": "+15555550123"}, "body": "hi", "department": "\x00"}, "department"),
])
def test_a_nul_character_in_an_inbound_message_is_a_422_and_nothing_is_stored(world, api, payload, field):
    # PostgreSQL cannot store NUL in text: it used to fail mid-ingest with a 500.
    _assert_refused(api("post", "/inbound", json=payload), field)
    assert not Patient.objects.exists() and not Event.objects.exists()


@pytest.mark.parametrize("verb,payload,field", [
    ("notes", {"body": "called\x00back"}, "body"),
    ("messages", {"body": "see you\x00"}, "body"),
    ("transfer", {"reason": "\x00", "department_id": "billing"}, "reason"),
])
def test_a_nul_character_in_a_reply_note_or_transfer_reason_is_a_422(world, api, verb, payload, field):
    conversation = inbound(world.practice).conversation
    alice = ApiToken.issue(world.alice)[1]
    if "department_id" in payload:
        payload = {**payload, "department_id": world.billing.pk}
    events = Event.objects.count()
    _assert_refused(api("post", f"/conversations/{conversation.pk}/{verb}", token=alice, json=payload), field)
    assert Event.objects.count() == events
    assert Conversation.objects.get().department_id == world.scheduling.pk


@pytest.mark.parametrize("path", ["/patients?q=Pa%00t", "/conversations/{id}/canned-responses?q=%00"])
def test_a_nul_character_in_a_search_is_a_422(world, api, path):
    conversation = inbound(world.practice).conversation
    _assert_refused(api("get", path.format(id=conversation.pk)), "q")


@pytest.mark.parametrize("path", ["/patients", "/conversations", "/kpi/contacts"])
def test_an_offset_past_2_to_the_53_is_a_422_not_a_500(world, api, path):
    # PostgreSQL's OFFSET is a bigint and SQLite's an integer; the KPI rows
    # are sliced in Python, where 10**20 is past the largest index.
    _assert_refused(api("get", f"{path}?offset={10**20}"), "offset")
    assert api("get", f"{path}?offset={2**53 - 1}").status_code == 200


@pytest.mark.parametrize("method,path,payload,field", [
    ("get", "/conversations?department_id=9223372036854775808", None, "department_id"),
    ("post", "/conversations/{id}/transfer", {"reason": "x", "agent_id": 2**63}, "agent_id"),
    ("post", "/conversations/{id}/transfer", {"reason": "x", "department_id": -(2**63) - 1}, "department_id"),
    ("post", "/conversations/{id}/assign", {"agent_id": 10**20}, "agent_id"),
    ("post", "/conversations/{id}/resolve", {"topic_id": 2**63}, "topic_id"),
])
def test_an_id_past_the_64_bit_range_is_a_422_not_an_overflow(world, api, method, path, payload, field):
    conversation = inbound(world.practice).conversation
    sam = ApiToken.issue(world.sam)[1]
    events = Event.objects.count()
    _assert_refused(api(method, path.format(id=conversation.pk), token=sam, json=payload), field)
    assert Event.objects.count() == events


def test_a_session_cookie_with_a_nul_character_is_no_session_not_a_500(world):
    # Django looked the key up as given; PostgreSQL refuses NUL in text.
    client = Client(HTTP_COOKIE="sessionid=abcdefgh\x00ijklmnop")
    assert client.get("/api/v1/patients").status_code == 401
    signed_in = Client()
    signed_in.force_login(world.alice)
    assert signed_in.get("/api/v1/patients").status_code == 200


def test_kpi_refusals_are_documented_in_the_schema(world, api):
    schema = Client().get("/api/v1/openapi.json").json()
    for path in ("/api/v1/kpi/tables", "/api/v1/kpi/{name}"):
        assert {"401", "403", "422"} <= set(schema["paths"][path]["get"]["responses"]), path
    assert "404" in schema["paths"]["/api/v1/kpi/{name}"]["get"]["responses"]
    alice = ApiToken.issue(world.alice)[1]
    assert api("get", "/kpi/volume", token=alice).json()["code"] == "error"
    body = api("get", "/kpi/volume").json()
    assert "from" in body and "next_offset" not in body
