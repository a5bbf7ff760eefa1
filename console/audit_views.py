"""/console/audit/: the practice's audit trail, searched and exported by its
practice admins (docs/audit.md). Only the admin's own practice's rows are
ever read; a filter naming someone or something of another practice simply
finds nothing. Searching and exporting are themselves audited."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.db.models import Q
from django.http import HttpResponseBadRequest
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET

from console import guards
from hub.lib import audit, audit_chain, clock, csvexport
from hub.models import AgentProfile, AuditEntry, Patient, Practice

PAGE_SIZE = 100
EXPORT_CHUNK = 1000
EARLIEST, LATEST = date(2000, 1, 1), date(2100, 12, 31)
FILTERS = ("from", "to", "user", "action", "object_type", "object_id", "patient", "ip")
MAX_ID = 2**63 - 1
ACTION = re.compile(r"[a-z0-9_]+(\.[a-z0-9_]+)*\.?")
OBJECT_TYPE = re.compile(r"[a-z0-9_]{1,32}")
OBJECT_ID = re.compile(r"[A-Za-z0-9_*.:@+-]{1,64}")
OBJECT_TYPES = ("patient", "conversation", "event", "attachment", "contactpoint", "kpi_table", "user", "audit_log",
                "ehrconnection", "article", "articleassignment", "assignment", "practicerun", "review", "rubric")
CSV_COLUMNS = ["sequence", "created_at", "local_time", "practice_id", "user_id", "user", "action", "object_type",
               "object_id", "patient_id", "ip", "via", "detail", "prev_hash", "hash"]

FORBIDDEN = "The audit log is for practice admins."


class BadFilter(ValueError):
    """A filter value the page cannot use; the message says which and why."""


@dataclass
class Search:
    """The filters as entered (cleaned, for the form and links) and as a query."""

    values: dict[str, str] = field(default_factory=dict)
    q: Q = field(default_factory=Q)
    patient_id: int | None = None


def _id(params, name: str, label: str) -> int | None:
    value = (params.get(name) or "").strip()
    if not value:
        return None
    if not (value.isascii() and value.isdigit()) or int(value) > MAX_ID:
        raise BadFilter(f"{label} is a number (an id).")
    return int(value)


def _date(params, name: str, label: str) -> date | None:
    value = (params.get(name) or "").strip()
    if not value:
        return None
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise BadFilter(f"{label} is a date, YYYY-MM-DD.") from None
    if not EARLIEST <= day <= LATEST:
        raise BadFilter(f"{label} is between {EARLIEST.year} and {LATEST.year}.")
    return day


def parse(practice: Practice, params) -> Search:
    """Read the filters of a search; raises BadFilter on the first bad one."""
    search = Search()
    first, last = _date(params, "from", "'From'"), _date(params, "to", "'To'")
    if first and last and first > last:
        raise BadFilter("'From' is after 'To'.")
    tz = practice.tz
    if first:
        search.q &= Q(created_at__gte=datetime.combine(first, time.min, tz))
        search.values["from"] = first.isoformat()
    if last:
        search.q &= Q(created_at__lt=datetime.combine(last + timedelta(days=1), time.min, tz))
        search.values["to"] = last.isoformat()
    user_id = _id(params, "user", "'User'")
    if user_id is not None:
        search.q &= Q(user_id=user_id)
        search.values["user"] = str(user_id)
    action = (params.get("action") or "").strip()
    if action:
        if len(action) > 64 or not ACTION.fullmatch(action):
            raise BadFilter("'Action' is an action name such as conversation.viewed, or a prefix such as "
                            "conversation. for all of them.")
        search.q &= Q(action__startswith=action) if action.endswith(".") else Q(action=action)
        search.values["action"] = action
    object_type = (params.get("object_type") or "").strip()
    object_id = (params.get("object_id") or "").strip()
    if object_id and not object_type:
        raise BadFilter("Give the object type with the object id.")
    if object_type:
        if not OBJECT_TYPE.fullmatch(object_type):
            raise BadFilter("'Object type' is a name such as conversation or patient.")
        search.q &= Q(object_type=object_type)
        search.values["object_type"] = object_type
    if object_id:
        if not OBJECT_ID.fullmatch(object_id):
            raise BadFilter("'Object id' is at most 64 letters, digits and _ * . : @ + -.")
        search.q &= Q(object_id=object_id)
        search.values["object_id"] = object_id
    search.patient_id = _id(params, "patient", "'Patient'")
    if search.patient_id is not None:
        search.q &= Q(patient_id=search.patient_id)
        search.values["patient"] = str(search.patient_id)
    ip = (params.get("ip") or "").strip()
    if ip:
        normal = audit_chain.normal_ip(ip) if len(ip) <= 45 else None
        if normal is None:
            raise BadFilter("'IP address' is an IPv4 or IPv6 address such as 203.0.113.7.")
        search.q &= Q(ip=normal)
        search.values["ip"] = normal
    return search


def _rows(practice_id: int, search: Search):
    return AuditEntry.objects.filter(practice_id=practice_id).filter(search.q)


def _staff(practice_id: int) -> dict[int, str]:
    profiles = AgentProfile.objects.in_practice(practice_id).select_related("user").order_by(
        "user__first_name", "user__last_name", "user__username")
    return {p.user_id: p.display_name for p in profiles}


def _user_name(staff: dict[int, str], user_id: int | None) -> str:
    if user_id is None:
        return "System"
    return staff.get(user_id) or f"User {user_id}"


def _record(request, viewer, action: str, search: Search, **extra) -> AuditEntry:
    # Looking up a patient's trail is about that patient, if they are this
    # practice's (an id of another practice's patient only stays in detail).
    patient_id = search.patient_id
    if patient_id is not None and not Patient.objects.in_practice(viewer.practice_id).filter(pk=patient_id).exists():
        patient_id = None
    return audit.record(user_id=viewer.user_id, practice_id=viewer.practice_id, action=action,
                        obj=("audit_log", viewer.practice_id), via="console", ip=audit.client_ip(request.META),
                        detail={**search.values, **extra}, patient_id=patient_id)


def _link(values: dict[str, str], **paging) -> str:
    return "?" + urlencode({**values, **{k: v for k, v in paging.items() if v is not None}})


def _page(rows, params) -> tuple[list[AuditEntry], bool, bool, dict]:
    """One page, newest first, by chain sequence (keyset: `before` or
    `after` a sequence). Returns the rows and whether older and newer ones exist."""
    before, after = _id(params, "before", "'before'"), _id(params, "after", "'after'")
    if after is not None:
        chunk = list(rows.filter(sequence__gt=after).order_by("sequence")[:PAGE_SIZE + 1])
        page = list(reversed(chunk[:PAGE_SIZE]))
        newer = len(chunk) > PAGE_SIZE
        older = bool(page) and rows.filter(sequence__lt=page[-1].sequence).exists()
    else:
        qs = rows.filter(sequence__lt=before) if before is not None else rows
        chunk = list(qs.order_by("-sequence")[:PAGE_SIZE + 1])
        page = chunk[:PAGE_SIZE]
        older = len(chunk) > PAGE_SIZE
        newer = before is not None and bool(page) and rows.filter(sequence__gt=page[0].sequence).exists()
    return page, older, newer, {"before": before, "after": after}


@login_required
@require_GET
def audit_log(request):
    viewer, refused = guards.practice_admin(request, FORBIDDEN)
    if refused is not None:
        return refused
    practice = Practice.objects.get(pk=viewer.practice_id)
    staff = _staff(practice.pk)
    context = {"viewer": viewer, "practice": practice, "staff": sorted(staff.items(), key=lambda s: s[1]),
               "actions": audit.ACTIONS, "object_types": OBJECT_TYPES, "values": {}, "rows": [], "error": ""}
    try:
        search = parse(practice, request.GET)
        context["values"] = search.values
        page, older, newer, paging = _page(_rows(practice.pk, search), request.GET)
    except BadFilter as bad:
        context["values"] = {name: (request.GET.get(name) or "")[:100] for name in FILTERS}
        context["error"] = str(bad)
        return render(request, "console/audit.html", context, status=400)
    _record(request, viewer, "audit.viewed", search, **{k: v for k, v in paging.items() if v is not None})
    tz = practice.tz
    context.update({
        "rows": [{
            "sequence": row.sequence,
            "when": row.created_at.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S"),
            "when_iso": row.created_at.astimezone(tz).isoformat(),
            "user": _user_name(staff, row.user_id),
            "user_id": row.user_id,
            "action": row.action,
            "object_type": row.object_type,
            "object_id": row.object_id,
            "patient_id": row.patient_id,
            "patient_link": _link({"patient": str(row.patient_id)}) if row.patient_id is not None else "",
            "ip": row.ip or "",
            "via": row.via,
            "detail": json.dumps(row.detail, sort_keys=True, ensure_ascii=False) if row.detail else "",
        } for row in page],
        "older": _link(search.values, before=page[-1].sequence) if older else "",
        "newer": _link(search.values, after=page[0].sequence) if newer else "",
        "newest": _link(search.values) if (paging["before"] is not None or paging["after"] is not None) else "",
        "export": reverse("console:audit_export") + (_link(search.values) if search.values else ""),
        "filtered": bool(search.values),
        "page_size": PAGE_SIZE,
    })
    return render(request, "console/audit.html", context)


def _csv_rows(rows, staff: dict[int, str], tz):
    """Cells as stored, so an auditor can recompute each hash from the file;
    only the staff name (not hashed) is made spreadsheet-safe."""
    for row in rows:
        yield [
            row["sequence"], audit_chain.utc_iso(row["created_at"]),
            row["created_at"].astimezone(tz).isoformat(), row["practice_id"],
            "" if row["user_id"] is None else row["user_id"], csvexport.safe_cell(_user_name(staff, row["user_id"])),
            row["action"], row["object_type"], row["object_id"],
            "" if row["patient_id"] is None else row["patient_id"], row["ip"] or "", row["via"],
            audit_chain.canonical_json(row["detail"]), row["prev_hash"], row["hash"],
        ]


@login_required
@require_GET
def audit_export(request):
    """The current search as CSV, oldest first (chain order), with each row's
    sequence and hashes so an auditor can re-check them (docs/audit.md).
    Streamed: the rows are read in chunks while the response is sent."""
    viewer, refused = guards.practice_admin(request, FORBIDDEN)
    if refused is not None:
        return refused
    practice = Practice.objects.get(pk=viewer.practice_id)
    try:
        search = parse(practice, request.GET)
    except BadFilter as bad:
        return HttpResponseBadRequest(str(bad), content_type="text/plain; charset=utf-8")
    # The export is a snapshot: every matching row written before it, up to
    # its own row (which is the next in the chain and is not included).
    exported = _record(request, viewer, "audit.exported", search)
    columns = ("sequence", "created_at", "practice_id", "user_id", "action", "object_type", "object_id",
               "patient_id", "ip", "via", "detail", "prev_hash", "hash")
    rows = _rows(practice.pk, search).filter(sequence__lt=exported.sequence).order_by("sequence").values(*columns).iterator(chunk_size=EXPORT_CHUNK)
    chunks = csvexport.chunks(CSV_COLUMNS, _csv_rows(rows, _staff(practice.pk), practice.tz))
    stamp = clock.now().astimezone(practice.tz).strftime("%Y%m%d-%H%M%S")
    return csvexport.download(request, chunks, f"{practice.slug}-audit-{stamp}.csv")
