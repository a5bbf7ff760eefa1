"""The knowledge base's pages under /console/kb/: the list (categories,
search, marks), articles, and for supervisors the editor, assignments and
their status. History and differences between versions are open to all
staff. Views decode, call one action, and render (docs/knowledge.md)."""

from __future__ import annotations

from functools import wraps
from itertools import groupby

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponseForbidden
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from console import guards
from hub.actions.errors import ActionError, NotFound
from hub.knowledge import actions, diff, markup
from hub.knowledge.forms import ArticleForm, AssignForm
from hub.knowledge.models import Article, Category
from hub.knowledge.search import search_articles
from hub.lib import access, audit

SEARCH_RESULTS = 50


def staff_page(view):
    """Staff of a practice only, times in the practice's time zone;
    NotFound answers 404, NotAllowed 403."""

    @login_required
    @wraps(view)
    def page(request, *args, **kwargs):
        viewer = access.viewer_for(request.user)
        if viewer is None:
            return guards.no_profile()
        try:
            with timezone.override(actions.practice_zone(viewer.practice_id)):
                return view(request, viewer, *args, **kwargs)
        except NotFound as exc:
            raise Http404(exc.message) from None
        except actions.NotAllowed as exc:
            return HttpResponseForbidden(exc.message, content_type="text/plain; charset=utf-8")

    return page


def _who(request) -> dict:
    return {"via": "console", "ip": audit.client_ip(request.META)}


@require_GET
@staff_page
def index(request, viewer):
    query = request.GET.get("q", "").strip()[:200]
    category = request.GET.get("category", "")
    articles = Article.objects.in_practice(viewer.practice_id).select_related("updated_by").order_by("title", "pk")
    if category in Category.values:
        articles = articles.filter(category=category)
    articles = list(articles)
    marks = actions.marks_for(viewer, articles)
    context = {"viewer": viewer, "query": query, "category": category, "categories": Category.choices,
               "mine": actions.assignments_for(viewer.practice_id, assignee_id=viewer.user_id, open_only=True)}
    if query:
        by_id = {a.pk: a for a in articles}
        hits = [hit for hit in search_articles(viewer.practice_id, query, limit=SEARCH_RESULTS) if hit.id in by_id]
        context["hits"] = [(hit, marks[hit.id]) for hit in hits]
    else:
        ordered = sorted(articles, key=lambda a: (Category.values.index(a.category), a.title.casefold()))
        context["groups"] = [(Category(key).label, [(a, marks[a.pk]) for a in group])
                             for key, group in groupby(ordered, key=lambda a: a.category)]
    return render(request, "knowledge/index.html", context)


@require_GET
@staff_page
def article(request, viewer, slug: str):
    found = actions.get_article(viewer, slug=slug)
    read_before = actions.open_article(viewer, found)
    mine = actions.assignments_for(viewer.practice_id, article_id=found.pk, assignee_id=viewer.user_id,
                                   open_only=True)
    context = {"viewer": viewer, "article": found, "blocks": markup.render(found.body),
               "topics": found.topics.all(), "read_before": read_before, "my_assignment": mine[0] if mine else None}
    if viewer.may_supervise:
        context["assign_form"] = AssignForm(practice_id=viewer.practice_id)
        context["assignments"] = actions.assignments_for(viewer.practice_id, article_id=found.pk)
    return render(request, "knowledge/article.html", context)


@require_POST
@staff_page
def mark_read(request, viewer, slug: str):
    found = actions.get_article(viewer, slug=slug)
    try:
        version = int(request.POST.get("version", ""))
        completed = actions.mark_read(viewer, found.pk, version, **_who(request))
    except ValueError:
        messages.error(request, "The form was incomplete: open the article again.")
    except actions.NotAllowed:
        raise
    except ActionError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "Marked as read. Assignment completed." if completed else "Marked as read.")
    return redirect("knowledge:article", slug=found.slug)


@require_POST
@staff_page
def assign(request, viewer, slug: str):
    found = actions.get_article(viewer, slug=slug)
    actions.require_supervisor(viewer)
    form = AssignForm(request.POST, practice_id=viewer.practice_id)
    if not form.is_valid():
        messages.error(request, "Choose who to assign the article to (and a valid due date, if any).")
        return redirect("knowledge:article", slug=found.slug)
    try:
        assigned = actions.assign_article(viewer, found.pk, form.cleaned_data["assignees"], form.cleaned_data["due"],
                                          **_who(request))
    except ActionError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"Assigned to {len(assigned)} {'person' if len(assigned) == 1 else 'people'}.")
    return redirect("knowledge:article", slug=found.slug)


@require_http_methods(["GET", "POST"])
@staff_page
def create(request, viewer):
    actions.require_supervisor(viewer)
    return _editor(request, viewer, None)


@require_http_methods(["GET", "POST"])
@staff_page
def edit(request, viewer, slug: str):
    actions.require_supervisor(viewer)
    return _editor(request, viewer, actions.get_article(viewer, slug=slug))


def _editor(request, viewer, found: Article | None):
    if request.method == "GET":
        initial = {"category": Category.GENERAL}
        if found is not None:
            initial = {"title": found.title, "category": found.category, "body": found.body,
                       "topics": list(found.topics.values_list("pk", flat=True)), "base_version": found.version}
        form = ArticleForm(initial=initial, practice_id=viewer.practice_id)
        return _editor_page(request, viewer, found, form)
    form = ArticleForm(request.POST, practice_id=viewer.practice_id)
    if not form.is_valid():
        return _editor_page(request, viewer, found, form, status=400)
    try:
        saved = actions.save_article(viewer, found.pk if found else None, form.draft(),
                                     base_version=form.cleaned_data["base_version"] if found else None, **_who(request))
    except ActionError as exc:
        form.add_error(None, exc.message)
        return _editor_page(request, viewer, found, form, status=exc.status)
    messages.success(request, f"Saved version {saved.version}.")
    return redirect("knowledge:article", slug=saved.slug)


def _editor_page(request, viewer, found, form, status=200):
    return render(request, "knowledge/edit.html", {"viewer": viewer, "article": found, "form": form}, status=status)


@require_GET
@staff_page
def history(request, viewer, slug: str):
    found = actions.get_article(viewer, slug=slug)
    versions = found.versions.select_related("author").order_by("-number")
    return render(request, "knowledge/history.html", {"viewer": viewer, "article": found, "versions": versions})


@require_GET
@staff_page
def version(request, viewer, slug: str, number: int):
    """One version as it read, and what changed from the one before (or
    since the version given as ?since=, e.g. the one the reader last read)."""
    found = actions.get_article(viewer, slug=slug)
    shown = actions.get_version(found, number)
    since = request.GET.get("since", "")
    base_number = int(since) if since.isascii() and since.isdigit() and 0 < int(since) < number else number - 1
    base = found.versions.filter(number=base_number).first()
    return render(request, "knowledge/version.html", {
        "viewer": viewer, "article": found, "shown": shown, "base": base, "blocks": markup.render(shown.body),
        "changes": diff.diff(base, shown) if base else [],
    })


@require_GET
@staff_page
def assignments(request, viewer):
    actions.require_supervisor(viewer)
    return render(request, "knowledge/assignments.html",
                  {"viewer": viewer, "assignments": actions.assignments_for(viewer.practice_id)})
