"""A patient who writes while the department is closed hears when it opens, once."""

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from hub.actions import after_hours
from hub.models import BusinessHours, Event, Holiday
from tests.factories import inbound

NY = ZoneInfo("America/New_York")


@pytest.fixture
def office_hours(world, settings):
    settings.SMS_BACKEND = "sandbox"
    for weekday in range(5):
        BusinessHours.objects.create(department=world.scheduling, weekday=weekday, opens=time(8), closes=time(18))


def replies():
    return list(Event.objects.filter(data__automatic="after_hours").values_list("body", flat=True))


def test_a_text_on_saturday_is_told_monday_morning(world, office_hours, frozen_clock):
    frozen_clock.set(datetime(2026, 11, 28, 11, 0, tzinfo=NY))  # Saturday
    conversation = inbound(world.practice, channel="sms").conversation
    assert after_hours.reply_if_closed(conversation.pk, "sms")
    [body] = replies()
    assert "Monday at 8:00 AM" in body and "911" in body
    # Once per closed period.
    inbound(world.practice, channel="sms", body="hello?")
    assert not after_hours.reply_if_closed(conversation.pk, "sms")


def test_a_text_the_evening_before_a_holiday_hears_the_day_after(world, office_hours, frozen_clock):
    Holiday.objects.create(practice=world.practice, date=date(2026, 11, 26), name="Thanksgiving")
    frozen_clock.set(datetime(2026, 11, 25, 20, 0, tzinfo=NY))
    conversation = inbound(world.practice, channel="sms").conversation
    after_hours.reply_if_closed(conversation.pk, "sms")
    assert "Friday at 8:00 AM" in replies()[0]


def test_nothing_is_sent_while_open_or_for_calls(world, office_hours, frozen_clock):
    frozen_clock.set(datetime(2026, 11, 24, 10, 0, tzinfo=NY))
    conversation = inbound(world.practice, channel="sms").conversation
    assert not after_hours.reply_if_closed(conversation.pk, "sms")
    frozen_clock.set(datetime(2026, 11, 24, 22, 0, tzinfo=NY))
    assert not after_hours.reply_if_closed(conversation.pk, "voice")
    assert replies() == []


def test_a_department_without_hours_never_closes(world, frozen_clock, settings):
    frozen_clock.set(datetime(2026, 11, 28, 3, 0, tzinfo=NY))
    conversation = inbound(world.practice, channel="sms").conversation
    assert not after_hours.reply_if_closed(conversation.pk, "sms")


def test_a_department_holiday_closes_that_department_alone(world, office_hours):
    from hub.actions import sla
    from hub.lib import directory

    BusinessHours.objects.create(department=world.billing, weekday=2, opens=time(8), closes=time(18))
    Holiday.objects.create(practice=world.practice, department=world.billing, date=date(2026, 11, 25),
                           name="Billing team day")
    Holiday.objects.create(practice=world.practice, date=date(2026, 11, 26), name="Thanksgiving")
    wednesday = datetime(2026, 11, 25, 10, 0, tzinfo=NY)
    cached = directory.get(world.practice.pk, fresh=True).schedules
    for schedules in ({d.pk: sla.schedule_for(d.pk) for d in (world.scheduling, world.billing)}, cached):
        assert schedules[world.scheduling.pk].holidays == {date(2026, 11, 26)}
        assert schedules[world.billing.pk].holidays == {date(2026, 11, 25), date(2026, 11, 26)}
        assert [day for day, _ in schedules[world.billing.pk].weekly.items()] == [2]
    assert directory.closed_now(world.practice.pk, world.billing.pk, wednesday)
    assert not directory.closed_now(world.practice.pk, world.scheduling.pk, wednesday)
