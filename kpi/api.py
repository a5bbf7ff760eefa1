"""/api/v1/kpi/: the dashboard's tables for other tools (a BI system, a
spreadsheet), the same numbers as the dashboard and its CSV export."""

from __future__ import annotations

from datetime import timedelta
from itertools import islice

from django.http import HttpRequest
from ninja import Router
from ninja.errors import HttpError

from hub.lib import access
from hub.models import AgentProfile, Practice
from kpi import tables

router = Router(tags=["kpi"])
READERS = (AgentProfile.Role.SUPERVISOR, AgentProfile.Role.ADMIN, AgentProfile.Role.INTEGRATION)
MAX_ROWS = 5000


def _practice(request: HttpRequest) -> Practice:
    viewer = access.viewer_for(request.auth)
    if viewer is None:
        raise HttpError(403, "This account is not a staff member of any practice.")
    if viewer.role not in READERS:
        raise HttpError(403, "KPIs are for supervisors, admins and integrations.")
    return Practice.objects.get(pk=viewer.practice_id)


@router.get("/tables")
def list_tables(request):
    """The tables there are; each takes the same filters."""
    _practice(request)
    return {"tables": list(tables.TABLES), "row_tables": list(tables.ROW_TABLES),
            "filters": ["from", "to", "department", "channel", "agent", "topic"]}


@router.get("/{name}")
def table(request, name: str, limit: int = 1000, offset: int = 0):
    """One table for the filters in the query string (`from`, `to` as
    YYYY-MM-DD in the practice's time zone, inclusive; `department`,
    `agent`, `topic` ids; `channel`). `contacts` and `conversations` have a
    row per item and are paged with limit (at most 5000) and offset."""
    practice = _practice(request)
    build = tables.TABLES.get(name)
    if build is None:
        raise HttpError(404, f"No table {name!r}; see /api/v1/kpi/tables.")
    try:
        scope = tables.parse_scope(practice, request.GET)
    except tables.BadScope as bad:
        raise HttpError(400, str(bad)) from None
    result = build(scope)
    body = {"table": result.name, "title": result.title, "columns": result.columns,
            "from": scope.start.date().isoformat(),
            "to": (scope.end - timedelta(days=1)).date().isoformat(), "filters": scope.filters}
    if name in tables.ROW_TABLES:
        if not 1 <= limit <= MAX_ROWS or offset < 0:
            raise HttpError(400, f"limit is 1 to {MAX_ROWS}, offset 0 or more.")
        rows = list(islice(result.rows, offset, offset + limit + 1))
        body["rows"] = rows[:limit]
        body["next_offset"] = offset + limit if len(rows) > limit else None
    else:
        body["rows"] = list(result.rows)
    return body
