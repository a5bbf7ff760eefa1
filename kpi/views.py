"""The KPI pages for supervisors and practice admins: the historical
dashboard (/kpi/), its CSV exports (/kpi/export/<table>.csv) and the
wallboard (/kpi/wallboard/). Every number comes from kpi.tables,
kpi.metrics and kpi.live; this module only picks and arranges them."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse, HttpResponseBadRequest, HttpResponseNotFound
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET

from hub.lib import access, audit, clock, csvexport
from hub.models import AgentProfile, Department, Practice, Topic
from kpi import display, live, metrics, tables
from kpi.tables import BadScope

FILTERS = ("from", "to", "department", "channel", "agent", "topic")
PING_SECONDS = 10
CSV_CHUNK_ROWS = 500
FORBIDDEN = "The KPI dashboard and wallboard are for supervisors and practice admins."
NO_PROFILE = "This account is not a staff member of any practice. Ask a practice admin to add you."


def _kpi_viewer(request, *, plain: bool = False):
    """(viewer, None) for a supervisor or admin; (None, a 403) for anyone else."""
    viewer = access.viewer_for(request.user)
    if viewer is not None and viewer.may_supervise:
        return viewer, None
    message = NO_PROFILE if viewer is None else FORBIDDEN
    if plain:
        return None, HttpResponse(message, status=403, content_type="text/plain; charset=utf-8")
    return None, render(request, "kpi/forbidden.html", {"message": message, "viewer": viewer}, status=403)


def _scope(practice: Practice, params) -> metrics.Scope:
    return tables.parse_scope(practice, params)


def _first_last(scope: metrics.Scope):
    return scope.start.date(), (scope.end - timedelta(days=1)).date()


def _choices(practice: Practice) -> dict:
    staff = (AgentProfile.objects.in_practice(practice.pk).exclude(role=AgentProfile.Role.INTEGRATION)
             .select_related("user"))
    return {
        "departments": list(Department.objects.in_practice(practice.pk).values_list("pk", "name")),
        "topics": list(Topic.objects.in_practice(practice.pk).values_list("pk", "name")),
        "agents": sorted(((p.user_id, p.display_name) for p in staff), key=lambda a: a[1].lower()),
        "channels": list(display.CHANNEL_LABELS.items()),
    }


def _ranges(practice: Practice, filters: dict) -> list[tuple[str, str]]:
    """Quick date ranges, keeping the other filters."""
    today = clock.now().astimezone(practice.tz).date()
    spans = (("Today", 0), ("Last 7 days", 6), ("Last 30 days", 29), ("Last 90 days", 89))
    others = {k: v for k, v in filters.items() if k not in ("from", "to")}
    return [(name, urlencode({"from": (today - timedelta(days=back)).isoformat(), "to": today.isoformat(),
                              **others})) for name, back in spans]


# --- the dashboard --------------------------------------------------------------------


@login_required
@require_GET
def dashboard(request):
    viewer, refused = _kpi_viewer(request)
    if refused is not None:
        return refused
    practice = Practice.objects.get(pk=viewer.practice_id)
    context = {"viewer": viewer, "practice": practice, "choices": _choices(practice)}
    try:
        scope = _scope(practice, request.GET)
    except BadScope as exc:
        context["error"] = str(exc)
        context["form"] = {k: request.GET.get(k, "")[:40] for k in FILTERS}
        context["ranges"] = _ranges(practice, {})
        return render(request, "kpi/dashboard.html", context, status=400)
    query = tables.scope_query(scope)
    context["form"] = {k: query.get(k, "") for k in FILTERS}
    context["ranges"] = _ranges(practice, query)
    context.update(_dashboard_data(scope, urlencode(query)))
    return render(request, "kpi/dashboard.html", context)


def _card(key, title, value, detail="", status=""):
    return {"key": key, "title": title, "value": value, "detail": detail, "status": status}


def _cards(summary: dict, target: float) -> list[dict]:
    sl = summary["service_level"]
    if sl is None:
        sl_status, sl_word = "", "No answered or abandoned contacts"
    elif sl >= target:
        sl_status, sl_word = "good", "On target"
    elif sl >= target - 0.1:
        sl_status, sl_word = "warn", "Below target"
    else:
        sl_status, sl_word = "bad", "Well below target"
    p, d, n = display.percent, display.duration, display.number
    return [
        _card("service_level", "Service level", p(sl),
              f"{sl_word} · target {p(target)} · {n(summary['service_level_base'])} counted", sl_status),
        _card("average_speed_of_answer", "Avg speed of answer", d(summary["average_speed_of_answer"]),
              f"{n(summary['answered'])} answered"),
        _card("average_wait", "Avg wait", d(summary["average_wait"]), "answered, abandoned or sent to voicemail"),
        _card("abandonment_rate", "Abandonment", p(summary["abandonment_rate"]),
              f"{n(summary['abandoned'])} abandoned · {n(summary['short_abandoned'])} short abandons not counted"),
        _card("first_contact_resolution", "First-contact resolution", p(summary["first_contact_resolution"]),
              f"of {n(summary['fcr_base'])} resolved conversations past the window"),
        _card("transfer_rate", "Transfer rate", p(summary["transfer_rate"]),
              f"{n(summary['transferred'])} of {n(summary['conversations'])} conversations"),
        _card("first_response_time", "First response", d(summary["first_response_time"]),
              f"median {d(summary['median_first_response_time'])}"),
        _card("average_reply_time", "Avg reply time", d(summary["average_reply_time"]), "each patient wait"),
        _card("resolution_time", "Resolution time", d(summary["resolution_time"]),
              f"{n(summary['resolved'])} resolved"),
        _card("sla_compliance", "SLA compliance", p(summary["sla_compliance"]),
              f"{n(summary['sla_met'])} met · {n(summary['sla_breached'])} breached"),
        _card("contacts", "Volume", n(summary["contacts"]),
              f"contacts · {n(summary['conversations'])} conversations"),
    ]


def _dashboard_data(scope: metrics.Scope, query: str) -> dict:
    target = settings.KPI["service_level_target"]
    build = tables.TABLES
    summary = metrics.summary(scope)

    volume = build["volume"](scope)
    service = build["service-level"](scope)
    abandonment = build["abandonment-by-hour"](scope)
    waits = build["wait-distribution"](scope)
    staffing = build["staffing"](scope)
    days = [row[0] for row in volume.rows]
    charts = {
        "volume": display.volume_chart(volume),
        "wait": display.wait_chart(waits),
        "service_level": display.service_level_chart(service, days, target),
        "abandonment": display.abandonment_chart(abandonment),
        "staffing": display.staffing_chart(staffing),
    }
    figures = [
        {"id": "volume", "title": "Contacts per day, by channel", "table": display.display_table(volume)},
        {"id": "wait", "title": "How long answered contacts waited", "table": display.display_table(waits)},
        {"id": "service_level", "title": f"Service level per day (target {display.percent(target)})",
         "table": display.display_table(service)},
        {"id": "abandonment", "title": "Abandonment by hour of day", "table": display.display_table(abandonment)},
    ]
    for figure in figures:
        figure["summary"] = charts[figure["id"]]["summary"]
    staffing_figure = {"id": "staffing", "title": f"{staffing.title}: agents needed and scheduled per hour",
                       "table": display.display_table(staffing), "summary": charts["staffing"]["summary"]}

    breakdown = {"hide": display.HIDDEN_IN_BREAKDOWNS, "abbreviate": True}
    grouped = [
        display.display_table(display.channel_names(build["by-channel"](scope)), first_column_label="Channel",
                              **breakdown),
        display.display_table(build["by-department"](scope), first_column_label="Department", **breakdown),
        display.display_table(build["by-topic"](scope), first_column_label="Topic", **breakdown),
        display.display_table(build["by-agent"](scope), first_column_label="Agent", **breakdown),
    ]
    agents = display.display_table(build["agents"](scope), first_column_label="Agent", abbreviate=True,
                                   caption="Time in each status is over the range up to now.")
    topics, coaching = tables.training(scope)
    base = _practice_rates(topics, coaching)
    training = [display.training_table(topics, base), display.training_table(coaching, base)]
    for t in training:
        if not t.rows:
            t.caption = (f"Topics and agents with at least {settings.KPI['training_minimum']} conversations in the "
                         "range are ranked here.")

    first, last = _first_last(scope)
    return {
        "scope": scope, "first": first, "last": last, "query": query,
        "cards": _cards(summary, target),
        "target": target,
        "figures": figures, "staffing": staffing_figure,
        "grouped": grouped, "agents": agents, "training": training,
        "exports": [(name, display.TABLE_LABELS.get(name, name)) for name in build],
        "boot": {"charts": charts, "target": target},
    }


def _practice_rates(*ranked) -> dict:
    """The practice averages the training tables compare against (each row
    carries them)."""
    for table in ranked:
        rows = list(table.rows)
        if rows:
            col = {c: i for i, c in enumerate(table.columns)}
            return {"transfer_rate": rows[0][col["practice_transfer_rate"]],
                    "first_contact_resolution": rows[0][col["practice_first_contact_resolution"]]}
    return {"transfer_rate": None, "first_contact_resolution": None}


# --- CSV ------------------------------------------------------------------------------------


@login_required
@require_GET
def export(request, table: str):
    viewer, refused = _kpi_viewer(request, plain=True)
    if refused is not None:
        return refused
    build = tables.TABLES.get(table)
    if build is None:
        return HttpResponseNotFound(f"No such table. Tables: {', '.join(tables.TABLES)}.",
                                    content_type="text/plain; charset=utf-8")
    practice = Practice.objects.get(pk=viewer.practice_id)
    try:
        scope = _scope(practice, request.GET)
    except BadScope as exc:
        return HttpResponseBadRequest(str(exc), content_type="text/plain; charset=utf-8")
    result = build(scope)
    first, last = _first_last(scope)
    filename = f"{practice.slug}-{table}-{first.isoformat()}-to-{last.isoformat()}.csv"
    chunks = csvexport.chunks(result.columns, ([csvexport.safe_cell(v) for v in row] for row in result.rows),
                              every=CSV_CHUNK_ROWS)
    if table in tables.ROW_TABLES:
        audit.record(user_id=viewer.user_id, practice_id=viewer.practice_id, action="kpi.exported",
                     obj=("kpi_table", table), via="dashboard", ip=audit.client_ip(request.META),
                     detail=tables.scope_query(scope))
    return csvexport.download(request, chunks, filename, stream=table in tables.ROW_TABLES)


# --- the wallboard -------------------------------------------------------------------------


@login_required
@require_GET
def wallboard(request):
    viewer, refused = _kpi_viewer(request)
    if refused is not None:
        return refused
    boot = {
        "snapshot": live.snapshot(viewer.practice_id),
        "socket": "/ws/wallboard/",
        "ping_seconds": PING_SECONDS,
        "login": reverse("console:login") + "?" + urlencode({"next": reverse("kpi:wallboard")}),
    }
    presence = [(state, display.PRESENCE_LABELS.get(state, state)) for state in live.PRESENCE_ORDER]
    return render(request, "kpi/wallboard.html", {"viewer": viewer, "boot": boot, "presence": presence,
                                                  "practice_name": boot["snapshot"]["practice"]})
