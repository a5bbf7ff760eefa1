"""The knowledge base's rules: who may write, save a new version, record
reads, assign articles and complete assignments. Views and API endpoints
decode, call one of these, and answer (docs/knowledge.md)."""

from __future__ import annotations

import zoneinfo
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

from django.db import transaction
from django.urls import reverse
from django.utils.text import slugify

from hub.actions.errors import ActionError, Conflict, InvalidInput, NotFound
from hub.knowledge.models import Article, ArticleAssignment, ArticleRead, ArticleVersion, Category
from hub.lib import access, audit, clock
from hub.models import AgentProfile, Practice, Topic

MAX_TITLE = 200
MAX_BODY = 100_000
MAX_NOTE = 300
MAX_ASSIGNEES = 100
# Slugs that are pages of the knowledge base, not articles.
RESERVED_SLUGS = frozenset({"new", "assignments"})


class NotAllowed(ActionError):
    status = 403

    def __init__(self, message: str, *, code: str = "forbidden"):
        super().__init__(message, code=code)


@dataclass(frozen=True)
class Draft:
    """What a supervisor submits: the article's new text and links."""

    title: str
    category: str
    body: str
    topic_ids: tuple[int, ...] = ()
    change_note: str = ""


@dataclass(frozen=True)
class Mark:
    """What an article is to one person: "new" (never opened), "changed"
    (a version they have not read) or "" (read), and whether it is
    assigned to them."""

    read: str
    assigned: bool
    due: date | None


@dataclass(frozen=True)
class ArticleAssignmentStatus:
    id: int
    article_id: int
    article_slug: str
    article_title: str
    article_url: str
    assignee_id: int
    assignee_name: str
    assigned_by_name: str
    assigned_at: datetime
    due: date | None
    status: str  # "assigned" or "completed"
    completed_at: datetime | None
    completed_version: int | None
    overdue: bool


# --- reading -------------------------------------------------------------------

def get_article(viewer: access.Viewer, *, slug: str | None = None, article_id: int | None = None) -> Article:
    """An article of the viewer's practice (another practice's: NotFound)."""
    articles = Article.objects.in_practice(viewer.practice_id).select_related("updated_by")
    found = articles.filter(slug=slug).first() if slug is not None else articles.filter(pk=article_id).first()
    if found is None:
        raise NotFound("No such article.")
    return found


def get_version(article: Article, number: int) -> ArticleVersion:
    found = article.versions.select_related("author").filter(number=number).first()
    if found is None:
        raise NotFound("No such version.")
    return found


def open_article(viewer: access.Viewer, article: Article) -> int | None:
    """Record that the viewer has the article's latest version open, and
    answer the version they had read before (None: never opened)."""
    if not viewer.is_person:
        return None
    reads = ArticleRead.objects.filter(article=article, user_id=viewer.user_id)
    before = reads.values_list("version", flat=True).first()
    if before is None:
        ArticleRead.objects.get_or_create(article=article, user_id=viewer.user_id, defaults={
            "practice_id": article.practice_id, "version": article.version, "read_at": clock.now()})
    elif before < article.version:
        # Never backwards: another tab may have recorded a newer version.
        reads.filter(version__lt=article.version).update(version=article.version, read_at=clock.now())
    return before


def marks_for(viewer: access.Viewer, articles: Iterable[Article]) -> dict[int, Mark]:
    """The viewer's marks for these articles (by id)."""
    versions = {article.pk: article.version for article in articles}
    read = dict(ArticleRead.objects.filter(user_id=viewer.user_id, article_id__in=versions)
                .values_list("article_id", "version"))
    open_assignments = dict(ArticleAssignment.objects
                            .filter(assignee_id=viewer.user_id, article_id__in=versions, completed_at__isnull=True)
                            .values_list("article_id", "due"))
    return {
        pk: Mark(read="new" if pk not in read else "changed" if read[pk] < version else "",
                 assigned=pk in open_assignments, due=open_assignments.get(pk))
        for pk, version in versions.items()
    }


# --- writing -------------------------------------------------------------------

def save_article(viewer: access.Viewer, article_id: int | None, draft: Draft, *, base_version: int | None = None,
                 via: str = "console", ip: str | None = None) -> Article:
    """Create an article (article_id None) or save a new version of one.
    Any change (text, category or topics) makes a new version; a save that
    changes nothing is refused, and so is one made over a version newer
    than the one the editor started from (`base_version`)."""
    require_supervisor(viewer)
    draft = _valid(viewer, draft, creating=article_id is None)
    now = clock.now()
    with transaction.atomic():
        if article_id is None:
            article = Article(practice_id=viewer.practice_id, slug=_free_slug(viewer.practice_id, draft.title),
                              version=0, created_at=now)
            before_topics: set[int] = set()
        else:
            article = Article.objects.in_practice(viewer.practice_id).select_for_update(no_key=True).filter(pk=article_id).first()
            if article is None:
                raise NotFound("No such article.")
            if base_version is not None and base_version != article.version:
                raise Conflict(f"Someone saved version {article.version} while you were editing. Your text is "
                               "kept below: compare it with the history before saving again.", code="stale")
            before_topics = set(article.topics.values_list("pk", flat=True))
            if (draft.title, draft.category, draft.body, set(draft.topic_ids)) == (
                    article.title, article.category, article.body, before_topics):
                raise InvalidInput("Nothing changed: edit the article before saving it.", code="unchanged")
        article.title, article.category, article.body = draft.title, draft.category, draft.body
        article.version += 1
        article.updated_at, article.updated_by_id = now, viewer.user_id
        article.save()
        article.topics.set(draft.topic_ids)
        ArticleVersion.objects.create(
            practice_id=viewer.practice_id, article=article, number=article.version, title=draft.title,
            category=draft.category, body=draft.body, change_note=draft.change_note, author_id=viewer.user_id,
            created_at=now)
        open_article(viewer, article)  # the author has read what they wrote
        audit.record(user_id=viewer.user_id, practice_id=viewer.practice_id,
                     action="kb.article_created" if article.version == 1 else "kb.article_changed",
                     obj=article, via=via, ip=ip,
                     detail={"version": article.version, "slug": article.slug,
                             "topics_changed": set(draft.topic_ids) != before_topics})
    return article


def require_supervisor(viewer: access.Viewer) -> None:
    if not viewer.may_supervise:
        raise NotAllowed("Only supervisors and practice admins may do this in the knowledge base.")


def _text(value: str, name: str, limit: int) -> str:
    if "\x00" in value:
        raise InvalidInput(f"The {name} must not contain NUL characters.")
    if len(value) > limit:
        raise InvalidInput(f"The {name} is at most {limit:,} characters.")
    return value


def _valid(viewer: access.Viewer, draft: Draft, *, creating: bool) -> Draft:
    title = " ".join(_text(draft.title, "title", MAX_TITLE).split())
    if not title:
        raise InvalidInput("Give the article a title.")
    if draft.category not in Category.values:
        raise InvalidInput("Choose one of the categories.")
    body = _text(draft.body, "body", MAX_BODY).replace("\r\n", "\n")
    note = " ".join(_text(draft.change_note, "change note", MAX_NOTE).split())
    if not note and not creating:
        raise InvalidInput("Say what you changed in the change note: it is what the history shows.")
    topic_ids = tuple(sorted(set(draft.topic_ids)))
    known = set(Topic.objects.in_practice(viewer.practice_id).filter(pk__in=topic_ids).values_list("pk", flat=True))
    if known != set(topic_ids):
        raise InvalidInput("Choose topics of your practice.")
    return Draft(title=title, category=draft.category, body=body, topic_ids=topic_ids,
                 change_note=note or "First version")


def _free_slug(practice_id: int, title: str) -> str:
    base = slugify(title)[:70].strip("-") or "article"
    taken = set(Article.objects.in_practice(practice_id).filter(slug__startswith=base).values_list("slug", flat=True))
    taken |= RESERVED_SLUGS
    slug, n = base, 1
    while slug in taken:
        n += 1
        slug = f"{base}-{n}"
    return slug


# --- assignments ---------------------------------------------------------------

def assign_article(viewer: access.Viewer, article_id: int, user_ids: Iterable[int], due: date | None = None, *,
                   via: str = "console", ip: str | None = None) -> list[ArticleAssignment]:
    """Ask staff of the practice to read an article, optionally by a date.
    Someone who already has it open as an assignment keeps that one (with
    the new due date)."""
    require_supervisor(viewer)
    wanted = sorted(set(user_ids))
    if not wanted:
        raise InvalidInput("Choose at least one person to assign the article to.")
    if len(wanted) > MAX_ASSIGNEES:
        raise InvalidInput(f"Assign to at most {MAX_ASSIGNEES} people at once.")
    people = set(_people(viewer.practice_id).filter(user_id__in=wanted).values_list("user_id", flat=True))
    if people != set(wanted):
        raise InvalidInput("Assign articles to staff of your practice only.")
    if due is not None and due < _today(viewer.practice_id):
        raise InvalidInput("The due date is in the past.")
    now = clock.now()
    assigned = []
    with transaction.atomic():
        article = Article.objects.in_practice(viewer.practice_id).select_for_update(no_key=True).filter(pk=article_id).first()
        if article is None:
            raise NotFound("No such article.")
        for user_id in wanted:
            assignment, created = ArticleAssignment.objects.get_or_create(
                article=article, assignee_id=user_id, completed_at=None,
                defaults={"practice_id": viewer.practice_id, "assigned_by_id": viewer.user_id,
                          "assigned_at": now, "due": due})
            if not created and assignment.due != due:
                assignment.due = due
                assignment.save(update_fields=["due"])
            assigned.append((assignment, created))
        for assignment, created in assigned:
            audit.record(user_id=viewer.user_id, practice_id=viewer.practice_id, action="kb.article_assigned",
                         obj=assignment, via=via, ip=ip,
                         detail={"article": article.pk, "assignee": assignment.assignee_id,
                                 "due": due.isoformat() if due else None, "new": created})
    return [assignment for assignment, _ in assigned]


def mark_read(viewer: access.Viewer, article_id: int, version: int, *, via: str = "console",
              ip: str | None = None) -> list[ArticleAssignment]:
    """"Mark as read": the viewer confirms having read `version`, which must
    be the article's latest. Completes their open assignments of it."""
    if not viewer.is_person:
        raise NotAllowed("Only staff members read articles.")
    with transaction.atomic():
        article = Article.objects.in_practice(viewer.practice_id).select_for_update(no_key=True).filter(pk=article_id).first()
        if article is None:
            raise NotFound("No such article.")
        if version != article.version:
            raise Conflict(f"The article has changed since you opened it: read version {article.version}, "
                           "then mark it as read.", code="stale")
        open_article(viewer, article)
        completed = list(ArticleAssignment.objects.select_for_update(no_key=True)
                         .filter(article=article, assignee_id=viewer.user_id, completed_at__isnull=True))
        now = clock.now()
        for assignment in completed:
            assignment.completed_at, assignment.completed_version = now, version
            assignment.save(update_fields=["completed_at", "completed_version"])
            audit.record(user_id=viewer.user_id, practice_id=viewer.practice_id, action="kb.assignment_completed",
                         obj=assignment, via=via, ip=ip, detail={"article": article.pk, "version": version})
    return completed


def assignments_for(practice_id: int, *, article_id: int | None = None, assignee_id: int | None = None,
                    open_only: bool = False) -> list[ArticleAssignmentStatus]:
    """A practice's assignments and their status: open ones first (soonest
    due first), then completed ones (latest first)."""
    qs = (ArticleAssignment.objects.in_practice(practice_id)
          .select_related("article", "assignee", "assigned_by"))
    if article_id is not None:
        qs = qs.filter(article_id=article_id)
    if assignee_id is not None:
        qs = qs.filter(assignee_id=assignee_id)
    if open_only:
        qs = qs.filter(completed_at__isnull=True)
    today = _today(practice_id)
    rows = [_status(a, today) for a in qs]
    open_rows = sorted((r for r in rows if r.status == "assigned"),
                       key=lambda r: (r.due is None, r.due or today, r.assigned_at, r.id))
    done_rows = sorted((r for r in rows if r.status == "completed"), key=lambda r: (r.completed_at, r.id),
                       reverse=True)
    return open_rows + done_rows


def _status(a: ArticleAssignment, today: date) -> ArticleAssignmentStatus:
    return ArticleAssignmentStatus(
        id=a.pk, article_id=a.article_id, article_slug=a.article.slug, article_title=a.article.title,
        article_url=reverse("knowledge:article", args=[a.article.slug]), assignee_id=a.assignee_id,
        assignee_name=display_name(a.assignee), assigned_by_name=display_name(a.assigned_by) if a.assigned_by else "",
        assigned_at=a.assigned_at, due=a.due, status="completed" if a.completed else "assigned",
        completed_at=a.completed_at, completed_version=a.completed_version,
        overdue=not a.completed and a.due is not None and a.due < today)


def display_name(user) -> str:
    return user.get_full_name() or user.get_username()


def practice_zone(practice_id: int) -> zoneinfo.ZoneInfo:
    name = Practice.objects.filter(pk=practice_id).values_list("timezone", flat=True).first()
    return zoneinfo.ZoneInfo(name or "UTC")


def _today(practice_id: int) -> date:
    return clock.now().astimezone(practice_zone(practice_id)).date()


def staff_choices(practice_id: int) -> list[tuple[int, str]]:
    """The people of a practice an article can be assigned to."""
    profiles = (_people(practice_id).select_related("user")
                .order_by("user__first_name", "user__last_name", "user__username"))
    return [(p.user_id, f"{p.display_name} ({p.get_role_display().lower()})") for p in profiles]


def _people(practice_id: int):
    return (AgentProfile.objects.in_practice(practice_id).exclude(role=AgentProfile.Role.INTEGRATION)
            .filter(user__is_active=True))
