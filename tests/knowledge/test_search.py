"""Full-text search: the SQLite fallback's matching and ranking, and on
PostgreSQL the weighted full-text query and its GIN index."""

import pytest
from django.conf import settings
from django.contrib.postgres.search import SearchQuery, SearchVector
from django.db import connection

from hub.knowledge.models import Article
from hub.knowledge.search import CONFIG, ArticleHit, search_articles
from tests.knowledge.conftest import write

pytestmark = pytest.mark.django_db

ON_SQLITE = settings.DATABASES["default"]["ENGINE"].endswith("sqlite3")
ON_POSTGRES = settings.DATABASES["default"]["ENGINE"].endswith("postgresql")


def titles(hits):
    return [hit.title for hit in hits]


@pytest.fixture
def library(world, other_world):
    write(world.sam, "Scheduling rules", "Same-day sick slots are held until 11am. Cancellations need notice.")
    write(world.sam, "Accepted insurance plans", "We accept Aetna and Cigna. Ask for the member ID.")
    write(world.sam, "Billing disputes", "Offer a payment plan. Insurance decisions are not ours to argue.")
    write(world.sam, "Welcome", "New patients fill in forms. Bring your insurance card and member ID.")
    write(other_world.sam, "Insurance at Lakeside", "Lakeside accepts other plans entirely.")


@pytest.mark.skipif(not ON_SQLITE, reason="the fallback runs on SQLite")
class TestFallback:
    def test_title_hits_rank_over_body_hits(self, world, library):
        assert titles(search_articles(world.practice.pk, "insurance")) == [
            "Accepted insurance plans", "Billing disputes", "Welcome"]

    def test_more_matched_terms_rank_first(self, world, library):
        # A title hit first; then, of the body-only hits, the one with all
        # three words before the one with only "insurance".
        assert titles(search_articles(world.practice.pk, "insurance card member")) == [
            "Accepted insurance plans", "Welcome", "Billing disputes"]

    def test_any_word_matches_case_insensitively_at_word_starts(self, world, library):
        assert titles(search_articles(world.practice.pk, "CANCEL")) == ["Scheduling rules"]
        assert titles(search_articles(world.practice.pk, "plan")) == ["Accepted insurance plans", "Billing disputes"]
        assert search_articles(world.practice.pk, "ancel") == []  # inside a word: no match
        assert titles(search_articles(world.practice.pk, "zebra aetna")) == ["Accepted insurance plans"]

    def test_non_ascii_words_fold_case(self, world):
        write(world.sam, "Médicaid waitlist", "ÉTAPES for new patients.")
        assert titles(search_articles(world.practice.pk, "étapes")) == ["Médicaid waitlist"]
        assert titles(search_articles(world.practice.pk, "MÉDICAID")) == ["Médicaid waitlist"]


def test_hits_carry_an_excerpt_and_the_article_url(world, library):
    hit = search_articles(world.practice.pk, "member id")[0]
    assert isinstance(hit, ArticleHit)
    assert hit.title == "Accepted insurance plans" and hit.category == "general"
    assert hit.url == f"/console/kb/{hit.slug}/"
    assert "member ID" in hit.snippet


def test_excerpt_is_plain_text_around_the_word(world):
    filler = " ".join(["Filler words about nothing in particular."] * 20)
    write(world.sam, "Long", f"# Heading\n\n{filler} The **copay** is due at check-in. {filler}")
    snippet = search_articles(world.practice.pk, "copay")[0].snippet
    assert "The copay is due at check-in." in snippet
    assert snippet.startswith("…") and snippet.endswith("…") and len(snippet) <= 190
    assert "**" not in snippet and "#" not in snippet


def test_only_the_practice_s_own_articles(world, other_world, library):
    assert "Insurance at Lakeside" not in titles(search_articles(world.practice.pk, "insurance"))
    assert titles(search_articles(other_world.practice.pk, "insurance")) == ["Insurance at Lakeside"]


def test_empty_stop_word_and_hostile_queries(world, library):
    assert search_articles(world.practice.pk, "") == []
    assert search_articles(world.practice.pk, "the and of") == []
    assert search_articles(world.practice.pk, "%_\\ ' OR '1'='1 \x00") == []
    assert len(search_articles(world.practice.pk, "insurance", limit=1)) == 1


@pytest.mark.skipif(not ON_POSTGRES, reason="PostgreSQL full-text search")
class TestPostgres:
    def test_websearch_with_title_weighted_over_body(self, world, library):
        # Stemming: "plans" finds "plan"; the title match ranks first.
        assert titles(search_articles(world.practice.pk, "insurance")) == [
            "Accepted insurance plans", "Billing disputes", "Welcome"]
        assert titles(search_articles(world.practice.pk, "payment plans")) == ["Billing disputes"]
        assert titles(search_articles(world.practice.pk, '"member ID" -aetna')) == ["Welcome"]
        assert titles(search_articles(world.practice.pk, "aetna or cancellations")) == [
            "Accepted insurance plans", "Scheduling rules"]

    def test_the_gin_index_serves_the_query(self, world, library):
        with connection.cursor() as cursor:
            cursor.execute("SELECT indexdef FROM pg_indexes WHERE indexname = 'knowledge_article_search_gin'")
            assert "gin" in cursor.fetchone()[0]
            cursor.execute("SET LOCAL enable_seqscan = off")
            vector = SearchVector("title", weight="A", config=CONFIG) + SearchVector("body", weight="B", config=CONFIG)
            query = Article.objects.annotate(search=vector).filter(search=SearchQuery("insurance", config=CONFIG,
                                                                                      search_type="websearch"))
            assert "knowledge_article_search_gin" in query.explain()
