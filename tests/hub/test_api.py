"""The REST API, as an integration uses it."""

import time

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from hub.models import ApiToken, AuditEntry, Conversation, Event
from tests.factories import inbound


def bearer(token):
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


@pytest.fixture
def api(world):
    client = Client()

    def call(method, path, token=None, **kwargs):
        headers = bearer(token or world.token)
        if "json" in kwargs:
            kwargs["data"] = kwargs.pop("json")
            kwargs["content_type"] = "application/json"
        return getattr(client, method)(f"/api/v1{path}", **headers, **kwargs)

    return call


def token_for(user):
    return ApiToken.issue(user)[1]


def test_openapi_schema_is_served(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    assert {"/api/v1/inbound", "/api/v1/patients", "/api/v1/conversations/{conversation_id}"} <= set(schema["paths"])


@pytest.mark.parametrize("header", [None, "Bearer nope", "Token abc", "Bearer " + "x" * 500])
def test_requests_without_a_valid_token_get_401(world, client, header):
    extra = {"HTTP_AUTHORIZATION": header} if header else {}
    response = client.get("/api/v1/conversations", **extra)
    assert response.status_code == 401
    assert response.json()["code"] == "unauthenticated"


def test_a_revoked_token_is_refused(world, api):
    ApiToken.objects.update(revoked=True)
    assert api("get", "/conversations").status_code == 401


def test_inbound_creates_then_is_idempotent(world, api):
    payload = {"source_id": "crm-1", "contact": {"phone": "(555) 555-0101", "first_name": "Pat"}, "body": "Hi there"}
    first = api("post", "/inbound", json=payload)
    assert first.status_code == 201, first.content
    again = api("post", "/inbound", json=payload)
    assert again.status_code == 200
    assert again.json()["event"]["id"] == first.json()["event"]["id"]
    assert again.json()["created"] is False
    assert Event.objects.filter(kind="message").count() == 1
    conversation = Conversation.objects.get()
    assert conversation.patient.contact_points.get().address == "+15555550101"
    assert conversation.patient.first_name == "Pat"


def test_inbound_by_external_id(world, api):
    response = api("post", "/inbound", json={"source_id": "s1", "contact": {"external_id": "crm:42"}, "body": "yo"})
    assert response.status_code == 201
    assert Conversation.objects.get().patient.contact_points.get().kind == "external"


@pytest.mark.parametrize("payload,fragment", [
    ({"source_id": "s", "contact": {}, "body": "x"}, "phone or an external_id"),
    ({"source_id": "s", "contact": {"phone": "not a number"}, "body": "x"}, "valid phone"),
    ({"source_id": "", "contact": {"phone": "+15555550101"}, "body": "x"}, "source_id"),
    ({"source_id": "s", "contact": {"phone": "+15555550101"}, "body": ""}, "body"),
    ({"source_id": "s", "contact": {"phone": "+15555550101"}, "body": "x" * 20001}, "body"),
    ({"contact": {"phone": "+15555550101"}, "body": "x"}, "source_id"),
])
def test_bad_inbound_gets_a_clear_4xx_and_stores_nothing(world, api, payload, fragment):
    response = api("post", "/inbound", json=payload)
    assert 400 <= response.status_code < 500
    assert fragment in response.json()["detail"]
    assert Event.objects.count() == 0


def test_inbound_with_broken_json_is_a_4xx(world, client):
    response = client.post("/api/v1/inbound", data="{nope", content_type="application/json", **bearer(world.token))
    assert 400 <= response.status_code < 500


def test_an_agent_may_not_post_inbound(world, api):
    response = api("post", "/inbound", token=token_for(world.alice),
                   json={"source_id": "a", "contact": {"phone": "+15555550101"}, "body": "x"})
    assert response.status_code == 403


def test_conversation_read_writes_an_audit_row(world, api):
    conversation = inbound(world.practice).conversation
    response = api("get", f"/conversations/{conversation.pk}", token=token_for(world.alice))
    assert response.status_code == 200
    body = response.json()
    assert body["conversation"]["id"] == conversation.pk
    assert [e["body"] for e in body["events"] if e["kind"] == "message"] == ["Hello"]
    row = AuditEntry.objects.get(action="conversation.viewed")
    assert (row.user_id, row.object_type, row.object_id, row.via, row.ip) == (
        world.alice.pk, "conversation", str(conversation.pk), "api", "127.0.0.1")


def test_patient_read_writes_an_audit_row(world, api):
    patient_id = inbound(world.practice).event.patient_id
    response = api("get", f"/patients/{patient_id}")
    assert response.status_code == 200
    assert response.json()["contact_points"] == [{"kind": "phone", "address": "+15555550101", "sms_opted_out": False}]
    assert AuditEntry.objects.filter(action="patient.viewed", object_id=str(patient_id)).count() == 1


def test_an_agent_sees_only_their_departments(world, api):
    scheduling = inbound(world.practice, phone="+15555550101").conversation
    billing = inbound(world.practice, phone="+15555550102", topic_slug="bill").conversation
    bob = token_for(world.bob)
    listed = api("get", "/conversations", token=bob).json()
    assert [c["id"] for c in listed["items"]] == [billing.pk]
    assert api("get", f"/conversations/{scheduling.pk}", token=bob).status_code == 404
    assert api("get", f"/patients/{scheduling.patient_id}", token=bob).status_code == 404
    assert api("post", f"/conversations/{scheduling.pk}/messages", token=bob, json={"body": "hi"}).status_code == 404
    assert not AuditEntry.objects.filter(action="conversation.viewed").exists()


def test_another_practice_sees_nothing(world, other_world, api):
    conversation = inbound(world.practice).conversation
    theirs = token_for(other_world.sam)
    assert api("get", f"/conversations/{conversation.pk}", token=theirs).status_code == 404
    assert api("get", "/conversations", token=theirs).json()["count"] == 0
    assert api("get", "/patients", token=theirs).json()["count"] == 0


def test_patient_timeline_spans_conversations(world, api, frozen_clock):
    first = inbound(world.practice, body="first visit")
    Conversation.objects.filter(pk=first.conversation.pk).update(status="resolved", resolved_at=frozen_clock.now)
    frozen_clock.advance(days=3)
    inbound(world.practice, body="second visit")
    response = api("get", f"/patients/{first.event.patient_id}/timeline")
    assert [e["body"] for e in response.json()["events"] if e["kind"] == "message"] == ["first visit", "second visit"]


def test_timeline_pages_backwards(world, api):
    for i in range(5):
        conversation = inbound(world.practice, body=f"m{i}").conversation
    page = api("get", f"/conversations/{conversation.pk}?limit=2").json()
    assert [e["body"] for e in page["events"]] == ["m3", "m4"] and page["has_more"]
    older = api("get", f"/conversations/{conversation.pk}?limit=2&before_seq={page['events'][0]['seq']}").json()
    assert [e["body"] for e in older["events"]] == ["m1", "m2"]


@pytest.mark.parametrize("query", ["?limit=0", "?limit=999", "?offset=-1", "?status=bogus", "?department_id=abc"])
def test_bad_list_parameters_are_4xx(world, api, query):
    response = api("get", f"/conversations{query}")
    assert 400 <= response.status_code < 500


def test_session_auth_requires_csrf_for_writes(world):
    conversation = inbound(world.practice).conversation
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.alice)
    assert client.get(f"/api/v1/conversations/{conversation.pk}").status_code == 200
    response = client.post(f"/api/v1/conversations/{conversation.pk}/notes", data={"body": "x"},
                           content_type="application/json")
    assert response.status_code in (401, 403)
    assert not Event.objects.filter(kind="note").exists()


def test_a_reply_the_database_could_not_store_answers_retry_and_keeps_nothing(world, api):
    """A deadlock (or a database gone for a moment) is no server error: the
    transaction rolled back, and the client is told to send again."""
    from django.db import OperationalError, connection

    conversation = inbound(world.practice).conversation
    before = list(Event.objects.filter(conversation=conversation).values_list("pk", flat=True))

    def deadlock(execute, sql, params, many, context):
        if sql.startswith("INSERT") and "hub_event" in sql:
            raise OperationalError("deadlock detected")
        return execute(sql, params, many, context)

    with connection.execute_wrapper(deadlock):
        response = api("post", f"/conversations/{conversation.pk}/messages", token=token_for(world.alice),
                       json={"body": "Your appointment is at 3 pm."})
    assert response.status_code == 503
    assert response["Retry-After"] == "1"
    assert response.json()["code"] == "retry"
    assert list(Event.objects.filter(conversation=conversation).values_list("pk", flat=True)) == before
    assert api("post", f"/conversations/{conversation.pk}/messages", token=token_for(world.alice),
               json={"body": "Your appointment is at 3 pm."}).status_code == 201


def test_a_token_revoked_in_the_admin_is_refused_at_once(world, api):
    assert api("get", "/conversations").status_code == 200  # now remembered by this process
    token = ApiToken.objects.get(user=world.integration, revoked=False)
    token.revoked = True
    token.save()
    assert api("get", "/conversations").status_code == 401


def test_a_deactivated_account_is_refused_at_once(world, api):
    assert api("get", "/conversations").status_code == 200
    world.integration.is_active = False
    world.integration.save()
    assert api("get", "/conversations").status_code == 401


def test_a_token_revoked_elsewhere_is_refused_within_the_cache_time(world, api, settings):
    # Another server process revoked it: this one learns at the latest when
    # its memory of the token runs out.
    settings.API_TOKEN_CACHE_SECONDS = 0.3
    assert api("get", "/conversations").status_code == 200
    ApiToken.objects.update(revoked=True)  # no signal reaches this process
    assert api("get", "/conversations").status_code == 200
    time.sleep(0.35)
    assert api("get", "/conversations").status_code == 401


def test_a_burst_of_requests_looks_the_token_up_once(world, api):
    api("get", "/conversations")
    with CaptureQueriesContext(connection) as queries:
        assert api("get", "/conversations").status_code == 200
    assert not [q for q in queries.captured_queries if "hub_apitoken" in q["sql"]]
