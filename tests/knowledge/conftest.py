"""Helpers for the knowledge base tests: articles written the way a
supervisor writes them (hub.knowledge.actions.save_article)."""

from __future__ import annotations

import pytest

from hub.knowledge import actions
from hub.lib import access


def viewer(user) -> access.Viewer:
    return access.viewer_for(user)


def write(author, title, body="", *, category="general", topics=(), article=None, note="Edited"):
    """Create an article (or, given `article`, save a new version of it)."""
    draft = actions.Draft(title=title, category=category, body=body, topic_ids=tuple(t.pk for t in topics),
                          change_note="" if article is None else note)
    return actions.save_article(viewer(author), None if article is None else article.pk, draft)


@pytest.fixture
def signed_in(client):
    """signed_in(user) -> the test client, signed in as that user."""

    def sign_in(user):
        client.force_login(user)
        return client

    return sign_in
