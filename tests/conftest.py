"""Shared test fixtures: a practice with named people.

alice: agent in Scheduling; bob: agent in Billing; sam: supervisor;
pat: a patient who texts from +15555550101.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

import pytest
from django.contrib.auth import get_user_model

from hub.lib import clock
from hub.models import AgentProfile, ApiToken, Department, PhoneNumber, Practice, Topic

# The whole session's production log is scanned for the tests' patient data.
pytest_plugins = ["tests.phi_scan"]

PAT_PHONE = "+15555550101"
PRACTICE_NUMBERS = {"riverside": "+15550100100", "lakeside": "+15550100200"}


@dataclass
class World:
    practice: Practice
    scheduling: Department
    billing: Department
    nurse: Department
    alice: object
    bob: object
    sam: object
    integration: object
    token: str


def make_user(practice, username, role, departments=(), first="", last=""):
    user = get_user_model().objects.create_user(username=username, password=f"{username}-password-1",
                                                first_name=first or username.title(), last_name=last)
    profile = AgentProfile.objects.create(practice=practice, user=user, role=role)
    profile.departments.set(departments)
    return user


def build_world(slug="riverside") -> World:
    practice = Practice.objects.create(name=f"{slug.title()} Family Medicine", slug=slug,
                                        allowed_origins=["http://localhost:8000"])
    PhoneNumber.objects.create(practice=practice, number=PRACTICE_NUMBERS[slug], label="Main line")
    scheduling = Department.objects.create(practice=practice, name="Scheduling", slug="scheduling", ivr_digit="1")
    billing = Department.objects.create(practice=practice, name="Billing", slug="billing", ivr_digit="2")
    nurse = Department.objects.create(practice=practice, name="Nurse Line", slug="nurse", ivr_digit="4", is_clinical=True)
    Topic.objects.create(practice=practice, department=billing, name="Bill question", slug="bill")
    practice.default_department = scheduling
    practice.save()
    suffix = "" if slug == "riverside" else f"-{slug}"
    alice = make_user(practice, f"alice{suffix}", AgentProfile.Role.AGENT, [scheduling], "Alice", "Adams")
    bob = make_user(practice, f"bob{suffix}", AgentProfile.Role.AGENT, [billing], "Bob", "Brown")
    sam = make_user(practice, f"sam{suffix}", AgentProfile.Role.SUPERVISOR, [], "Sam", "Stone")
    integration = make_user(practice, f"integration{suffix}", AgentProfile.Role.INTEGRATION)
    _, token = ApiToken.issue(integration, "tests")
    return World(practice, scheduling, billing, nurse, alice, bob, sam, integration, token)


@pytest.fixture(autouse=True, scope="session")
def _store_publications_where_production_commits():
    """The hub's backends store a transaction's realtime stream entries at
    its COMMIT (hub.db.backends). Most tests run inside a transaction that
    never commits (pytest-django's `db`): there the entries are stored when
    the code under test ends its outermost atomic block, where production
    would commit."""
    from hub.db.backends.postgresql.base import DatabaseWrapper as Postgres
    from hub.db.backends.sqlite3.base import DatabaseWrapper as SQLite
    from hub.lib import events

    originals = {cls: cls._savepoint_commit for cls in (Postgres, SQLite)}

    def releasing(original):
        def _savepoint_commit(self, sid):
            original(self, sid)
            if self.atomic_blocks and all(getattr(b, "_from_testcase", False) for b in self.atomic_blocks):
                publications = events.unstored(self)
                if publications:
                    with self.cursor() as cursor:
                        events.store_with_cursor(publications, cursor)
        return _savepoint_commit

    for cls, original in originals.items():
        cls._savepoint_commit = releasing(original)
    yield
    for cls, original in originals.items():
        cls._savepoint_commit = original


@pytest.fixture(autouse=True)
def _fresh_directory():
    """Row ids repeat across tests on SQLite; never let one test's cached
    names (or checked API tokens) leak into the next."""
    from hub.api.auth import forget_recent_tokens
    from hub.lib import directory

    directory.forget()
    forget_recent_tokens()
    yield
    directory.forget()
    forget_recent_tokens()


@pytest.fixture(autouse=True)
def _compiled_queries_declared_right():
    """Every query the hub compiles once (hub.lib.fastsql.objects) declared
    its parameters as its SQL takes them: a wrong declaration only costs
    speed in production, so it is caught here."""
    from hub.lib import fastsql

    yield
    wrong, fastsql.misdeclared = set(fastsql.misdeclared), set()
    assert not wrong, f"compiled queries with their parameters given wrong: {wrong}"


@pytest.fixture
def world(db) -> World:
    return build_world()


@pytest.fixture
def other_world(db) -> World:
    return build_world("lakeside")


@pytest.fixture
def frozen_clock():
    """Set the hub's clock: `frozen_clock.set(dt)`, `frozen_clock.advance(seconds=5)`."""
    from datetime import timedelta

    from django.utils import timezone

    class Clock:
        def __init__(self):
            self.now = timezone.now()

        def set(self, moment):
            self.now = moment

        def advance(self, **delta):
            self.now += timedelta(**delta)

    c = Clock()
    clock.set_source(lambda: c.now)
    yield c
    clock.set_source(None)


class Captured(list):
    """Every realtime message published after commit, in order."""

    def of_type(self, type_):
        return [m for m in self if m["event"] == type_]


@pytest.fixture
def captured_events(monkeypatch):
    """Capture what hub.lib.events sends to the channel layer (and still send it)."""
    from hub.lib import events

    captured = Captured()
    real_send = events._send

    async def recording_send(pending):
        for item in pending:
            for stream, seq in item.seqs.items():
                captured.append({"stream": stream, **events.wire_entry(seq, item.type, item.payload, item.department_id)})
        await real_send(pending)

    monkeypatch.setattr(events, "_send", recording_send)
    return captured


@contextlib.contextmanager
def no_exceptions_logged(caplog):
    yield
    errors = [r for r in caplog.records if r.levelname in ("ERROR", "CRITICAL")]
    assert not errors, [r.getMessage() for r in errors]


@pytest.fixture
def twilio_settings(settings):
    """The hub configured with a Twilio account (webhooks signed with its token)."""
    from tests.channels_app.twilio_helpers import ACCOUNT_SID, AUTH_TOKEN

    settings.TWILIO_ACCOUNT_SID = ACCOUNT_SID
    settings.TWILIO_AUTH_TOKEN = AUTH_TOKEN
    settings.PUBLIC_BASE_URL = "https://hub.example.org"
    settings.ALLOWED_HOSTS = ["testserver", "hub.example.org", "localhost"]
    return settings


@pytest.fixture
def twilio_contract(twilio_settings, tmp_path):
    """Twilio's REST API as a local server that checks every request against
    Twilio's own OpenAPI description, with the hub's SMS and voice backends
    pointed at it (media stored under tmp_path). No violations allowed."""
    from tests.channels_app.twilio_helpers import ACCOUNT_SID, AUTH_TOKEN
    from tests.contracts.twilio_server import TwilioContractServer

    server = TwilioContractServer(account_sid=ACCOUNT_SID, auth_token=AUTH_TOKEN)
    twilio_settings.TWILIO_API_BASE_URL = server.start()
    twilio_settings.VOICE_BACKEND = twilio_settings.SMS_BACKEND = "twilio"
    twilio_settings.MEDIA_ROOT = tmp_path
    yield server
    server.stop()
    assert server.violations == [], server.violations
