"""A purge never changes a KPI figure: the known day of tests/kpi (texts,
calls, chats, transfers, SLA breaches), plus a voicemail with its
transcript, gives the same numbers in every /api/v1/kpi/ table before and
after everything in it is purged."""

from datetime import datetime, timedelta
from io import StringIO

import pytest
from django.core.management import call_command

from hub.actions import calls
from hub.models import Event
from hub.retention.models import RetentionPolicy
from hub.retention.purge import purge_practice
from tests.kpi.test_scenario import DAY, NY, live_the_day

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("twilio_settings")]


@pytest.fixture(autouse=True)
def _backends(settings, tmp_path):
    settings.VOICE_BACKEND = "sandbox"
    settings.SMS_BACKEND = "sandbox"
    settings.WIDGET_ALIVE_SECONDS = 1
    settings.MEDIA_ROOT = tmp_path


def every_table(d) -> dict:
    listing = d.api.get("/api/v1/kpi/tables").json()
    tables = {}
    for name in listing["tables"]:
        params = {"limit": 5000} if name in listing["row_tables"] else {}
        tables[name] = d.table(name, **params)
    return tables


def test_every_kpi_table_is_the_same_after_a_purge(world, frozen_clock):
    d = live_the_day(world, frozen_clock)
    d.at("18:00:00")
    sid = "CA" + "9" * 32
    calls.incoming(world.practice.pk, call_sid=sid, from_="+15555550109", to="+15550100100")
    d.at("18:00:40")
    calls.voicemail(sid, recording_sid="RE" + "9" * 32, recording_url="http://127.0.0.1:9/recording", duration=30)
    calls.status_changed(sid, status="completed", duration=40)
    calls.transcript(sid, recording_sid="RE" + "9" * 32, text="Please call me back about my results")

    frozen_clock.set(datetime(2026, 11, 24, tzinfo=NY) + timedelta(days=400))
    call_command("kpi_rebuild", stdout=StringIO())
    before = every_table(d)
    assert dict(before["summary"]["rows"])["contacts"] >= 11

    RetentionPolicy.objects.create(practice=world.practice, message_days=30, attachment_days=30,
                                   recording_days=30, transcript_days=30)
    run = purge_practice(world.practice)
    assert run.status == "ok" and run.purged["messages"] > 50 and run.purged["transcripts"] == 1
    assert not Event.objects.filter(practice=world.practice).exclude(body="").exists()
    assert not Event.objects.filter(practice=world.practice).exclude(data__has_key="purged_at").exists()

    call_command("kpi_rebuild", stdout=StringIO())
    after = every_table(d)
    assert after == before
    assert DAY in before["summary"]["from"]
