"""/api/v1/kpi/: the dashboard's tables for other tools (a BI system, a
spreadsheet), the same numbers as the dashboard and its CSV export."""

from __future__ import annotations

from datetime import timedelta
from itertools import islice
from typing import Any

from django.http import HttpRequest
from ninja import Field, Router, Schema
from ninja.errors import HttpError

from hub.api.schemas import ErrorOut, Offset
from hub.lib import access, audit
from hub.models import Practice
from kpi import tables

router = Router(tags=["kpi"])
MAX_ROWS = 5000
ERRORS = {status: ErrorOut for status in (400, 401, 403, 404, 422)}


class TablesOut(Schema):
    tables: list[str]
    row_tables: list[str]
    filters: list[str]


class TableOut(Schema):
    table: str
    title: str
    columns: list[str]
    from_: str = Field(alias="from")
    to: str
    filters: dict[str, int | str]
    rows: list[list[Any]]
    next_offset: int | None = Field(None, description="Row tables only: the offset of the next page, if any.")


def _practice(request: HttpRequest) -> Practice:
    viewer = access.viewer_for(request.auth)
    if viewer is None:
        raise HttpError(403, "This account is not a staff member of any practice.")
    if not viewer.may_read_kpis:
        raise HttpError(403, "KPIs are for supervisors, admins and integrations.")
    return Practice.objects.get(pk=viewer.practice_id)


@router.get("/tables", response={200: TablesOut, **ERRORS})
def list_tables(request):
    """The tables there are; each takes the same filters."""
    _practice(request)
    return {"tables": list(tables.TABLES), "row_tables": list(tables.ROW_TABLES),
            "filters": ["from", "to", "department", "channel", "agent", "topic"]}


@router.get("/{name}", response={200: TableOut, **ERRORS}, by_alias=True, exclude_unset=True)
def table(request, name: str, limit: int = 1000, offset: Offset = 0):
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
        # A row per conversation or contact: audited like the CSV export.
        viewer = access.viewer_for(request.auth)
        audit.record(user_id=viewer.user_id, practice_id=practice.pk, action="kpi.exported", obj=("kpi_table", name),
                     via=getattr(request, "api_via", "api"), ip=audit.client_ip(request.META),
                     detail={**scope.filters, "from": body["from"], "to": body["to"], "offset": offset,
                             "limit": limit})
    else:
        body["rows"] = list(result.rows)
    return body
