"""/api/v1/ endpoints of the knowledge base: search, suggestions for a
conversation, reading an article (with its snippets) and assignments.
Views decode, call one action in hub.knowledge, and answer."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from django.urls import reverse
from django.utils.html import escape
from ninja import Query, Router, Schema, Status
from pydantic import Field, StringConstraints

from hub.api.requests import viewer as _viewer, who as _who
from hub.api.schemas import DB_INT_MAX, ErrorOut, Id
from hub.knowledge import actions, markup
from hub.knowledge.models import Article, Category
from hub.knowledge.search import ArticleHit, search_articles, suggest_for_conversation
from hub.lib import access

router = Router(tags=["knowledge"])

ERRORS = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut}

SearchText = Annotated[str, StringConstraints(max_length=200, pattern=r"^[^\x00]*$")]
Version = Annotated[int, Field(ge=1, le=DB_INT_MAX)]


class SearchIn(Schema):
    q: SearchText
    limit: int = Field(10, ge=1, le=50)


class SnippetOut(Schema):
    label: str
    text: str


class HitOut(Schema):
    id: int
    slug: str
    title: str
    category: str
    category_label: str
    snippet: str = Field(description="An excerpt of the article around the words searched for.")
    url: str
    mark: str = Field(description='"new" (never opened), "changed" (changed since you read it) or "".')
    assigned: bool
    due: date | None
    snippets: list[SnippetOut] = Field(description="The article's snippet blocks, to insert into a reply.")


class ArticleTopicOut(Schema):
    id: int
    name: str


class ArticleOut(Schema):
    id: int
    slug: str
    title: str
    category: str
    category_label: str
    version: int
    body: str = Field(description="Markdown.")
    html: str = Field(description="The body rendered and sanitized (snippet blocks as preformatted text).")
    snippets: list[SnippetOut]
    topics: list[ArticleTopicOut]
    updated_at: datetime
    updated_by: str
    url: str
    read_version_before: int | None = Field(description="The version you had read before this request (null: never).")
    assigned: bool
    due: date | None


class ReadIn(Schema):
    version: Version


class ReadOut(Schema):
    article_id: int
    version: int
    completed_assignments: int


class ArticleAssignIn(Schema):
    article_id: Id
    user_ids: list[Id] = Field(min_length=1, max_length=actions.MAX_ASSIGNEES)
    due: date | None = None


class ArticleAssignmentQuery(Schema):
    article_id: Id | None = None




def _snippets(body: str) -> list[dict]:
    return [{"label": s.label, "text": s.text} for s in markup.snippets(body)]


def _hits_out(viewer: access.Viewer, hits: list[ArticleHit]) -> list[dict]:
    """Hits with the viewer's marks and each article's snippets."""
    articles = {a.pk: a for a in Article.objects.in_practice(viewer.practice_id)
                .filter(pk__in=[hit.id for hit in hits]).only("pk", "version", "body")}
    marks = actions.marks_for(viewer, articles.values())
    return [{**vars(hit), "category_label": Category(hit.category).label, "mark": marks[hit.id].read,
             "assigned": marks[hit.id].assigned, "due": marks[hit.id].due,
             "snippets": _snippets(articles[hit.id].body)} for hit in hits if hit.id in articles]


@router.get("/kb/search", response={200: list[HitOut], **ERRORS})
def search(request, query: Query[SearchIn]):
    """Articles matching a search, best first (docs/knowledge.md)."""
    viewer = _viewer(request)
    return _hits_out(viewer, search_articles(viewer.practice_id, query.q, limit=query.limit))


@router.get("/conversations/{conversation_id}/kb-suggestions", response={200: list[HitOut], **ERRORS})
def suggestions(request, conversation_id: int):
    """Articles for a conversation: related to its topic, then matching the
    patient's recent messages."""
    viewer = _viewer(request)
    conversation = access.get_conversation(viewer, conversation_id)
    return _hits_out(viewer, suggest_for_conversation(viewer, conversation))


@router.get("/kb/articles/{article_id}", response={200: ArticleOut, **ERRORS})
def read_article(request, article_id: int):
    """An article with its snippets. Opening it records that you read its
    latest version (the "changed since you read it" marks)."""
    viewer = _viewer(request)
    article = actions.get_article(viewer, article_id=article_id)
    before = actions.open_article(viewer, article)
    mark = actions.marks_for(viewer, [article])[article.pk]
    html = "".join(block.html or f"<pre>{escape(block.snippet.text)}</pre>" for block in markup.render(article.body))
    return {
        "id": article.pk, "slug": article.slug, "title": article.title, "category": article.category,
        "category_label": article.get_category_display(), "version": article.version, "body": article.body,
        "html": html, "snippets": _snippets(article.body),
        "topics": [{"id": t.pk, "name": t.name} for t in article.topics.all()],
        "updated_at": article.updated_at,
        "updated_by": actions.display_name(article.updated_by) if article.updated_by else "",
        "url": reverse("knowledge:article", args=[article.slug]), "read_version_before": before,
        "assigned": mark.assigned, "due": mark.due,
    }


@router.post("/kb/articles/{article_id}/read", response={200: ReadOut, **ERRORS})
def mark_read(request, article_id: int, body: ReadIn):
    """"Mark as read": confirm you read `version`, the article's latest
    (409 if it has changed). Completes your assignments of it."""
    viewer = _viewer(request)
    completed = actions.mark_read(viewer, article_id, body.version, **_who(request))
    return {"article_id": article_id, "version": body.version, "completed_assignments": len(completed)}


@router.get("/kb/assignments/mine", response={200: list[actions.ArticleAssignmentStatus], **ERRORS})
def my_assignments(request):
    """Your open reading assignments, soonest due first."""
    viewer = _viewer(request)
    return [vars(a) for a in actions.assignments_for(viewer.practice_id, assignee_id=viewer.user_id, open_only=True)]


@router.get("/kb/assignments", response={200: list[actions.ArticleAssignmentStatus], **ERRORS})
def practice_assignments(request, query: Query[ArticleAssignmentQuery]):
    """Supervisors: every reading assignment of the practice and its status."""
    viewer = _viewer(request)
    actions.require_supervisor(viewer)
    return [vars(a) for a in actions.assignments_for(viewer.practice_id, article_id=query.article_id)]


@router.post("/kb/assignments", response={201: list[actions.ArticleAssignmentStatus], **ERRORS})
def assign(request, body: ArticleAssignIn):
    """Supervisors: assign an article to staff of the practice (optionally
    by a due date). Answers the assignments, new or already open."""
    viewer = _viewer(request)
    assigned = actions.assign_article(viewer, body.article_id, body.user_ids, body.due, **_who(request))
    ids = {a.pk for a in assigned}
    rows = actions.assignments_for(viewer.practice_id, article_id=body.article_id)
    return Status(201, [vars(a) for a in rows if a.id in ids])
