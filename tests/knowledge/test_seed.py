"""The starter articles: added once, with snippets, linked to the demo
practice's topics, and part of the demo practice."""

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from hub.knowledge import markup
from hub.knowledge.models import Article, ArticleVersion
from hub.knowledge.seed import ARTICLES, seed_articles

pytestmark = pytest.mark.django_db


def test_starter_articles_are_added_once(world):
    added = seed_articles(world.practice)
    assert 6 <= len(added) <= 8
    assert seed_articles(world.practice) == []
    assert ArticleVersion.objects.count() == len(added)
    assert sum(1 for a in added if markup.snippets(a.body)) >= 3
    assert Article.objects.get(slug="accepted-insurance-plans").topics.filter(slug="bill").exists()
    assert all("{practice}" not in a.body for a in added)
    assert "Riverside Family Medicine cares" in Article.objects.get(slug="services-we-offer").body


def test_the_demo_practice_has_them(db):
    from hub.demo.seed import seed

    practice = seed()
    assert Article.objects.in_practice(practice).count() >= 6
    seed()
    assert Article.objects.in_practice(practice).count() == len(ARTICLES)


def test_the_command_adds_them_to_a_practice(world, capsys):
    call_command("seed_articles", "riverside")
    assert f"Added {len(ARTICLES)} article(s)" in capsys.readouterr().out
    call_command("seed_articles", "riverside")
    assert "Added 0 article(s)" in capsys.readouterr().out
    with pytest.raises(CommandError):
        call_command("seed_articles", "nowhere")
