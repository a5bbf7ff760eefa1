"""The console's starting state: every open conversation a viewer follows,
built straight from one query's rows (the page must render in well under
300 ms with thousands waiting)."""

from __future__ import annotations

from django.db.models import Count

from hub.lib import access, directory
from hub.lib.event_types import ConversationOut
from hub.models import Conversation

_FIELDS = ["id", "patient_id", "patient__first_name", "patient__last_name", "status", "department_id",
           "assignee_id", "topic_id", "priority", "urgent", "channel", "disposition", "created_at", "waiting_since",
           "first_response_at", "last_activity_at", "snoozed_until", "resolved_at", "last_event_seq",
           "routing_reason", "needs_callback", "sla_kind", "sla_state", "sla_deadline"]
FIELDS_OUT = list(ConversationOut.model_fields)


def _iso(value):
    return value.isoformat().replace("+00:00", "Z") if value is not None else None


def open_conversations(viewer: access.Viewer, limit: int = 5000) -> list[dict]:
    """JSON-ready ConversationOut dicts, by priority then wait."""
    names = directory.get(viewer.practice_id)
    rows = (access.conversations(viewer).exclude(status=Conversation.Status.RESOLVED)
            .order_by("-priority", "waiting_since", "id").values_list(*_FIELDS)[:limit])
    out = []
    for (pk, patient_id, first, last, status, dept, assignee, topic, priority, urgent, channel, disposition,
         created, waiting, first_response, activity, snoozed, resolved, seq, reason, callback, sla_kind, sla_state,
         sla_deadline) in rows:
        out.append({
            "id": pk, "patient_id": patient_id,
            "patient_name": f"{first} {last}".strip() or f"Unknown patient #{patient_id}",
            "status": status, "department_id": dept,
            "department_name": names.departments.get(dept) or directory.department_name(viewer.practice_id, dept),
            "assignee_id": assignee, "assignee_name": directory.staff_name(viewer.practice_id, assignee),
            "topic_id": topic, "topic_name": directory.topic_name(viewer.practice_id, topic),
            "priority": priority, "urgent": urgent, "channel": channel, "disposition": disposition,
            "created_at": _iso(created), "waiting_since": _iso(waiting), "first_response_at": _iso(first_response),
            "last_activity_at": _iso(activity), "snoozed_until": _iso(snoozed), "resolved_at": _iso(resolved),
            "last_event_seq": seq, "routing_reason": reason, "needs_callback": callback, "sla_kind": sla_kind,
            "sla_state": sla_state,
            "sla_deadline": _iso(sla_deadline),
        })
    return out


def waiting_counts(practice_id: int) -> dict[int, int]:
    """Waiting (unassigned) conversations per department of the practice:
    numbers only, so every staff member may see them (where to transfer)."""
    rows = (Conversation.objects.in_practice(practice_id).filter(status=Conversation.Status.QUEUED)
            .values("department_id").annotate(n=Count("id")).values_list("department_id", "n"))
    return dict(rows)
