"""A patient who writes while their department is closed hears so at once,
with the next opening time, once per closed period."""

from __future__ import annotations

from datetime import timedelta

from hub.actions import outbound, sla
from hub.lib import clock, hours
from hub.models import Conversation, Department, Event

TEXT_CHANNELS = {"sms", "web", "api"}


def describe_opening(moment, tz) -> str:
    local = moment.astimezone(tz)
    today = clock.now().astimezone(tz).date()
    day = ("today" if local.date() == today else "tomorrow" if local.date() == today + timedelta(days=1)
           else local.strftime("%A"))
    return f"{day} at {local.strftime('%I:%M %p').lstrip('0')}"


def reply_if_closed(conversation_id: int, channel: str) -> bool:
    if channel not in TEXT_CHANNELS:
        return False  # calls get the phone menu's after-hours path
    conversation = Conversation.objects.filter(pk=conversation_id).first()
    if conversation is None or not conversation.is_open:
        return False
    schedule = sla.schedule_for(conversation.department_id)
    now = clock.now()
    if hours.is_open(schedule, now):
        return False
    # Once per closed period: nothing sent since it last closed (or in the
    # last day, for a long closure).
    since = now - timedelta(hours=24)
    if Event.objects.filter(conversation=conversation, data__automatic="after_hours", created_at__gte=since).exists():
        return False
    department = Department.objects.get(pk=conversation.department_id)
    opening = hours.next_opening(schedule, now)
    when = describe_opening(opening, schedule.tz) if opening else "as soon as we can"
    template = department.after_hours_message or "We're closed now and will reply {next_opening}."
    body = template.replace("{next_opening}", when)
    return outbound.send_automatic(conversation.pk, body, channel=channel, reason="after_hours") is not None
