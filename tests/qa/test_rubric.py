"""The rubric: scoring against it, and editing it (each edit a new version;
reviews keep the version they were scored with)."""

from __future__ import annotations

import pytest

from hub.actions.errors import InvalidInput
from hub.models import AuditEntry
from hub.qa import rubrics
from hub.qa.models import Rubric
from tests.qa.conftest import SCORES, api, handled, signed_in


# --- scoring ------------------------------------------------------------------------------------


def test_scores_add_up_to_points_and_a_percent(world):
    rubric = rubrics.active_rubric(world.practice.pk)
    assert rubrics.score(rubric, SCORES) == (SCORES, 16, 20, 80.0)
    assert rubrics.score(rubric, dict.fromkeys(SCORES, 0))[1:] == (0, 20, 0.0)


@pytest.mark.parametrize("scores,message", [
    ({k: v for k, v in SCORES.items() if k != "empathy"}, "Score Empathy from 0 to 4."),
    ({**SCORES, "accuracy": 5}, "Score Accuracy from 0 to 4."),
    ({**SCORES, "accuracy": -1}, "Score Accuracy from 0 to 4."),
    ({**SCORES, "tone": 2}, "Not a criterion of this rubric: tone."),
    ({**SCORES, "greeting": True}, "Score Greeting from 0 to 4."),
    ({**SCORES, "greeting": 2.0}, "Score Greeting from 0 to 4."),
    ([4, 3, 4, 2, 3], "Scores must be an object of criterion: points."),
])
def test_scoring_refuses_what_the_rubric_does_not_allow(world, scores, message):
    with pytest.raises(InvalidInput) as refused:
        rubrics.score(rubrics.active_rubric(world.practice.pk), scores)
    assert refused.value.message == message


@pytest.mark.parametrize("scores,status,detail", [
    ({k: v for k, v in SCORES.items() if k != "empathy"}, 400, "Score Empathy from 0 to 4."),
    ({**SCORES, "accuracy": 5}, 400, "Score Accuracy from 0 to 4."),
    ({**SCORES, "tone": 2}, 400, "Not a criterion of this rubric: tone."),
    ({**SCORES, "greeting": True}, 422, "scores.greeting: Input should be a valid integer"),
])
def test_the_api_refuses_bad_scores_and_stores_nothing(world, scores, status, detail):
    conversation = handled(world, world.alice)
    response = api(world.sam)("post", "/qa/reviews", {"conversation_id": conversation.pk, "scores": scores})
    assert response.status_code == status, response.content
    assert response.json()["detail"] == detail
    assert not AuditEntry.objects.filter(action="qa.review_created").exists()


# --- editing: versions ------------------------------------------------------------------------------


NEW = [
    {"key": "greeting", "label": "Warm welcome", "description": "Name, practice, warmth.", "max": 8},
    {"label": "Next steps", "description": "Says what happens next.", "max": 2},
]


def test_an_edit_is_a_new_version_and_old_reviews_keep_theirs(world):
    first = handled(world, world.alice)
    old = api(world.sam)("post", "/qa/reviews", {"conversation_id": first.pk, "scores": SCORES}).json()
    before = api(world.alice)("get", "/qa/rubric").json()

    response = api(world.sam)("put", "/qa/rubric", {"name": "Calls and texts", "criteria": NEW})
    assert response.status_code == 200, response.content
    rubric = response.json()
    assert rubric["id"] != before["id"] and rubric["is_active"] and rubric["name"] == "Calls and texts"
    assert [(c["key"], c["label"], c["max"]) for c in rubric["criteria"]] == [
        ("greeting", "Warm welcome", 8), ("next_steps", "Next steps", 2)]
    assert Rubric.objects.filter(practice=world.practice, is_active=True).get().pk == rubric["id"]
    changed = AuditEntry.objects.get(action="qa.rubric_changed")
    assert changed.detail == {"previous_rubric_id": before["id"], "criteria": {"greeting": 8, "next_steps": 2}}

    # The old review still reads, and is changed, against the rubric it was written with.
    kept = api(world.sam)("get", f"/qa/reviews/{old['id']}").json()
    assert kept["rubric_id"] == before["id"] and [c["key"] for c in kept["criteria"]] == list(SCORES)
    assert api(world.sam)("put", f"/qa/reviews/{old['id']}", {"scores": {**SCORES, "empathy": 4}}).json()[
        "points"] == 17
    # A new review uses the new one.
    second = handled(world, world.alice)
    new = api(world.sam)("post", "/qa/reviews", {"conversation_id": second.pk,
                                                 "scores": {"greeting": 6, "next_steps": 2}})
    assert new.status_code == 201 and (new.json()["rubric_id"], new.json()["percent"]) == (rubric["id"], 80.0)
    assert api(world.sam)("post", "/qa/reviews", {"conversation_id": handled(world, world.alice).pk,
                                                  "scores": SCORES}).status_code == 400

    # The same rubric again changes nothing.
    same = api(world.sam)("put", "/qa/rubric", {"name": "Calls and texts", "criteria": rubric["criteria"]})
    assert same.json()["id"] == rubric["id"] and Rubric.objects.count() == 2


@pytest.mark.parametrize("criteria,status", [
    ([], 422),
    ([{"label": "Tone", "max": 0}], 422),
    ([{"label": "Tone", "max": True}], 422),
    ([{"label": "Tone", "max": 2}, {"label": "tone", "max": 3}], 400),
    ([{"label": "   ", "max": 2}], 400),
    ([{"label": f"C{n}", "max": 1} for n in range(21)], 422),
])
def test_a_rubric_that_cannot_be_scored_is_refused(world, criteria, status):
    response = api(world.sam)("put", "/qa/rubric", {"name": "Broken", "criteria": criteria})
    assert response.status_code == status, response.content
    assert not Rubric.objects.filter(name="Broken").exists()


def test_only_supervisors_change_the_rubric(world):
    assert api(world.alice)("put", "/qa/rubric", {"name": "Mine", "criteria": NEW}).status_code == 403
    assert signed_in(world.alice).get("/console/qa/rubric/").status_code == 403
    assert not AuditEntry.objects.filter(action="qa.rubric_changed").exists()


def test_the_rubric_page_renames_removes_and_adds(world):
    client = signed_in(world.sam)
    page = client.get("/console/qa/rubric/")
    assert page.status_code == 200 and b'value="Greeting"' in page.content
    criteria = rubrics.DEFAULT_CRITERIA
    form = {"name": "Conversation quality", "criteria-TOTAL_FORMS": "7", "criteria-INITIAL_FORMS": "5",
            "criteria-MIN_NUM_FORMS": "0", "criteria-MAX_NUM_FORMS": "20"}
    for n, c in enumerate(criteria):
        form.update({f"criteria-{n}-key": c["key"], f"criteria-{n}-label": c["label"],
                     f"criteria-{n}-description": c["description"], f"criteria-{n}-max": str(c["max"])})
    form["criteria-0-label"] = "Opening"  # renamed: still the greeting
    form["criteria-4-DELETE"] = "on"
    form.update({"criteria-5-label": "Next steps", "criteria-5-max": "2", "criteria-5-description": ""})
    saved = client.post("/console/qa/rubric/", form)
    assert saved.status_code == 302, saved.content.decode()[:3000]
    active = rubrics.active_rubric(world.practice.pk)
    assert [(c["key"], c["label"], c["max"]) for c in active.criteria] == [
        ("greeting", "Opening", 4), ("empathy", "Empathy", 4), ("accuracy", "Accuracy", 4),
        ("compliance", "Compliance", 4), ("next_steps", "Next steps", 2)]
    assert AuditEntry.objects.filter(action="qa.rubric_changed").count() == 1

    form["criteria-5-max"] = "0"
    refused = client.post("/console/qa/rubric/", form)
    assert refused.status_code == 400 and b"greater than or equal to 1" in refused.content
