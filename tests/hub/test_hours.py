"""Business hours across a weekend, a holiday and daylight-saving changes."""

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from hub.lib.hours import Schedule, add_business_time, business_seconds_between, is_open, next_opening

NY = ZoneInfo("America/New_York")
UTC = ZoneInfo("UTC")
WEEKDAYS = {d: [(time(8), time(12)), (time(13), time(18))] for d in range(5)}  # lunch closed
SCHEDULE = Schedule(tz=NY, weekly=WEEKDAYS, holidays=frozenset({date(2026, 11, 26)}))  # Thanksgiving


def ny(*args):
    return datetime(*args, tzinfo=NY)


@pytest.mark.parametrize("moment,expected", [
    (ny(2026, 11, 24, 9, 0), True),       # Tuesday morning
    (ny(2026, 11, 24, 12, 30), False),    # lunch
    (ny(2026, 11, 24, 18, 0), False),     # closing time itself is closed
    (ny(2026, 11, 24, 7, 59), False),
    (ny(2026, 11, 26, 10, 0), False),     # holiday
    (ny(2026, 11, 28, 10, 0), False),     # Saturday
    (datetime(2026, 11, 24, 14, 0, tzinfo=UTC), True),  # 9:00 in New York
])
def test_is_open(moment, expected):
    assert is_open(SCHEDULE, moment) is expected


def test_next_opening_skips_lunch_nights_weekends_and_holidays():
    assert next_opening(SCHEDULE, ny(2026, 11, 24, 12, 15)) == ny(2026, 11, 24, 13, 0)
    assert next_opening(SCHEDULE, ny(2026, 11, 25, 18, 30)) == ny(2026, 11, 27, 8, 0)  # over Thanksgiving
    assert next_opening(SCHEDULE, ny(2026, 11, 27, 19, 0)) == ny(2026, 11, 30, 8, 0)   # over the weekend
    assert next_opening(SCHEDULE, ny(2026, 11, 24, 9, 0)) == ny(2026, 11, 24, 9, 0)    # open now


def test_opening_stays_at_local_time_across_the_autumn_clock_change():
    # Clocks go back on Sunday 2026-11-01: 8:00 Monday is 13:00 UTC, not 12:00.
    opening = next_opening(SCHEDULE, ny(2026, 10, 30, 20, 0))
    assert opening == ny(2026, 11, 2, 8, 0)
    assert opening.astimezone(UTC).hour == 13


def test_opening_stays_at_local_time_across_the_spring_clock_change():
    # Clocks go forward on Sunday 2027-03-14: 8:00 Monday is 12:00 UTC.
    opening = next_opening(SCHEDULE, ny(2027, 3, 12, 20, 0))
    assert opening.astimezone(UTC) == datetime(2027, 3, 15, 12, 0, tzinfo=UTC)


def test_business_time_runs_only_while_open():
    # 2 business hours from Friday 17:00: 1 h on Friday, 1 h on Monday.
    assert add_business_time(SCHEDULE, ny(2026, 11, 27, 17, 0), 2 * 3600) == ny(2026, 11, 30, 9, 0)
    # Over lunch.
    assert add_business_time(SCHEDULE, ny(2026, 11, 24, 11, 30), 3600) == ny(2026, 11, 24, 13, 30)
    # From a closed moment the clock starts at the next opening.
    assert add_business_time(SCHEDULE, ny(2026, 11, 28, 12, 0), 60) == ny(2026, 11, 30, 8, 1)


def test_business_seconds_between_match_additions():
    start = ny(2026, 10, 30, 16, 0)  # Friday before the clock change
    end = add_business_time(SCHEDULE, start, 5 * 3600)
    assert end == ny(2026, 11, 2, 11, 0)  # 2 h on Friday, 3 h on Monday from 8:00
    assert business_seconds_between(SCHEDULE, start, end) == 5 * 3600


def test_a_schedule_without_hours_is_always_open():
    always = Schedule(tz=NY)
    moment = ny(2026, 11, 28, 3, 0)
    assert is_open(always, moment) and next_opening(always, moment) == moment
    assert add_business_time(always, moment, 90) == moment + timedelta(seconds=90)
