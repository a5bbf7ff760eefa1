"""Keeping the facts in step: incremental rollups, late commits, business
hours, and the timeline as the only source."""

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.test import Client

from hub.actions import conversations, outbound
from hub.lib import access
from hub.models import BusinessHours, Event
from kpi import rollup
from kpi.models import Contact, Episode, RollupState
from kpi.tasks import refresh
from tests.factories import inbound

NY = ZoneInfo("America/New_York")


@pytest.fixture(autouse=True)
def _sandbox(settings):
    settings.SMS_BACKEND = "sandbox"


def summary(world, day):
    rows = Client(HTTP_AUTHORIZATION=f"Bearer {world.token}").get(
        "/api/v1/kpi/summary", {"from": day, "to": day}).json()["rows"]
    return dict(rows)


def test_each_run_picks_up_only_what_is_new_and_rereads_what_has_not_settled(world, frozen_clock):
    frozen_clock.set(datetime(2026, 11, 24, 9, 0, tzinfo=NY))
    first = inbound(world.practice, phone="+15555550301", channel="sms").conversation
    assert refresh() == 1
    mark = RollupState.objects.get().last_event_id
    # Just written: not settled yet, so the mark stays before it and the
    # next run reads it again (a transaction that commits late is not lost).
    assert mark < Event.objects.filter(conversation=first).order_by("id").first().pk
    frozen_clock.advance(minutes=1)
    assert refresh() == 1
    assert RollupState.objects.get().last_event_id == Event.objects.latest("id").pk
    assert refresh() == 0  # nothing new
    frozen_clock.advance(minutes=1)
    inbound(world.practice, phone="+15555550302", channel="sms")
    assert refresh() == 1  # only the new patient
    assert Contact.objects.count() == 2


def test_a_late_commit_below_the_mark_is_read_by_the_next_run(world, frozen_clock):
    """Event ids are handed out at insert; a transaction can commit after a
    later id was read. Its event is still younger than the settling time, so
    the mark has not passed it."""
    frozen_clock.set(datetime(2026, 11, 24, 9, 0, tzinfo=NY))
    inbound(world.practice, phone="+15555550303", channel="sms")
    frozen_clock.advance(seconds=30)
    refresh()
    late = inbound(world.practice, phone="+15555550304", channel="sms").event
    newer = inbound(world.practice, phone="+15555550305", channel="sms").event
    assert newer.pk > late.pk
    refresh()
    # As if `late` had still been uncommitted when that run read the table:
    Episode.objects.filter(patient_id=late.patient_id).delete()
    frozen_clock.advance(seconds=2)
    refresh()  # the mark did not pass it, so it is read again
    assert Episode.objects.filter(patient_id=late.patient_id).count() == 1
    frozen_clock.advance(seconds=30)
    refresh()
    assert RollupState.objects.get().last_event_id == newer.pk


def test_a_text_after_closing_waits_only_business_time(world, frozen_clock):
    """Scheduling opens 08:00-17:00 on weekdays. A text at 16:59 answered at
    08:02 the next morning waited 60 + 120 seconds of opening time."""
    for weekday in range(5):
        BusinessHours.objects.create(department=world.scheduling, weekday=weekday, opens=time(8), closes=time(17))
    frozen_clock.set(datetime(2026, 11, 24, 16, 59, tzinfo=NY))
    conversation = inbound(world.practice, phone="+15555550306", channel="sms").conversation
    frozen_clock.set(datetime(2026, 11, 25, 8, 2, tzinfo=NY))
    outbound.send_message(access.viewer_for(world.alice), conversation.pk, "Good morning!")
    frozen_clock.advance(minutes=1)
    rollup.rebuild()
    s = summary(world, "2026-11-24")
    assert s["average_speed_of_answer"] == 180 and s["first_response_time"] == 180
    assert s["service_level"] == 0  # 180 > 120


def test_the_facts_follow_the_timeline_not_the_conversation_row(world, frozen_clock):
    """Editing a conversation row changes no KPI: only events do."""
    frozen_clock.set(datetime(2026, 11, 24, 9, 0, tzinfo=NY))
    conversation = inbound(world.practice, phone="+15555550307", channel="sms").conversation
    frozen_clock.advance(seconds=40)
    outbound.send_message(access.viewer_for(world.alice), conversation.pk, "Hello")
    frozen_clock.advance(seconds=40)
    conversations.resolve(access.viewer_for(world.alice), conversation.pk)
    conversation.refresh_from_db()
    conversation.first_response_at = conversation.created_at + timedelta(hours=5)
    conversation.save()
    rollup.rebuild()
    assert summary(world, "2026-11-24")["average_speed_of_answer"] == 40
