"""/api/v1/kpi/: who may read it, bad filters, paging, and the staffing
forecast against the roster."""

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.test import Client

from hub.actions import conversations, outbound
from hub.lib import access
from kpi import rollup
from kpi.models import Shift
from tests.factories import inbound

NY = ZoneInfo("America/New_York")


def api(world, user=None):
    if user is None:
        return Client(HTTP_AUTHORIZATION=f"Bearer {world.token}")
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture(autouse=True)
def _sandbox(settings):
    settings.SMS_BACKEND = "sandbox"


def test_supervisors_admins_and_integrations_read_kpis_agents_do_not(world):
    assert api(world).get("/api/v1/kpi/summary").status_code == 200
    assert api(world, world.sam).get("/api/v1/kpi/summary").status_code == 200
    refused = api(world, world.alice).get("/api/v1/kpi/summary")
    assert refused.status_code == 403 and "supervisors" in refused.json()["detail"]
    assert Client().get("/api/v1/kpi/summary").status_code == 401


@pytest.mark.parametrize("query,message", [
    ({"from": "yesterday"}, "Dates are YYYY-MM-DD."),
    ({"from": "2026-11-20", "to": "2026-11-10"}, "'from' is after 'to'."),
    ({"from": "2024-01-01", "to": "2026-01-01"}, "Ask for at most 400 days at a time."),
    ({"department": "x1"}, "'department' is an id."),
    ({"department": "999999"}, "No such department."),
    ({"channel": "fax"}, "'channel' is one of voice, sms, web, api."),
    ({"agent": "424242"}, "No such agent."),
])
def test_bad_filters_are_400_with_the_reason(world, query, message):
    response = api(world).get("/api/v1/kpi/summary", query)
    assert response.status_code == 400 and response.json()["detail"] == message


def test_an_unknown_table_is_404(world):
    response = api(world).get("/api/v1/kpi/nonsense")
    assert response.status_code == 404 and "/api/v1/kpi/tables" in response.json()["detail"]


def test_another_practices_department_is_not_a_filter(world, other_world):
    response = api(world).get("/api/v1/kpi/summary", {"department": other_world.billing.pk})
    assert response.status_code == 400


def test_row_tables_are_paged(world, frozen_clock):
    for i in range(5):
        inbound(world.practice, phone=f"+1555555020{i}", channel="sms")
        frozen_clock.advance(seconds=10)
    rollup.rebuild()
    client = api(world)
    first = client.get("/api/v1/kpi/contacts", {"limit": 2}).json()
    assert len(first["rows"]) == 2 and first["next_offset"] == 2
    rest = client.get("/api/v1/kpi/contacts", {"limit": 5, "offset": 2}).json()
    assert len(rest["rows"]) == 3 and rest["next_offset"] is None
    assert client.get("/api/v1/kpi/contacts", {"limit": 0}).status_code == 400


def test_rows_carry_no_patient_names_or_words(world):
    inbound(world.practice, body="My name is Jane Roe and my knee hurts", first_name="Jane", last_name="Roe")
    rollup.rebuild()
    for name in ("contacts", "conversations"):
        text = api(world).get(f"/api/v1/kpi/{name}").content.decode()
        assert "Jane" not in text and "Roe" not in text and "knee" not in text and "555" not in text


def test_the_staffing_forecast_uses_the_same_weekday_and_the_roster(world, frozen_clock, settings):
    """Four Tuesdays with 20 texts between 10:00 and 11:00 each, each held
    for 30 minutes: 20 an hour, handle 1800 s / 3 at a time = 600 s, so 3.33
    Erlangs; Erlang C needs 6 agents for 80% within 120 s. Two people are
    rostered on Tuesdays from 9 to 17."""
    settings.KPI = {**settings.KPI, "message_concurrency": 3, "forecast_weeks": 4}
    viewer = access.viewer_for(world.alice)
    for week in range(1, 5):
        day = datetime(2026, 12, 1, 10, 0, tzinfo=NY) - timedelta(weeks=week)
        for i in range(20):
            frozen_clock.set(day + timedelta(minutes=i))
            conversation = inbound(world.practice, phone=f"+15555{week}{i:05d}", channel="sms").conversation
            conversations.pick_up(viewer, conversation.pk)
            outbound.send_message(viewer, conversation.pk, "On it.")
            frozen_clock.advance(minutes=30)
            conversations.resolve(viewer, conversation.pk)
    for user in (world.alice, world.bob):
        Shift.objects.create(practice=world.practice, agent=user, weekday=1, starts=time(9), ends=time(17))
    frozen_clock.set(datetime(2026, 11, 30, 12, 0, tzinfo=NY))
    rollup.rebuild()
    table = api(world).get("/api/v1/kpi/staffing", {"from": "2026-11-30", "to": "2026-11-30"}).json()
    assert table["title"] == "Staffing for 2026-12-01"
    rows = {row[0]: dict(zip(table["columns"], row)) for row in table["rows"]}
    ten = rows["10:00"]
    assert ten["messages_per_hour"] == 20 and ten["message_handle_seconds"] == 1800
    assert ten["agents_for_messages"] == 6 and ten["agents_scheduled"] == 2 and ten["gap"] == -4
    assert rows["08:00"]["agents_needed"] == 0 and rows["08:00"]["agents_scheduled"] == 0
    assert rows["16:00"]["agents_scheduled"] == 2 and rows["17:00"]["agents_scheduled"] == 0


@pytest.mark.parametrize("query,message", [
    ({"agent": "²"}, "'agent' is an id."),
    ({"agent": "0"}, "No such agent."),
    ({"to": "9999-12-31"}, "Dates are between 2000 and 2199."),
])
def test_odd_filters_are_400_too(world, query, message):
    response = api(world).get("/api/v1/kpi/summary", query)
    assert response.status_code == 400 and response.json()["detail"] == message
