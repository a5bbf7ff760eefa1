"""/console/qa/: quality reviews (docs/qa.md). Agents read the reviews of
their conversations and acknowledge them; supervisors and practice admins
pick resolved conversations, review them against the rubric, edit the
rubric, and follow trends and training signals. Views decode, call one
action or query, and render."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import Http404, HttpResponseForbidden
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from console import guards
from hub.actions.errors import ActionError, NotFound
from hub.lib import access, audit, directory
from hub.lib.event_types import event_out
from hub.models import AgentProfile, Conversation, Department, Practice, Topic
from hub.qa import actions, coaching, queries, trends
from hub.qa.forms import CriteriaFormSet, ReviewForm, RubricForm, criteria_of
from hub.qa.models import Review, Rubric
from hub.qa.rubrics import active_rubric
from kpi import display, tables

FORBIDDEN = "Quality reviews, trends and training signals are for supervisors and practice admins."
PAGE_SIZE = 50
RECENT = 30
MY_REVIEWS = 100  # the latest shown to an agent
CHANNELS = list(display.CHANNEL_LABELS.items())
DISPOSITIONS = {"resolved": "Resolved", "follow_up": "Resolved, follow-up needed"}
PURGED = "removed under the practice's retention policy"


# --- who may look ------------------------------------------------------------------------


def _staff(request):
    viewer = access.viewer_for(request.user)
    return (viewer, None) if viewer is not None else (None, guards.no_profile())


def _supervisor(request):
    viewer, refused = _staff(request)
    if refused is None and not viewer.may_supervise:
        refused = HttpResponseForbidden(FORBIDDEN, content_type="text/plain; charset=utf-8")
    return viewer, refused


def _who(request) -> dict:
    return {"via": "console", "ip": audit.client_ip(request.META)}


def _problem(request, viewer, exc: ActionError):
    if isinstance(exc, NotFound):
        raise Http404(exc.message)
    return render(request, "qa/problem.html", {"viewer": viewer, "practice": _practice(viewer), "message": exc.message},
                  status=exc.status)


def _practice(viewer) -> Practice:
    return Practice.objects.get(pk=viewer.practice_id)


def _choices(practice_id: int) -> dict:
    staff = (AgentProfile.objects.in_practice(practice_id).exclude(role=AgentProfile.Role.INTEGRATION)
             .select_related("user"))
    return {
        "departments": list(Department.objects.in_practice(practice_id).values_list("pk", "name")),
        "topics": list(Topic.objects.in_practice(practice_id).values_list("pk", "name")),
        "agents": sorted(((p.user_id, p.display_name) for p in staff), key=lambda a: a[1].casefold()),
        "channels": CHANNELS,
    }


def _filter_page(request, viewer, template: str, context: dict, bad: Exception):
    """A filtered page whose filters cannot be read: the form as entered and why."""
    context.update({"viewer": viewer, "error": str(bad), "choices": _choices(viewer.practice_id),
                    "form": {k: (request.GET.get(k) or "")[:40] for k in (*queries.FILTERS, "reviewed")}})
    return render(request, template, context, status=400)


# --- reviews as the pages show them --------------------------------------------------------------


def _review_view(review: Review, viewer) -> dict:
    practice_id = review.practice_id
    return {
        "review": review,
        "criteria": [{"label": c["label"], "description": c["description"], "max": c["max"],
                      "score": review.scores.get(c["key"])} for c in review.rubric.criteria],
        "reviewer": directory.staff_name(practice_id, review.reviewer_id) or "A former supervisor",
        "agent": directory.staff_name(practice_id, review.agent_id) or "A former staff member",
        "edited": review.updated_at != review.created_at,
        "about_me": review.agent_id == viewer.user_id,
    }


@login_required
@require_GET
def index(request):
    """Everyone: the reviews of their own conversations. Supervisors: also
    the practice's latest reviews and the way to the other pages."""
    viewer, refused = _staff(request)
    if refused is not None:
        return refused
    reviews = Review.objects.in_practice(viewer.practice_id).select_related("rubric")
    about_me = reviews.filter(agent_id=viewer.user_id)
    mine = [_review_view(r, viewer) for r in about_me.order_by("-created_at", "-pk")[:MY_REVIEWS]]
    context = {"viewer": viewer, "practice": _practice(viewer), "mine": mine, "shown": MY_REVIEWS,
               "total": about_me.count() if len(mine) == MY_REVIEWS else len(mine),
               "unread": about_me.filter(acknowledged_at__isnull=True).count()}
    if viewer.may_supervise:
        context["recent"] = [_review_view(r, viewer) for r in reviews.order_by("-updated_at", "-pk")[:RECENT]]
    return render(request, "qa/index.html", context)


@login_required
@require_POST
def acknowledge(request, review_id: int):
    viewer, refused = _staff(request)
    if refused is not None:
        return refused
    try:
        actions.acknowledge(viewer, review_id, **_who(request))
    except ActionError as exc:
        return _problem(request, viewer, exc)
    messages.success(request, "Review acknowledged. Your supervisor can see that you have read it.")
    return redirect("qa:index")


# --- picking conversations -------------------------------------------------------------------


def _conversation_rows(viewer, conversations: list[Conversation]) -> list[dict]:
    reviews = queries.reviews_by_conversation(viewer.practice_id, [c.pk for c in conversations])
    pid = viewer.practice_id
    return [{
        "conversation": c,
        "reviewed_by_me": any(r.reviewer_id == viewer.user_id for r in reviews.get(c.pk, [])),
        "channel": display.CHANNEL_LABELS.get(c.channel, c.channel),
        "department": directory.department_name(pid, c.department_id),
        "topic": directory.topic_name(pid, c.topic_id) or "",
        "agent": directory.staff_name(pid, c.assignee_id) or "",
        "own": c.assignee_id == viewer.user_id,
        "reviews": [{"by": directory.staff_name(pid, r.reviewer_id) or "A former supervisor", "percent": r.percent}
                    for r in reviews.get(c.pk, [])],
    } for c in conversations]


@login_required
@require_GET
def conversations(request):
    """Resolved conversations to review: filtered, paged, or a random sample
    of those nobody has reviewed."""
    viewer, refused = _supervisor(request)
    if refused is not None:
        return refused
    practice = _practice(viewer)
    try:
        scope = queries.scope_of(practice, request.GET, days=30)
        pick = queries.parse_pick(request.GET)
    except queries.BadFilter as bad:
        return _filter_page(request, viewer, "qa/conversations.html", {"practice": practice}, bad)
    qs = queries.resolved_conversations(viewer, scope, pick)
    params = tables.scope_query(scope)
    if pick.reviewed:
        params["reviewed"] = pick.reviewed
    page = None
    if pick.sample:
        chosen = queries.sample(qs, pick.sample)
        rows = list(Conversation.objects.in_practice(viewer.practice_id).filter(pk__in=chosen)
                    .order_by("-resolved_at", "-pk"))
    else:
        page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
        rows = list(page.object_list)
    context = {
        "viewer": viewer, "practice": practice, "choices": _choices(viewer.practice_id),
        "form": {**{k: "" for k in queries.FILTERS}, **params}, "sample": pick.sample,
        "rows": _conversation_rows(viewer, rows), "page": page, "query": urlencode(params),
        "sample_max": queries.SAMPLE_MAX,
    }
    return render(request, "qa/conversations.html", context)


# --- the review page ----------------------------------------------------------------------------


def _side(e) -> str:
    if e.kind == "note":
        return "note"
    if e.kind in ("assignment", "transfer", "status", "system") or e.direction == "internal":
        return "internal"
    return "in" if e.direction == "in" else "out"


def _attachment(a: dict) -> dict:
    name = a.get("filename") or ("Recording" if (a.get("content_type") or "").startswith("audio/") else "Attachment")
    stored = a.get("status") == "stored"
    return {"name": name, "url": reverse("console:attachment", args=[a["id"]]) if stored and a.get("id") else "",
            "note": f"{name} {PURGED}" if a.get("status") == "purged" else ("" if stored else f"{name} not received")}


def _timeline(conversation: Conversation, events: list) -> list[dict]:
    patient = conversation.patient.display_name
    items = []
    for event in events:
        out = event_out(event)
        side = _side(out)
        if side == "in":
            who = patient
        else:
            who = out.author_name or ("Automatic reply" if (out.data or {}).get("automatic") else "The practice")
        body = out.body
        if out.purged and not body:
            body = f"{'Note' if out.kind == 'note' else 'Message'} {PURGED}"
        items.append({"event": out, "side": side, "who": who, "body": body,
                      "call": out.kind == "call", "voicemail": (out.data or {}).get("phase") == "voicemail",
                      "channel": display.CHANNEL_LABELS.get(out.channel, ""),
                      "attachments": [_attachment(a) for a in (out.data or {}).get("attachments", [])]})
    return items


def _review_page(request, viewer, conversation, events, more, form, mine, status=200):
    pid = viewer.practice_id
    others = (Review.objects.in_practice(pid).filter(conversation=conversation).exclude(reviewer_id=viewer.user_id)
              .select_related("rubric").order_by("created_at", "pk"))
    context = {
        "viewer": viewer, "practice": _practice(viewer), "conversation": conversation,
        "timeline": _timeline(conversation, events), "more": more,
        "facts": {
            "patient": conversation.patient.display_name,
            "channel": display.CHANNEL_LABELS.get(conversation.channel, conversation.channel),
            "department": directory.department_name(pid, conversation.department_id),
            "topic": directory.topic_name(pid, conversation.topic_id) or "No topic",
            "agent": directory.staff_name(pid, conversation.assignee_id) or "Nobody",
            "outcome": DISPOSITIONS.get(conversation.disposition, conversation.disposition or "Resolved"),
        },
        "own": conversation.assignee_id == viewer.user_id,
        "form": form, "mine": _review_view(mine, viewer) if mine else None,
        "others": [_review_view(r, viewer) for r in others],
    }
    return render(request, "qa/review.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def review(request, conversation_id: int):
    """A resolved conversation's timeline and the reviewer's scores: a new
    review, or the one they wrote, to change."""
    viewer, refused = _supervisor(request)
    if refused is not None:
        return refused
    mine = (Review.objects.in_practice(viewer.practice_id).select_related("rubric")
            .filter(conversation_id=conversation_id, reviewer_id=viewer.user_id).first())
    rubric = mine.rubric if mine else active_rubric(viewer.practice_id)
    status = 200
    if request.method == "POST":
        form = ReviewForm(rubric, request.POST)
        if form.is_valid():
            try:
                if mine:
                    actions.update_review(viewer, mine.pk, scores=form.scores(),
                                          comments=form.cleaned_data["comments"], **_who(request))
                else:
                    actions.create_review(viewer, conversation_id, scores=form.scores(),
                                          comments=form.cleaned_data["comments"], **_who(request))
            except NotFound:
                raise Http404("No such conversation.") from None
            except ActionError as exc:
                form.add_error(None, exc.message)
            else:
                messages.success(request, "Review saved. The agent sees it under My reviews.")
                return redirect("qa:review", conversation_id=conversation_id)
        status = 400
    else:
        form = ReviewForm(rubric, initial=ReviewForm.initial_from(mine.scores, mine.comments) if mine else None)
    try:
        conversation, events, more = actions.open_for_review(viewer, conversation_id, **_who(request))
    except ActionError as exc:
        return _problem(request, viewer, exc)
    return _review_page(request, viewer, conversation, events, more, form, mine, status)


# --- trends -------------------------------------------------------------------------------------


def _trend_chart(result: trends.Trends) -> dict:
    labels = [w.isoformat() for w in result.weeks]
    datasets = [{"label": a.name, "data": [w.average_percent for w in a.weeks]} for a in result.agents]
    reviewed = sum(a.reviews for a in result.agents)
    summary = (f"{reviewed} review{'s' if reviewed != 1 else ''} of {len(result.agents)} "
               f"agent{'s' if len(result.agents) != 1 else ''} over {len(labels)} weeks." if reviewed
               else "No reviews in this range.")
    return {"labels": labels, "datasets": datasets, "summary": summary}


@login_required
@require_GET
def trend_page(request):
    viewer, refused = _supervisor(request)
    if refused is not None:
        return refused
    practice = _practice(viewer)
    try:
        scope = queries.scope_of(practice, request.GET, days=84)
    except queries.BadFilter as bad:
        return _filter_page(request, viewer, "qa/trends.html", {"practice": practice}, bad)
    result = trends.trends(scope)
    chart = _trend_chart(result)
    context = {"viewer": viewer, "practice": practice, "choices": _choices(viewer.practice_id),
               "form": {**{k: "" for k in queries.FILTERS}, **tables.scope_query(scope)},
               "trends": result, "chart": chart, "boot": {"chart": chart}}
    return render(request, "qa/trends.html", context)


# --- training signals -----------------------------------------------------------------------------


@login_required
@require_GET
def signal_page(request):
    viewer, refused = _supervisor(request)
    if refused is not None:
        return refused
    practice = _practice(viewer)
    progress = coaching.progress(viewer.practice_id)
    try:
        scope = queries.scope_of(practice, request.GET, days=30)
    except queries.BadFilter as bad:
        return _filter_page(request, viewer, "qa/signals.html", {"practice": practice, "progress": progress}, bad)
    params = tables.scope_query(scope)
    found = coaching.signals(scope)
    rates = {name: display.percent(value) for name, value in found.practice.items()}
    context = {"viewer": viewer, "practice": practice, "choices": _choices(viewer.practice_id),
               "form": {**{k: "" for k in queries.FILTERS}, **params}, "query": params,
               "signals": found, "rates": rates, "progress": progress}
    return render(request, "qa/signals.html", context)


@login_required
@require_POST
def assign(request):
    """Assign the articles and scenarios ticked on a training signal to the
    people chosen, then back to the same signals."""
    viewer, refused = _supervisor(request)
    if refused is not None:
        return refused
    practice = _practice(viewer)
    try:
        back = tables.scope_query(queries.scope_of(practice, request.POST, days=30))
    except queries.BadFilter:
        back = {}
    try:
        done = coaching.assign(viewer, items=request.POST.getlist("item"), user_ids=request.POST.getlist("user"),
                               due=request.POST.get("due") or "")
    except ActionError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, done)
    return redirect(reverse("qa:signals") + "?" + urlencode(back))


# --- the rubric -----------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def rubric_page(request):
    viewer, refused = _supervisor(request)
    if refused is not None:
        return refused
    rubric = active_rubric(viewer.practice_id)
    status = 200
    if request.method == "POST":
        form = RubricForm(request.POST)
        formset = CriteriaFormSet(request.POST, initial=rubric.criteria, prefix="criteria")
        if form.is_valid() and formset.is_valid():
            try:
                rubric, changed = actions.change_rubric(viewer, name=form.cleaned_data["name"],
                                                        criteria=criteria_of(formset), **_who(request))
            except ActionError as exc:
                form.add_error(None, exc.message)
            else:
                messages.success(request, "Rubric saved. New reviews use it; earlier reviews keep the rubric they "
                                          "were scored with." if changed else "The rubric is unchanged.")
                return redirect("qa:rubric")
        status = 400
    else:
        form = RubricForm(initial={"name": rubric.name})
        formset = CriteriaFormSet(initial=rubric.criteria, prefix="criteria")
    versions = (Rubric.objects.filter(practice_id=viewer.practice_id).annotate(review_count=Count("reviews"))
                .order_by("-created_at", "-pk")[:10])
    context = {"viewer": viewer, "practice": _practice(viewer), "rubric": rubric, "form": form, "formset": formset,
               "versions": versions}
    return render(request, "qa/rubric.html", context, status=status)

