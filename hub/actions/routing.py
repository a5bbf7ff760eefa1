"""Where a new conversation goes, and why (recorded on its timeline)."""

from __future__ import annotations

from dataclasses import dataclass

from hub.lib import routing
from hub.models import Department, Practice, RoutingRule, Topic

SOURCE_TEXT = {"voice": "Phone menu choice", "web": "Chosen in the chat form", "api": "Integration's hint",
               "sms": "Hint"}


@dataclass(frozen=True)
class Decision:
    department_id: int
    topic_id: int | None
    reason: str


def route(practice_id: int, *, channel: str, body: str, department_slug: str = "", topic_slug: str = "") -> Decision:
    """In order: the channel's own choice (the phone menu, the chat form's
    reason, an integration's hint), the practice's keyword rules on the
    text, the practice's default department."""
    source = SOURCE_TEXT.get(channel, "Hint")
    if topic_slug:
        topic = Topic.objects.in_practice(practice_id).filter(slug=topic_slug).select_related("department").first()
        if topic is not None:
            return Decision(topic.department_id, topic.pk, f"{source}: {topic.name}")
    if department_slug:
        department = Department.objects.in_practice(practice_id).filter(slug=department_slug).first()
        if department is not None:
            return Decision(department.pk, None, f"{source}: {department.name}")
    if channel == "voice":
        # A call's department is the caller's menu choice, which comes later.
        default = Practice.objects.filter(pk=practice_id).values_list("default_department_id", flat=True).first()
        if default is not None:
            return Decision(default, None, "Phone call, before the menu choice")
    if body:
        for rule in RoutingRule.objects.in_practice(practice_id).filter(active=True).select_related("department"):
            channels = {c.strip() for c in rule.channels.split(",") if c.strip()}
            if channels and channel not in channels:
                continue
            if routing.matches(rule.pattern, body):
                return Decision(rule.department_id, rule.topic_id, f"Matched rule '{rule.pattern}'")
    default = Practice.objects.filter(pk=practice_id).values_list("default_department_id", flat=True).first()
    if default is not None:
        return Decision(default, None, "No rule matched: the practice's default department")
    department = Department.objects.in_practice(practice_id).first()
    if department is None:
        # A message is never refused for want of configuration.
        department = Department.objects.create(practice_id=practice_id, name="Front desk", slug="front-desk")
    return Decision(department.pk, None, "No rule matched and no default set: the first department")
