""""New" and "Changed since you read it": opening an article records the
version read; the list, the search and the API show each person's marks."""

import pytest

from hub.knowledge.models import ArticleRead
from tests.knowledge.conftest import write

pytestmark = pytest.mark.django_db


def _item(page: str, slug: str) -> str:
    return page.split(f'data-article="{slug}"')[1].split("</li>")[0]


def test_marks_follow_what_each_person_read(world, signed_in):
    article = write(world.sam, "Hours", "Open 8 to 6.")
    client = signed_in(world.alice)
    assert ">New<" in _item(client.get("/console/kb/").content.decode(), article.slug)

    client.get(f"/console/kb/{article.slug}/")
    assert ArticleRead.objects.get(user=world.alice).version == 1
    listed = _item(client.get("/console/kb/").content.decode(), article.slug)
    assert "New" not in listed and "Changed" not in listed

    write(world.sam, "Hours", "Open 8 to 7.", article=article)
    assert "Changed since you read it" in _item(client.get("/console/kb/").content.decode(), article.slug)
    assert "Changed since you read it" in _item(client.get("/console/kb/?q=hours").content.decode(), article.slug)

    page = client.get(f"/console/kb/{article.slug}/").content.decode()
    assert "Changed since you last read it (you read version 1)" in page
    assert f"/console/kb/{article.slug}/v/2/?since=1" in page
    assert "Changed" not in _item(client.get("/console/kb/").content.decode(), article.slug)
    # The author read what they wrote; bob never opened it.
    assert ArticleRead.objects.get(user=world.sam).version == 2
    assert ">New<" in _item(signed_in(world.bob).get("/console/kb/").content.decode(), article.slug)


def test_the_api_marks_and_reading_through_the_api(world, signed_in):
    article = write(world.sam, "Hours", "Open 8 to 6.")
    client = signed_in(world.alice)
    [hit] = client.get("/api/v1/kb/search", {"q": "hours"}).json()
    assert hit["mark"] == "new" and hit["assigned"] is False

    read = client.get(f"/api/v1/kb/articles/{article.pk}").json()
    assert read["read_version_before"] is None and read["version"] == 1
    assert client.get("/api/v1/kb/search", {"q": "hours"}).json()[0]["mark"] == ""
    write(world.sam, "Hours", "Open 8 to 7.", article=article)
    assert client.get("/api/v1/kb/search", {"q": "hours"}).json()[0]["mark"] == "changed"
    assert client.get(f"/api/v1/kb/articles/{article.pk}").json()["read_version_before"] == 1


def test_category_filter(world, signed_in):
    write(world.sam, "Hours", "Open.", category="policies")
    write(world.sam, "Calm caller", "Breathe.", category="scripts")
    page = signed_in(world.alice).get("/console/kb/?category=scripts").content.decode()
    assert "Calm caller" in page and "Hours" not in page and "Call scripts" in page
