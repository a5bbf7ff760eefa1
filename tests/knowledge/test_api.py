"""The knowledge endpoints' edges: authentication, integrations, another
practice, and bad input (always a 4xx)."""

import pytest

from tests.knowledge.conftest import write

pytestmark = pytest.mark.django_db


def test_signed_out_and_integration_callers(world, client):
    article = write(world.sam, "Hours", "Open 8 to 6.")
    assert client.get("/api/v1/kb/search", {"q": "hours"}).status_code == 401
    token = {"HTTP_AUTHORIZATION": f"Bearer {world.token}"}
    assert [h["title"] for h in client.get("/api/v1/kb/search", {"q": "hours"}, **token).json()] == ["Hours"]
    assert client.get(f"/api/v1/kb/articles/{article.pk}", **token).json()["read_version_before"] is None
    assert client.post(f"/api/v1/kb/articles/{article.pk}/read", {"version": 1}, content_type="application/json",
                       **token).status_code == 403
    assert client.get("/api/v1/kb/assignments/mine", **token).json() == []
    assert client.get("/api/v1/kb/assignments", **token).status_code == 403


def test_another_practice_s_article_is_not_found(world, other_world, signed_in):
    article = write(world.sam, "Hours", "Open 8 to 6.")
    client = signed_in(other_world.alice)
    assert client.get(f"/api/v1/kb/articles/{article.pk}").status_code == 404
    assert client.post(f"/api/v1/kb/articles/{article.pk}/read", {"version": 1},
                       content_type="application/json").status_code == 404
    assert client.get("/api/v1/kb/search", {"q": "hours"}).json() == []


@pytest.mark.parametrize("path, params", [
    ("/api/v1/kb/search", {"q": "x" * 201}),
    ("/api/v1/kb/search", {"q": "a\x00b"}),
    ("/api/v1/kb/search", {"q": "hours", "limit": 0}),
    ("/api/v1/kb/assignments", {"article_id": 2**63}),
])
def test_bad_queries_are_refused(world, signed_in, path, params):
    assert signed_in(world.sam).get(path, params).status_code == 422


def test_bad_bodies_are_refused(world, signed_in):
    article = write(world.sam, "Hours", "Open 8 to 6.")
    client = signed_in(world.sam)
    for body in ({"version": 0}, {"version": 2**63}, {}):
        assert client.post(f"/api/v1/kb/articles/{article.pk}/read", body,
                           content_type="application/json").status_code == 422
    for body in ({"article_id": article.pk, "user_ids": []}, {"article_id": article.pk, "user_ids": [0]},
                 {"article_id": article.pk, "user_ids": [world.alice.pk], "due": "tomorrow"}):
        assert client.post("/api/v1/kb/assignments", body, content_type="application/json").status_code == 422
    assert client.get(f"/api/v1/kb/articles/{2**70}").status_code in (404, 422)
