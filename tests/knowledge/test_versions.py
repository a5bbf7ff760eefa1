"""Writing articles in the console: every save a numbered version, the
history, an old version as it read, the difference between versions, and
who may write."""

import pytest

from hub.knowledge.models import Article, ArticleVersion
from hub.models import AuditEntry
from tests.knowledge.conftest import write

pytestmark = pytest.mark.django_db


def _form(title="Parking", body="Park behind the clinic.", note="", category="policies", base_version="", topics=()):
    return {"title": title, "category": category, "body": body, "change_note": note, "base_version": base_version,
            "topics": [t.pk for t in topics]}


def test_a_supervisor_creates_and_edits_and_each_save_is_a_version(world, signed_in):
    client = signed_in(world.sam)
    topic = world.billing.topics.get()
    response = client.post("/console/kb/new/", _form(topics=[topic]))
    assert response.status_code == 302
    article = Article.objects.get()
    assert response.url == f"/console/kb/{article.slug}/" and article.slug == "parking"
    assert list(article.topics.all()) == [topic]

    response = client.post(f"/console/kb/{article.slug}/edit/",
                           _form(title="Parking and access", body="Park behind the clinic.\nRamp at the side door.",
                                 note="Wheelchair access", base_version=1))
    assert response.status_code == 302
    article.refresh_from_db()
    assert (article.version, article.title) == (2, "Parking and access")
    versions = list(ArticleVersion.objects.filter(article=article).order_by("number")
                    .values_list("number", "title", "change_note", "author_id"))
    assert versions == [(1, "Parking", "First version", world.sam.pk),
                        (2, "Parking and access", "Wheelchair access", world.sam.pk)]
    assert list(AuditEntry.objects.filter(object_type="article").values_list("action", flat=True).order_by("pk")) == [
        "kb.article_created", "kb.article_changed"]

    history = client.get(f"/console/kb/{article.slug}/history/").content.decode()
    assert "Version 2" in history and "Version 1" in history and "Wheelchair access" in history


def test_an_old_version_reads_as_it_was_with_the_difference(world, signed_in):
    article = write(world.sam, "Hours", "Open 8 to 6.\nClosed Sunday.")
    write(world.sam, "Hours", "Open 8 to 7.\nClosed Sunday.", article=article, note="Longer hours")
    client = signed_in(world.alice)  # agents may read the history too

    old = client.get(f"/console/kb/{article.slug}/v/1/").content.decode()
    assert "Open 8 to 6." in old and "This is the first version." in old

    page = client.get(f"/console/kb/{article.slug}/v/2/").content.decode()
    assert "Changes since version 1" in page and "Longer hours" in page
    assert '<tr class="kb-diff-removed">' in page and '<tr class="kb-diff-added">' in page
    removed = page.split('<tr class="kb-diff-removed">')[1].split("</tr>")[0]
    added = page.split('<tr class="kb-diff-added">')[1].split("</tr>")[0]
    assert "Open 8 to 6." in removed and "Open 8 to 7." in added
    assert "Closed Sunday." not in removed + added

    assert client.get(f"/console/kb/{article.slug}/v/3/").status_code == 404
    assert client.get(f"/console/kb/{article.slug}/v/{2**70}/").status_code == 404


def test_a_save_over_a_newer_version_is_refused_and_the_text_kept(world, signed_in):
    article = write(world.sam, "Hours", "Open 8 to 6.")
    write(world.sam, "Hours", "Open 8 to 7.", article=article)  # someone else saved version 2
    response = signed_in(world.sam).post(f"/console/kb/{article.slug}/edit/",
                                          _form(title="Hours", body="Open 9 to 5.", note="Mine", base_version=1))
    assert response.status_code == 409
    assert "saved version 2 while you were editing" in response.content.decode()
    assert "Open 9 to 5." in response.content.decode()
    assert Article.objects.get().body == "Open 8 to 7."


def test_a_save_without_change_or_note_is_refused(world, signed_in):
    article = write(world.sam, "Hours", "Open 8 to 6.", category="policies")
    client = signed_in(world.sam)
    same = client.post(f"/console/kb/{article.slug}/edit/", _form(title="Hours", body="Open 8 to 6.", note="x",
                                                                   base_version=1))
    assert same.status_code == 400 and "Nothing changed" in same.content.decode()
    no_note = client.post(f"/console/kb/{article.slug}/edit/", _form(title="Hours", body="Open 9.", base_version=1))
    assert no_note.status_code == 400 and "change note" in no_note.content.decode()
    assert ArticleVersion.objects.count() == 1


def test_agents_cannot_write_and_other_practices_see_nothing(world, other_world, signed_in):
    article = write(world.sam, "Hours", "Open 8 to 6.")
    client = signed_in(world.alice)
    assert client.get("/console/kb/new/").status_code == 403
    assert client.post("/console/kb/new/", _form()).status_code == 403
    assert client.get(f"/console/kb/{article.slug}/edit/").status_code == 403
    assert client.post(f"/console/kb/{article.slug}/edit/", _form(note="x", base_version=1)).status_code == 403
    assert Article.objects.count() == 1
    page = client.get(f"/console/kb/{article.slug}/").content.decode()
    assert "/edit/" not in page and "Reading assignments" not in page

    client = signed_in(other_world.sam)
    for path in ("", "edit/", "history/", "v/1/"):
        assert client.get(f"/console/kb/{article.slug}/{path}").status_code == 404
    assert client.post(f"/console/kb/{article.slug}/edit/", _form(note="x", base_version=1)).status_code == 404
    assert "Hours" not in client.get("/console/kb/").content.decode()


def test_slugs_are_unique_stable_and_never_a_page_name(world):
    first = write(world.sam, "New")
    second = write(world.sam, "New")
    assert (first.slug, second.slug) == ("new-2", "new-3")
    renamed = write(world.sam, "Something else", article=first)
    assert renamed.slug == "new-2"
