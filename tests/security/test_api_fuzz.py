"""Property-based fuzzing of /api/v1/ against its own OpenAPI schema.

Schemathesis reads the schema the hub serves at /api/v1/openapi.json and
generates requests for every operation, valid and invalid, with hostile
values mixed in (see HOSTILE_TEXT and HOSTILE_INTEGERS). Every answer must be
a documented status code, never a 5xx, with a body that matches the
documented schema; without credentials every operation must refuse.

The requests go through Django's own request handler (the HTTP half of
hub.asgi.application: the same middleware and views) in the test's thread,
so they share the test's database connection and each test rolls back.

The run is bounded and reproducible: API_FUZZ_EXAMPLES generated examples
per operation (default 40) on top of Schemathesis' boundary cases, drawn
from a fixed seed (API_FUZZ_SEED). To search further locally:

    API_FUZZ_EXAMPLES=500 .venv/bin/python -m pytest -m fuzz tests/security/test_api_fuzz.py
"""

from __future__ import annotations

import json
import logging
import os
import secrets
from datetime import timedelta

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections, transaction
from django.test import Client
from django.utils import timezone
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi.checks import (
    content_type_conformance, response_schema_conformance, status_code_conformance,
)
from werkzeug.test import Client as WerkzeugClient

from hub.actions import assignment
from hub.models import AgentProfile, ApiToken, CannedResponse, Conversation, Department, Offer, Patient, Topic
from kpi import tables
from tests.conftest import build_world

pytestmark = pytest.mark.fuzz

EXAMPLES = int(os.environ.get("API_FUZZ_EXAMPLES", "40"))
SEED = int(os.environ.get("API_FUZZ_SEED", "20240611"))

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]

# Values that have broken web APIs before, put in every path, query and body
# field a quarter of the time: NUL, which PostgreSQL refuses in text; LIKE
# wildcards; control, invisible and right-to-left characters; times at the
# ends of the calendar; integers at and past the limits of 32-bit,
# JavaScript-safe and 64-bit storage.
HOSTILE_TEXT = [
    "\x00", "nul\x00inside", "end\x00", "%_\\", "' OR '1'='1", "\u202e\u200b", "\r\n", "   ", "\U0001f642",
    "9999-12-31T23:59:59-23:59", "0001-01-01T00:00:00+23:59",
]
HOSTILE_INTEGERS = [0, -1, 2**31, 2**53 + 1, 2**63 - 1, 2**63, -(2**63) - 1, 10**20]
# /inbound stores nothing without a phone number it can read.
PHONE_NUMBERS = ["+15555550199", "(555) 555-0142", "555.555.0143", "+44 20 7946 0958", "+1555555\x000144"]
HOSTILE_SHARE = 0.25

APP = WSGIHandler()


def _served_schema() -> dict:
    response = WerkzeugClient(APP).get("/api/v1/openapi.json")
    assert response.status_code == 200, response.status_code
    return json.loads(response.get_data())


def _body_leaves(node: dict, components: dict, path: tuple = ()):
    """(path, JSON type) of every string and integer field a request body holds."""
    if "$ref" in node:
        yield from _body_leaves(components[node["$ref"].rsplit("/", 1)[-1]], components, path)
        return
    for branch in [*node.get("anyOf", ()), *node.get("allOf", ())]:
        yield from _body_leaves(branch, components, path)
    if node.get("type") in ("string", "integer") and path:
        yield path, node["type"]
    for name, child in node.get("properties", {}).items():
        yield from _body_leaves(child, components, (*path, name))


def _config(raw: dict, *, boundary_cases: bool) -> SchemathesisConfig:
    """Hostile values for every path, query and body field; a fixed seed; no
    example database. Schemathesis' boundary cases (its coverage phase)
    only where requests get past authentication."""
    components = raw.get("components", {}).get("schemas", {})
    fields = {}
    for operation in (op for item in raw["paths"].values() for op in item.values()):
        leaves = [(f"{p['in']}.{p['name']}", kind) for p in operation.get("parameters", ())
                  for _, kind in _body_leaves(p["schema"], components, (p["name"],))]
        body = operation.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema")
        leaves += [("body." + ".".join(path), kind) for path, kind in _body_leaves(body or {}, components)]
        for key, kind in leaves:
            dictionary = "hostile-text" if kind == "string" else "hostile-integers"
            fields[key] = {"dictionary": dictionary, "probability": HOSTILE_SHARE}
    fields["body.contact.phone"] = {"dictionary": "phone-numbers", "probability": HOSTILE_SHARE}
    hostile = {"string": {"dictionary": "hostile-text", "probability": HOSTILE_SHARE},
               "integer": {"dictionary": "hostile-integers", "probability": HOSTILE_SHARE}}
    return SchemathesisConfig.from_dict({
        "seed": SEED,
        "dictionaries": {"hostile-text": {"values": HOSTILE_TEXT}, "hostile-integers": {"values": HOSTILE_INTEGERS},
                         "phone-numbers": {"values": PHONE_NUMBERS}},
        # Type-wide: also the credentials Schemathesis makes up (a session cookie).
        "generation": {"deterministic": True, "database": "none", "dictionaries": hostile},
        "parameters": fields,
        # Methods a path does not have get Django's 405 whoever asks.
        "phases": {"coverage": {"enabled": boundary_cases, "unexpected-methods": []}},
    })


def _load(*, boundary_cases: bool):
    raw = _served_schema()
    loaded = schemathesis.openapi.from_dict(raw, config=_config(raw, boundary_cases=boundary_cases))
    loaded.app = APP
    return loaded


schema = _load(boundary_cases=True)
unauthenticated_schema = _load(boundary_cases=False)


def fuzz_settings(max_examples: int):
    return settings(
        max_examples=max_examples,
        deadline=None,
        derandomize=True,
        database=None,
        phases=[Phase.explicit, Phase.generate, Phase.shrink],
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large,
                               HealthCheck.function_scoped_fixture],
    )


# Values the API accepts, drawn half of the time for fields of these names,
# so that requests get past validation to the code behind it: rows the
# world holds (a random id almost never names one) and the words the API
# knows. Filled in by `fuzz_world` before any case is drawn.
KNOWN: dict[str, list] = {}


def _or_known(values: dict):
    if not isinstance(values, dict) or not values:
        return st.just(values)
    return st.fixed_dictionaries({
        name: st.sampled_from(KNOWN[name]) | st.just(value)
        if KNOWN.get(name) and isinstance(value, (int, str)) and not isinstance(value, bool) else st.just(value)
        for name, value in values.items()
    })


@schema.hook
def flatmap_path_parameters(context, path_parameters):
    return _or_known(path_parameters)


@schema.hook
def flatmap_query(context, query):
    return _or_known(query)


@schema.hook
def flatmap_body(context, body):
    return _or_known(body)


@pytest.fixture
def _quiet_request_log():
    """Each refused request would log a warning naming its path; generated
    text can be both a path and a message body, which the suite's scan for
    patient data in the logs would then report. Server errors still log."""
    loggers = [logging.getLogger(name) for name in ("django.request", "django.security.csrf")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.ERROR)
    yield
    for logger, level in zip(loggers, levels):
        logger.setLevel(level)


def _post(client, path, token, payload=None):
    return client.post(f"/api/v1{path}", data=payload or {}, content_type="application/json",
                       HTTP_AUTHORIZATION=f"Bearer {token}")


@pytest.fixture
def fuzz_world(db, _quiet_request_log):
    """Riverside with three patients and their conversations, made through
    the API: one assigned to alice (with a note), one resolved, one queued
    and offered to alice; a canned response."""
    world = build_world()
    client = Client()
    alice_token, sam_token = ApiToken.issue(world.alice)[1], ApiToken.issue(world.sam)[1]

    def inbound(**payload):
        response = _post(client, "/inbound", world.token, payload)
        assert response.status_code in (200, 201), response.content
        return response.json()["conversation_id"]

    assigned = inbound(source_id="fuzz-1", body="Hello", contact={"phone": "+15555550101", "first_name": "Pat"})
    resolved = inbound(source_id="fuzz-2", body="About my bill", topic="bill", contact={"external_id": "crm:7"})
    inbound(source_id="fuzz-3", body="And another thing", contact={"phone": "+15555550101"})
    offered = inbound(source_id="fuzz-4", body="Can I move my visit", contact={"phone": "+15555550103"})
    assert _post(client, f"/conversations/{assigned}/pick-up", alice_token).status_code == 200
    assert _post(client, f"/conversations/{assigned}/notes", alice_token, {"body": "called back"}).status_code == 201
    assert _post(client, f"/conversations/{resolved}/resolve", sam_token).status_code == 200
    presence = client.put("/api/v1/me/presence", data={"presence": "available"}, content_type="application/json",
                          HTTP_AUTHORIZATION=f"Bearer {alice_token}")
    assert presence.status_code == 200, presence.content
    Department.objects.filter(pk=world.scheduling.pk).update(assignment=Department.Assignment.ROUND_ROBIN)
    assert assignment.offer_next(offered) is not None
    CannedResponse.objects.create(practice=world.practice, shortcut="hi", title="Greeting",
                                  body="Hello {patient_first_name}, this is {agent_name} at {practice_name}.")

    KNOWN.update(patient_id=list(Patient.objects.values_list("pk", flat=True)),
                 conversation_id=list(Conversation.objects.values_list("pk", flat=True)),
                 offer_id=list(Offer.objects.values_list("pk", flat=True)),
                 department_id=[world.scheduling.pk, world.billing.pk, world.nurse.pk],
                 agent_id=[world.alice.pk, world.bob.pk, world.sam.pk, world.integration.pk],
                 topic_id=list(Topic.objects.values_list("pk", flat=True)),
                 name=list(tables.TABLES), limit=[1, 50, 200], status=["open", "all", *Conversation.Status.values],
                 disposition=["resolved", "follow_up"], presence=list(AgentProfile.Presence.values),
                 until=[(timezone.now() + timedelta(hours=3)).isoformat()])
    yield world
    KNOWN.clear()


def _call(case, **kwargs):
    """Send the case in a savepoint of its own, so that a request failing
    half-way cannot leave the test's transaction unusable for the next. Like
    Django's test client, keep the database connection across the request
    (the handler closes it when a request starts and ends)."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        with transaction.atomic():
            response = case.call(**kwargs)
            if response.status_code >= 500:
                transaction.set_rollback(True)
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)
    return response


@schema.parametrize()
@fuzz_settings(EXAMPLES)
def test_integration_token(case, fuzz_world):
    """An integration's bearer token: the whole practice, and /inbound."""
    response = _call(case, headers={"Authorization": f"Bearer {fuzz_world.token}"})
    case.validate_response(response, checks=CHECKS)


@pytest.fixture
def alice_session(fuzz_world):
    """The console's way in: alice's (an agent's) session cookie with a CSRF token."""
    client = Client()
    client.force_login(fuzz_world.alice)
    csrf = secrets.token_hex(16)
    return {"cookies": {"sessionid": client.cookies["sessionid"].value, "csrftoken": csrf},
            "headers": {"X-CSRFToken": csrf}}


@schema.parametrize()
@fuzz_settings(EXAMPLES)
def test_agent_session(case, alice_session):
    """An agent signed in to the console: their departments, and the verbs."""
    response = _call(case, headers=alice_session["headers"], cookies=alice_session["cookies"])
    case.validate_response(response, checks=CHECKS)


@unauthenticated_schema.parametrize()
@fuzz_settings(max(5, EXAMPLES // 5))
def test_unauthenticated(case, fuzz_world):
    """Without credentials every operation refuses (401; 403 for a write
    without a CSRF token): never data, never a 5xx."""
    case.headers = {k: v for k, v in (case.headers or {}).items() if k.lower() != "authorization"}
    case.cookies = {}
    response = _call(case)
    case.validate_response(response, checks=CHECKS)
    assert response.status_code in (401, 403), (response.status_code, response.text[:200])
