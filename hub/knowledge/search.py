"""Full-text search of a practice's articles, and articles suggested for a
conversation.

On PostgreSQL: `django.contrib.postgres.search`, the title weighted over the
body (A over B), the query read as a web search (all words; "a phrase",
-word and `or` work), ranked by `SearchRank`, served by a GIN index on the
same expression (migration 0002). On SQLite, the zero-setup local run: the
query is split into words, each matched case-insensitively at the start of
a word of the title or body; an article matching any word is a hit, ranked
by title matches over body matches, then by how many words matched.

Patients' words are used for suggestions and forgotten: never logged, never
stored.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.contrib.postgres.search import SearchQuery, SearchRank, SearchVector
from django.db import connection
from django.urls import reverse

from hub.knowledge.markup import plain_text
from hub.knowledge.models import Article
from hub.lib import access
from hub.models import Conversation, Event

CONFIG = "english"
MAX_QUERY = 200
MAX_LIMIT = 50
MAX_TERMS = 12
EXCERPT = 180
SUGGESTIONS = 5
RECENT_MESSAGES = 5
TITLE_WEIGHT = 3  # the fallback's score: a word in the title counts as much as three in the body

WORD = re.compile(r"[^\W_]+")
STOPWORDS = frozenset("""
a about after again all also am an and any are as at be because been before being but by can could did do does
doing don down for from had has have having he her here hers him his how i if in into is it its just me more most
my no nor not of off on once only or other our ours out over own same she should so some such than that the their
them then there these they this those through to too under until up very was we were what when where which while
who whom why will with would you your yours hi hello hey thanks thank please ok okay yes yeah im ive id get got
need want like know let lets tell ask see one two also still today tomorrow yesterday
""".split())


@dataclass(frozen=True)
class ArticleHit:
    id: int
    slug: str
    title: str
    category: str
    snippet: str
    url: str


def terms(text: str, *, words_only: bool = False) -> list[str]:
    """The searchable words of a text, lower case, in order, without stop
    words or repeats. `words_only` also drops anything with a digit (a
    patient's date of birth or phone number is no search term)."""
    found: list[str] = []
    for word in WORD.findall(text.casefold()):
        if len(word) < 2 or word in STOPWORDS or word in found or (words_only and any(c.isdigit() for c in word)):
            continue
        found.append(word)
        if len(found) == MAX_TERMS:
            break
    return found


def search_articles(practice_id: int, query: str, *, limit: int = 10) -> list[ArticleHit]:
    """A practice's articles matching a search, best first."""
    query = query.replace("\x00", " ")[:MAX_QUERY]
    words = terms(query)
    if not words:
        return []
    limit = max(1, min(limit, MAX_LIMIT))
    if connection.vendor == "postgresql":
        articles = _postgres(practice_id, query, limit)
    else:
        articles = _fallback(practice_id, words, limit)
    return [_hit(article, words) for article in articles]


def suggest_for_conversation(viewer: access.Viewer, conversation: Conversation, *,
                             limit: int = SUGGESTIONS) -> list[ArticleHit]:
    """Articles for the agent working a conversation: those related to its
    topic, then those matching the patient's recent messages."""
    if not access.can_see_conversation(viewer, conversation):
        raise access.NotVisible(f"conversation {conversation.pk}")
    words = _patient_words(conversation)
    articles: list[Article] = []
    if conversation.topic_id is not None:
        articles = list(Article.objects.in_practice(viewer.practice_id).filter(topics=conversation.topic_id)
                        .order_by("title", "pk")[:limit])
    if words and len(articles) < limit:
        if connection.vendor == "postgresql":
            matching = _postgres(viewer.practice_id, " or ".join(words), limit)
        else:
            matching = _fallback(viewer.practice_id, words, limit)
        seen = {article.pk for article in articles}
        articles += [article for article in matching if article.pk not in seen]
    return [_hit(article, words) for article in articles[:limit]]


def _patient_words(conversation: Conversation) -> list[str]:
    bodies = (Event.objects.in_practice(conversation.practice_id)
              .filter(conversation=conversation, kind=Event.Kind.MESSAGE, direction=Event.Direction.IN)
              .order_by("-seq").values_list("body", flat=True)[:RECENT_MESSAGES])
    return terms(" ".join(bodies), words_only=True)


def _postgres(practice_id: int, websearch: str, limit: int) -> list[Article]:
    vector = SearchVector("title", weight="A", config=CONFIG) + SearchVector("body", weight="B", config=CONFIG)
    query = SearchQuery(websearch, search_type="websearch", config=CONFIG)
    return list(Article.objects.in_practice(practice_id).annotate(search=vector).filter(search=query)
                .annotate(rank=SearchRank(vector, query)).order_by("-rank", "title", "pk")[:limit])


def _fallback(practice_id: int, words: list[str], limit: int) -> list[Article]:
    # SQLite folds case for ASCII only, so matching happens here; a
    # practice's articles number in the hundreds at most.
    patterns = [_word_start(word) for word in words]
    ranked = []
    for article in Article.objects.in_practice(practice_id).only("pk", "slug", "title", "category", "body"):
        in_title = [bool(p.search(article.title)) for p in patterns]
        in_body = [len(p.findall(article.body)) for p in patterns]
        matched = sum(1 for t, b in zip(in_title, in_body) if t or b)
        if matched:
            score = TITLE_WEIGHT * sum(in_title) + sum(1 for b in in_body if b)
            ranked.append(((-score, -matched, -sum(in_body), article.title.casefold(), article.pk), article))
    ranked.sort(key=lambda pair: pair[0])
    return [article for _, article in ranked[:limit]]


def _word_start(word: str) -> re.Pattern:
    return re.compile(r"\b" + re.escape(word), re.IGNORECASE)


def _hit(article: Article, words: list[str]) -> ArticleHit:
    return ArticleHit(id=article.pk, slug=article.slug, title=article.title, category=article.category,
                      snippet=excerpt(article.body, words), url=reverse("knowledge:article", args=[article.slug]))


def excerpt(body: str, words: list[str]) -> str:
    """About EXCERPT characters of the article's text around the first
    matched word (from the start when none is found)."""
    text = plain_text(body)
    starts = [m.start() for m in (_word_start(word).search(text) for word in words) if m]
    start = max(0, min(starts) - EXCERPT // 3) if starts else 0
    if start:
        start = text.find(" ", start) + 1 or start
    end = min(len(text), start + EXCERPT)
    if end < len(text):
        space = text.rfind(" ", start, end)
        end = space if space > start else end
    return ("…" if start else "") + text[start:end].strip() + ("…" if end < len(text) else "")
