"""Business hours: is a department open, when does it open next, and clocks
that only run while it is open. Times are the department's local wall
clock (its practice's time zone), so a 9:00 opening stays at 9:00 across a
daylight-saving change.

A schedule with no hours at all means always open.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

SEARCH_DAYS = 400  # holidays and closures never hide an opening for longer


@dataclass(frozen=True)
class Schedule:
    tz: ZoneInfo
    # weekday (Monday 0) -> [(opens, closes)], local times, closes > opens
    weekly: dict[int, list[tuple[time, time]]] = field(default_factory=dict)
    holidays: frozenset[date] = frozenset()

    @property
    def always_open(self) -> bool:
        return not any(self.weekly.values())

    def intervals_on(self, day: date) -> list[tuple[datetime, datetime]]:
        """The day's opening intervals as aware datetimes."""
        if day in self.holidays:
            return []
        out = []
        for opens, closes in sorted(self.weekly.get(day.weekday(), [])):
            start = datetime.combine(day, opens, tzinfo=self.tz)
            end = datetime.combine(day, closes, tzinfo=self.tz)
            if end > start:
                out.append((start, end))
        return out

    def _days_from(self, moment: datetime):
        local = moment.astimezone(self.tz).date()
        for offset in range(SEARCH_DAYS):
            yield local + timedelta(days=offset)


def is_open(schedule: Schedule, at: datetime) -> bool:
    if schedule.always_open:
        return True
    local_day = at.astimezone(schedule.tz).date()
    return any(start <= at < end for start, end in schedule.intervals_on(local_day))


def next_opening(schedule: Schedule, at: datetime) -> datetime | None:
    """When it next opens after `at` (`at` itself if open now)."""
    if is_open(schedule, at):
        return at
    for day in schedule._days_from(at):
        for start, _ in schedule.intervals_on(day):
            if start > at:
                return start
    return None


def add_business_time(schedule: Schedule, start: datetime, seconds: float) -> datetime:
    """The moment `seconds` of opening time after `start`."""
    if schedule.always_open:
        return start + timedelta(seconds=seconds)
    remaining = timedelta(seconds=seconds)
    for day in schedule._days_from(start):
        for open_at, close_at in schedule.intervals_on(day):
            if close_at <= start:
                continue
            begin = max(open_at, start)
            available = close_at - begin
            if remaining <= available:
                return begin + remaining
            remaining -= available
    raise ValueError("no opening hours in the coming year")


def business_seconds_between(schedule: Schedule, a: datetime, b: datetime) -> float:
    """Opening time between a and b (0 if b is not after a)."""
    if b <= a:
        return 0.0
    if schedule.always_open:
        return (b - a).total_seconds()
    total = timedelta()
    for day in schedule._days_from(a):
        if datetime.combine(day, time.min, tzinfo=schedule.tz) >= b:
            break
        for open_at, close_at in schedule.intervals_on(day):
            lo, hi = max(open_at, a), min(close_at, b)
            if hi > lo:
                total += hi - lo
    return total.total_seconds()
