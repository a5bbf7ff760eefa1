"""Reading assignments: a supervisor assigns an article to staff, they see
"Assigned to you", and "Mark as read" on the latest version completes it."""

from datetime import date, timedelta

import pytest

from hub.actions.errors import InvalidInput
from hub.knowledge import actions
from hub.knowledge.models import ArticleAssignment
from hub.models import AuditEntry
from tests.knowledge.conftest import viewer, write

pytestmark = pytest.mark.django_db


@pytest.fixture
def article(world):
    return write(world.sam, "Red-flag symptoms", "Chest pain: call 911.")


def test_assign_read_and_complete_through_the_pages(world, article, signed_in):
    client = signed_in(world.sam)
    due = date.today() + timedelta(days=3)
    response = client.post(f"/console/kb/{article.slug}/assign/",
                           {"assignees": [world.alice.pk, world.bob.pk], "due": due.isoformat()})
    assert response.status_code == 302
    assert set(ArticleAssignment.objects.values_list("assignee_id", "due")) == {(world.alice.pk, due), (world.bob.pk, due)}

    client = signed_in(world.alice)
    listing = client.get("/console/kb/").content.decode()
    assert "Assigned to you" in listing and "Red-flag symptoms" in listing
    page = client.get(f"/console/kb/{article.slug}/").content.decode()
    assert "Mark as read" in page
    assert ArticleAssignment.objects.get(assignee=world.alice).completed_at is None  # opening is not confirming

    response = client.post(f"/console/kb/{article.slug}/read/", {"version": 1}, follow=True)
    assert "Marked as read. Assignment completed." in response.content.decode()
    done = ArticleAssignment.objects.get(assignee=world.alice)
    assert done.completed_at is not None and done.completed_version == 1
    assert "Mark as read" not in client.get(f"/console/kb/{article.slug}/").content.decode()

    status = signed_in(world.sam).get(f"/console/kb/{article.slug}/").content.decode()
    assert status.count('data-status="completed"') == 1 and status.count('data-status="assigned"') == 1
    overview = signed_in(world.sam).get("/console/kb/assignments/").content.decode()
    assert "Completed" in overview and "Red-flag symptoms" in overview
    actions_logged = list(AuditEntry.objects.filter(action__in=["kb.article_assigned", "kb.assignment_completed"])
                          .values_list("action", flat=True))
    assert sorted(actions_logged) == ["kb.article_assigned", "kb.article_assigned", "kb.assignment_completed"]


def test_marking_an_outdated_version_does_not_complete(world, article, signed_in):
    actions.assign_article(viewer(world.sam), article.pk, [world.alice.pk])
    write(world.sam, "Red-flag symptoms", "Chest pain or stroke signs: call 911.", article=article)
    response = signed_in(world.alice).post(f"/api/v1/kb/articles/{article.pk}/read", {"version": 1},
                                           content_type="application/json")
    assert response.status_code == 409 and response.json()["code"] == "stale"
    assert ArticleAssignment.objects.get().completed_at is None
    response = signed_in(world.alice).post(f"/api/v1/kb/articles/{article.pk}/read", {"version": 2},
                                           content_type="application/json")
    assert response.json() == {"article_id": article.pk, "version": 2, "completed_assignments": 1}


def test_public_functions_for_other_parts(world, article):
    sam = viewer(world.sam)
    assigned = actions.assign_article(sam, article.pk, [world.alice.pk], due=date.today())
    again = actions.assign_article(sam, article.pk, [world.alice.pk])  # still open: the same one, no due date now
    assert [a.pk for a in again] == [a.pk for a in assigned] and again[0].due is None
    [row] = actions.assignments_for(world.practice.pk)
    assert (row.status, row.assignee_name, row.assigned_by_name, row.article_title) == (
        "assigned", "Alice Adams", "Sam Stone", "Red-flag symptoms")
    actions.mark_read(viewer(world.alice), article.pk, 1)
    [row] = actions.assignments_for(world.practice.pk)
    assert row.status == "completed" and row.completed_at is not None and row.completed_version == 1
    # Completed: a new assignment can follow (a later version, a refresher).
    actions.assign_article(sam, article.pk, [world.alice.pk])
    assert [r.status for r in actions.assignments_for(world.practice.pk)] == ["assigned", "completed"]


def test_assignment_rules(world, other_world, article):
    sam = viewer(world.sam)
    with pytest.raises(actions.NotAllowed):
        actions.assign_article(viewer(world.alice), article.pk, [world.bob.pk])
    for people in ([], [other_world.alice.pk], [world.integration.pk], [world.alice.pk, 10**12]):
        with pytest.raises(InvalidInput):
            actions.assign_article(sam, article.pk, people)
    with pytest.raises(InvalidInput, match="past"):
        actions.assign_article(sam, article.pk, [world.alice.pk], due=date.today() - timedelta(days=2))
    with pytest.raises(actions.NotFound):
        actions.assign_article(viewer(other_world.sam), article.pk, [other_world.alice.pk])
    assert not ArticleAssignment.objects.exists()


def test_assignments_over_the_api(world, other_world, article, signed_in):
    client = signed_in(world.sam)
    response = client.post("/api/v1/kb/assignments", {"article_id": article.pk, "user_ids": [world.alice.pk],
                                                      "due": None}, content_type="application/json")
    assert response.status_code == 201
    [row] = response.json()
    assert row["assignee_id"] == world.alice.pk and row["status"] == "assigned" and row["article_url"].endswith(
        f"/{article.slug}/")
    assert [r["id"] for r in client.get("/api/v1/kb/assignments").json()] == [row["id"]]

    alice = signed_in(world.alice)
    assert [r["id"] for r in alice.get("/api/v1/kb/assignments/mine").json()] == [row["id"]]
    assert alice.get("/api/v1/kb/search", {"q": "chest"}).json()[0]["assigned"] is True
    assert alice.get("/api/v1/kb/assignments").status_code == 403
    assert alice.post("/api/v1/kb/assignments", {"article_id": article.pk, "user_ids": [world.bob.pk]},
                      content_type="application/json").status_code == 403

    lakeside = signed_in(other_world.sam)
    assert lakeside.get("/api/v1/kb/assignments").json() == []
    assert lakeside.post("/api/v1/kb/assignments", {"article_id": article.pk, "user_ids": [other_world.bob.pk]},
                         content_type="application/json").status_code == 404
