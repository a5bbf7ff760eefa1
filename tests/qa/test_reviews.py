"""Reviews over HTTP (the pages and /api/v1/qa/): who may review what, one
review per reviewer, what agents see, acknowledgement, and the audit rows."""

from __future__ import annotations

import pytest

from hub.models import AuditEntry
from hub.qa.models import Review
from tests.qa.conftest import SCORES, api, handled, signed_in


@pytest.fixture
def resolved(world):
    return handled(world, world.alice)


def review_of(world, conversation, scores=SCORES, comments="Lovely greeting; confirm the date back next time."):
    response = api(world.sam)("post", "/qa/reviews", {"conversation_id": conversation.pk, "scores": scores,
                                                       "comments": comments})
    assert response.status_code == 201, response.content
    return response.json()


# --- scoring a conversation on its page -----------------------------------------------------------


def test_a_supervisor_reads_the_timeline_and_scores_it(world, resolved):
    client = signed_in(world.sam)
    page = client.get(f"/console/qa/conversations/{resolved.pk}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Can I book a visit?" in html and "Happy to help." in html
    assert 'id="fact-agent">Alice Adams<' in html
    viewed = AuditEntry.objects.get(action="qa.conversation_viewed")
    assert (viewed.user_id, viewed.object_type, viewed.object_id, viewed.patient_id) == (
        world.sam.pk, "conversation", str(resolved.pk), resolved.patient_id)

    form = {f"score_{key}": value for key, value in SCORES.items()}
    saved = client.post(f"/console/qa/conversations/{resolved.pk}/", {**form, "comments": "Confirm the date back."})
    assert saved.status_code == 302
    review = Review.objects.get()
    assert (review.agent_id, review.reviewer_id, review.points, review.possible, review.percent) == (
        world.alice.pk, world.sam.pk, 16, 20, 80.0)
    assert review.scores == SCORES and review.comments == "Confirm the date back."
    created = AuditEntry.objects.get(action="qa.review_created")
    assert (created.object_type, created.object_id, created.patient_id) == ("review", str(review.pk),
                                                                            resolved.patient_id)
    assert created.detail["percent"] == 80.0 and "comments" not in created.detail

    # Opening it again shows the review to change; saving changes it.
    again = client.get(f"/console/qa/conversations/{resolved.pk}/")
    assert b"Your review" in again.content and b"16 of 20 points (80.0%)" in again.content
    client.post(f"/console/qa/conversations/{resolved.pk}/", {**form, "score_compliance": 4, "comments": "Better."})
    review.refresh_from_db()
    assert (review.points, review.comments, Review.objects.count()) == (18, "Better.", 1)
    assert AuditEntry.objects.filter(action="qa.review_updated").count() == 1


def test_the_form_names_a_bad_score(world, resolved):
    response = signed_in(world.sam).post(f"/console/qa/conversations/{resolved.pk}/",
                                         {**{f"score_{k}": v for k, v in SCORES.items()}, "score_empathy": 9})
    assert response.status_code == 400
    assert "less than or equal to 4" in response.content.decode()
    assert not Review.objects.exists()


def test_only_resolved_conversations_are_reviewed(world):
    open_one = handled(world, world.alice, resolve=False)
    page = signed_in(world.sam).get(f"/console/qa/conversations/{open_one.pk}/")
    assert page.status_code == 409 and b"Only resolved conversations" in page.content
    response = api(world.sam)("post", "/qa/reviews", {"conversation_id": open_one.pk, "scores": SCORES})
    assert response.status_code == 409 and response.json()["code"] == "not_resolved"
    assert not AuditEntry.objects.filter(action__startswith="qa.").exists()


def test_only_supervisors_review(world, resolved):
    assert signed_in(world.bob).get(f"/console/qa/conversations/{resolved.pk}/").status_code == 403
    assert signed_in(world.bob).get("/console/qa/conversations/").status_code == 403
    response = api(world.bob)("post", "/qa/reviews", {"conversation_id": resolved.pk, "scores": SCORES})
    assert response.status_code == 403 and response.json()["code"] == "not_a_supervisor"
    assert not Review.objects.exists()


def test_another_practices_conversation_and_review_are_not_found(world, other_world, resolved):
    stranger = other_world.sam
    assert signed_in(stranger).get(f"/console/qa/conversations/{resolved.pk}/").status_code == 404
    assert api(stranger)("post", "/qa/reviews", {"conversation_id": resolved.pk, "scores": SCORES}).status_code == 404
    review = review_of(world, resolved)
    assert api(stranger)("get", f"/qa/reviews/{review['id']}").status_code == 404
    assert api(stranger)("put", f"/qa/reviews/{review['id']}", {"scores": SCORES}).status_code == 404
    assert api(stranger)("post", f"/qa/reviews/{review['id']}/acknowledge").status_code == 404
    assert api(stranger)("get", "/qa/reviews").json()["reviews"] == []
    assert not AuditEntry.objects.filter(action="qa.conversation_viewed").exists()


def test_one_review_per_reviewer_and_only_its_author_changes_it(world, resolved, ada):
    first = review_of(world, resolved)
    again = api(world.sam)("post", "/qa/reviews", {"conversation_id": resolved.pk, "scores": SCORES})
    assert again.status_code == 409 and again.json()["code"] == "already_reviewed"
    second = api(ada)("post", "/qa/reviews", {"conversation_id": resolved.pk, "scores": {**SCORES, "greeting": 0}})
    assert second.status_code == 201 and second.json()["percent"] == 60.0
    refused = api(ada)("put", f"/qa/reviews/{first['id']}", {"scores": SCORES, "comments": "Mine now"})
    assert refused.status_code == 403 and refused.json()["code"] == "not_author"
    changed = api(world.sam)("put", f"/qa/reviews/{first['id']}", {"scores": SCORES, "comments": "Clearer."})
    assert changed.status_code == 200 and changed.json()["comments"] == "Clearer."
    assert Review.objects.count() == 2


def test_nobody_reviews_their_own_conversation(world):
    own = handled(world, world.sam)
    response = api(world.sam)("post", "/qa/reviews", {"conversation_id": own.pk, "scores": SCORES})
    assert response.status_code == 403 and response.json()["code"] == "own_conversation"
    page = signed_in(world.sam).get(f"/console/qa/conversations/{own.pk}/")
    assert page.status_code == 200 and b"another supervisor reviews it" in page.content


# --- what agents see ----------------------------------------------------------------------------------


def test_agents_see_their_own_reviews_only_and_acknowledge_them(world, resolved):
    review = review_of(world, resolved)
    bobs = handled(world, world.bob, topic="bill")
    review_of(world, bobs, comments="Bob: state the balance first.")

    alice = signed_in(world.alice)
    page = alice.get("/console/qa/")
    html = page.content.decode()
    assert page.status_code == 200 and "My reviews" in html
    assert "Lovely greeting; confirm the date back next time." in html and "Bob: state the balance" not in html
    assert "Acknowledge" in html and "80.0%" in html
    assert [r["id"] for r in api(world.alice)("get", "/qa/reviews").json()["reviews"]] == [review["id"]]
    assert api(world.bob)("get", f"/qa/reviews/{review['id']}").status_code == 404

    # Only the agent reviewed acknowledges.
    assert api(world.bob)("post", f"/qa/reviews/{review['id']}/acknowledge").status_code == 404
    assert api(world.sam)("post", f"/qa/reviews/{review['id']}/acknowledge").status_code == 403
    assert alice.post(f"/console/qa/reviews/{review['id']}/acknowledge").status_code == 302
    acknowledged = Review.objects.get(pk=review["id"]).acknowledged_at
    assert acknowledged is not None
    assert AuditEntry.objects.filter(action="qa.review_acknowledged", user_id=world.alice.pk).count() == 1
    assert api(world.alice)("post", f"/qa/reviews/{review['id']}/acknowledge").json()["acknowledged_at"]
    assert Review.objects.get(pk=review["id"]).acknowledged_at == acknowledged  # once

    supervisor_view = signed_in(world.sam).get("/console/qa/").content.decode()
    assert "Latest reviews in the practice" in supervisor_view and "Yes," in supervisor_view

    # A change asks for a new acknowledgement.
    api(world.sam)("put", f"/qa/reviews/{review['id']}", {"scores": SCORES, "comments": "One more thing."})
    assert Review.objects.get(pk=review["id"]).acknowledged_at is None


def test_the_conversation_list_shows_who_handled_what_and_what_is_reviewed(world, resolved):
    bobs = handled(world, world.bob, topic="bill")
    handled(world, world.alice, resolve=False)
    review_of(world, resolved)
    client = signed_in(world.sam)
    listed = client.get("/console/qa/conversations/")
    rows = {r["conversation"].pk: r for r in listed.context["rows"]}
    assert set(rows) == {resolved.pk, bobs.pk}
    assert (rows[resolved.pk]["agent"], rows[resolved.pk]["reviews"][0]["percent"]) == ("Alice Adams", 80.0)
    assert rows[bobs.pk]["reviews"] == [] and rows[bobs.pk]["topic"] == "Bill question"

    by_agent = client.get("/console/qa/conversations/", {"agent": world.bob.pk})
    assert [r["conversation"].pk for r in by_agent.context["rows"]] == [bobs.pk]
    unreviewed = client.get("/console/qa/conversations/", {"reviewed": "no"})
    assert [r["conversation"].pk for r in unreviewed.context["rows"]] == [bobs.pk]
    sample = client.get("/console/qa/conversations/", {"sample": "5"})
    assert [r["conversation"].pk for r in sample.context["rows"]] == [bobs.pk]
    by_department = client.get("/console/qa/conversations/", {"department": world.billing.pk})
    assert [r["conversation"].pk for r in by_department.context["rows"]] == [bobs.pk]
    # The list names no patient.
    assert b"+1555555" not in listed.content


@pytest.mark.parametrize("params", [{"from": "yesterday"}, {"agent": "x"}, {"sample": "500"}, {"reviewed": "maybe"},
                                    {"topic": "99999999"}])
def test_bad_filters_are_a_400_that_says_why(world, params):
    response = signed_in(world.sam).get("/console/qa/conversations/", params)
    assert response.status_code == 400 and b'role="alert"' in response.content


def test_a_huge_id_is_not_found(world):
    assert signed_in(world.sam).get("/console/qa/conversations/99999999999999999999999/").status_code == 404
    assert api(world.sam)("get", "/qa/reviews/99999999999999999999999").status_code == 422
