"""The phone menu's decisions: which departments it offers, what a caller's
key or words mean, whether the practice is open, how long the wait is."""

from __future__ import annotations

from datetime import timedelta

from django.db.models import Avg

from hub.actions import sla
from hub.lib import clock, hours, routing
from hub.models import Call, Department, Practice

WORD_DIGITS = {"zero": "0", "one": "1", "two": "2", "three": "3", "four": "4", "five": "5", "six": "6",
               "seven": "7", "eight": "8", "nine": "9", "operator": "0", "front desk": "0", "reception": "0"}


def options(practice: Practice) -> list[tuple[str, Department]]:
    """(digit, department) in keypad order; 0 is the front desk (the default department)."""
    offered = [(d.ivr_digit, d) for d in Department.objects.in_practice(practice).exclude(ivr_digit="")
               .order_by("ivr_digit")]
    if practice.default_department_id and "0" not in {digit for digit, _ in offered}:
        offered.append(("0", practice.default_department))
    return offered


def choose(practice: Practice, digits: str, speech: str) -> tuple[Department, str] | None:
    """The department a keypress or a spoken answer means, and how it was chosen."""
    offered = options(practice)
    by_digit = {digit: department for digit, department in offered}
    if digits:
        department = by_digit.get(digits[:1])
        return (department, f"pressed {digits[:1]}") if department else None
    if speech:
        for _, department in offered:
            if routing.matches(f"{department.name}|{department.slug.replace('-', ' ')}", speech):
                return department, f'said "{speech[:40]}"'
        for word, digit in WORD_DIGITS.items():
            if digit in by_digit and routing.matches(word, speech):
                return by_digit[digit], f'said "{speech[:40]}"'
    return None


def closed(department_id: int) -> bool:
    return not hours.is_open(sla.schedule_for(department_id), clock.now())


def describe_hours(department_id: int) -> str:
    """'Monday to Friday, 8 AM to 6 PM' from the department's weekly hours."""
    schedule = sla.schedule_for(department_id)
    if schedule.always_open:
        return "We are open around the clock."
    names = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
    groups: list[tuple[list[int], tuple]] = []
    for day in range(7):
        spans = tuple(schedule.weekly.get(day, []))
        if not spans:
            continue
        if groups and groups[-1][1] == spans and groups[-1][0][-1] == day - 1:
            groups[-1][0].append(day)
        else:
            groups.append(([day], spans))

    def clock_text(t) -> str:
        text = t.strftime("%I:%M %p").lstrip("0").replace(":00", "")
        return text

    parts = []
    for days, spans in groups:
        label = names[days[0]] if len(days) == 1 else f"{names[days[0]]} to {names[days[-1]]}"
        times = " and ".join(f"{clock_text(a)} to {clock_text(b)}" for a, b in spans)
        parts.append(f"{label}, {times}")
    return "Our hours are " + "; ".join(parts) + "."


def estimated_wait_minutes(department_id: int | None, position: int) -> int | None:
    """From the department's recent hold times (answered calls in the last
    two hours); None when there is nothing to go on."""
    if department_id is None:
        return None
    recent = (Call.objects.filter(department_id=department_id, answered_at__isnull=False,
                                  started_at__gte=clock.now() - timedelta(hours=2), queue_seconds__isnull=False)
              .aggregate(avg=Avg("queue_seconds"))["avg"])
    if not recent:
        return None
    return max(1, round(recent * max(1, position) / 60))
