"""The knowledge base in the Django admin: articles viewable and deletable
(audited), never edited there; versions read-only."""

import pytest
from django.contrib.auth import get_user_model

from hub.knowledge.models import Article, ArticleVersion
from hub.models import AuditEntry
from tests.knowledge.conftest import write

pytestmark = pytest.mark.django_db


def test_articles_are_read_only_in_the_admin_and_deletion_is_audited(world, client):
    article = write(world.sam, "Hours", "Open 8 to 6.")
    version = ArticleVersion.objects.get()
    client.force_login(get_user_model().objects.create_superuser("root", password="root-password-1"))
    assert client.get("/admin/knowledge/article/").status_code == 200
    page = client.get(f"/admin/knowledge/article/{article.pk}/change/")
    assert page.status_code == 200 and b"Open 8 to 6." in page.content and b'name="title"' not in page.content
    assert client.post(f"/admin/knowledge/article/{article.pk}/change/", {"title": "X"}).status_code == 403
    assert client.get("/admin/knowledge/article/add/").status_code == 403
    assert client.get(f"/admin/knowledge/articleversion/{version.pk}/change/").status_code == 200
    assert client.post(f"/admin/knowledge/articleversion/{version.pk}/delete/", {"post": "yes"}).status_code == 403

    assert client.post(f"/admin/knowledge/article/{article.pk}/delete/", {"post": "yes"}).status_code == 302
    assert not Article.objects.exists()
    assert AuditEntry.objects.get(action="kb.article_deleted").detail == {"slug": "hours", "version": 1}
