"""Who sees which runs, and the supervisor's rubric review: agents see only
their own runs, supervisors their practice's, another practice's run does
not exist, and a review is visible to the agent on their scorecard."""

import pytest
from django.test import Client

from hub.models import AuditEntry
from hub.qa.models import Rubric
from tests.conftest import make_user

SCORES = {"greeting": 4, "empathy": 3, "accuracy": 4, "compliance": 2, "resolution": 4}


def finished_run(player, user, slug="chest-pain-red-flag"):
    p = player(user)
    p.start(slug)
    p.escalate("nurse")
    return p


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def review(user, run_id, scores=SCORES, comment="Good instincts. Advise 911 yourself next time."):
    return client_for(user).post(f"/api/v1/training/runs/{run_id}/review", {"scores": scores, "comment": comment},
                                 content_type="application/json")


def test_a_supervisor_scores_a_run_and_the_agent_sees_it(world, player):
    p = finished_run(player, world.alice)
    run_id = p.run["id"]
    team = client_for(world.sam).get("/api/v1/training/runs?team=true").json()
    assert [r["id"] for r in team] == [run_id] and not team[0]["reviewed"]

    opened = client_for(world.sam).get(f"/api/v1/training/runs/{run_id}").json()
    assert opened["may_review"] and not opened["may_act"] and opened["scorecard"]["score"] == 100
    assert [c["key"] for c in opened["rubric"]["criteria"]] == list(SCORES)

    response = review(world.sam, run_id)
    assert response.status_code == 200, response.content
    reviewed = response.json()["review"]
    assert reviewed["points"] == 17 and reviewed["possible"] == 20 and reviewed["percent"] == 85.0
    assert reviewed["reviewer_name"] == "Sam Stone"

    seen = p.state()
    assert seen["review"]["comment"] == "Good instincts. Advise 911 yourself next time."
    assert {c["key"]: c["score"] for c in seen["review"]["criteria"]} == SCORES
    assert seen["rubric"] is None and not seen["may_review"]
    assert p.get("/runs").json()[0]["review_percent"] == 85.0
    rubric = Rubric.objects.get(practice=world.practice, is_active=True)
    assert seen["review"]["rubric_id"] == rubric.pk
    entry = AuditEntry.objects.get(action="training.run_reviewed")
    assert entry.user_id == world.sam.pk and entry.detail["percent"] == 85.0


def test_scoring_again_replaces_the_review(world, player):
    run_id = finished_run(player, world.alice).run["id"]
    review(world.sam, run_id)
    again = review(world.sam, run_id, {**SCORES, "compliance": 4}, comment="").json()["review"]
    assert again["points"] == 19 and again["comment"] == ""


@pytest.mark.parametrize("scores,detail", [
    ({**SCORES, "greeting": 5}, "Score Greeting from 0 to 4."),
    ({k: v for k, v in SCORES.items() if k != "empathy"}, "Score Empathy from 0 to 4."),
    ({**SCORES, "charm": 1}, "Not a criterion of this rubric: charm."),
])
def test_scores_are_checked_against_the_rubric(world, player, scores, detail):
    run_id = finished_run(player, world.alice).run["id"]
    response = review(world.sam, run_id, scores)
    assert response.status_code == 400 and response.json()["detail"] == detail


def test_who_may_review(world, other_world, player):
    alice_run = finished_run(player, world.alice).run["id"]
    assert review(world.bob, alice_run).status_code == 403  # agents do not review
    assert review(other_world.sam, alice_run).status_code == 404  # another practice's run does not exist
    sams_run = finished_run(player, world.sam).run["id"]
    assert review(world.sam, sams_run).status_code == 403  # never your own
    team = client_for(world.sam).get("/api/v1/training/runs?team=true").json()
    assert [r["id"] for r in team] == [alice_run]
    running = player(world.bob)
    running.start("billing-dispute")
    assert review(world.sam, running.run["id"]).status_code == 409


def test_agents_see_only_their_own_runs(world, other_world, player):
    alice = finished_run(player, world.alice)
    run_id = alice.run["id"]
    for path in (f"/runs/{run_id}",):
        assert client_for(world.bob).get(f"/api/v1/training{path}").status_code == 404
        assert client_for(other_world.sam).get(f"/api/v1/training{path}").status_code == 404
    assert client_for(world.bob).get("/api/v1/training/runs").json() == []
    assert client_for(world.bob).get("/api/v1/training/runs?team=true").status_code == 403

    bob = player(world.bob)
    bob.start("billing-dispute")
    for client in (client_for(world.alice), client_for(world.sam), client_for(other_world.alice)):
        response = client.post(f"/api/v1/training/runs/{bob.run['id']}/actions", {"kind": "resolve"},
                               content_type="application/json")
        assert response.status_code == 404  # a run is played by its owner only
    assert client_for(world.sam).get(f"/api/v1/training/runs/{bob.run['id']}").status_code == 200
    assert client_for(other_world.sam).get("/api/v1/training/runs?team=true").json() == []


def test_integrations_and_strangers_cannot_practise(world):
    bearer = {"HTTP_AUTHORIZATION": f"Bearer {world.token}"}
    response = Client().post("/api/v1/training/runs", {"scenario": "billing-dispute"},
                             content_type="application/json", **bearer)
    assert response.status_code == 403
    assert Client().get("/api/v1/training/scenarios").status_code == 401
    nobody = make_user(world.practice, "nobody", "agent")
    nobody.agent.delete()
    assert client_for(nobody).get("/api/v1/training/scenarios").status_code == 403
    assert client_for(nobody).get("/console/training/").status_code == 403


@pytest.mark.parametrize("body,status", [
    ({"scenario": "no-such-scenario"}, 404),
    ({"scenario": "Not a slug"}, 422),
    ({}, 422),
])
def test_starting_refuses_bad_input(world, body, status):
    response = client_for(world.alice).post("/api/v1/training/runs", body, content_type="application/json")
    assert response.status_code == status


@pytest.mark.parametrize("body,status,detail", [
    ({"kind": "reply", "text": "   "}, 400, "Write a reply first."),
    ({"kind": "transfer"}, 400, "Choose a department to transfer to"),
    ({"kind": "escalate"}, 400, "Choose how to escalate"),
    ({"kind": "transfer", "department": "radiology"}, 422, "department"),
    ({"kind": "dance"}, 422, "kind"),
    ({"kind": "reply", "text": "x" * 2001}, 422, "text"),
])
def test_acting_refuses_bad_input(world, player, body, status, detail):
    p = player(world.alice)
    p.start("billing-dispute")
    response = p.post(f"/runs/{p.run['id']}/actions", body)
    assert response.status_code == status and detail in response.json()["detail"]


def test_a_finished_run_takes_no_more_actions_and_a_new_start_abandons_the_old(world, player):
    p = finished_run(player, world.alice)
    response = p.post(f"/runs/{p.run['id']}/actions", {"kind": "resolve"})
    assert response.status_code == 409 and response.json()["code"] == "ended"
    first = p.start("billing-dispute")["id"]
    second = p.start("anxious-back-pain")["id"]
    runs = {r["id"]: r for r in p.get("/runs").json()}
    assert runs[first]["status"] == "abandoned" and runs[second]["status"] == "in_progress"
    scenarios = {s["slug"]: s for s in p.get("/scenarios").json()}
    assert scenarios["anxious-back-pain"]["in_progress_run_id"] == second
    assert scenarios["billing-dispute"]["in_progress_run_id"] is None
    assert scenarios["chest-pain-red-flag"]["runs"] == 1 and scenarios["chest-pain-red-flag"]["best_score"] == 100


def test_an_abandoned_run_stops_where_it_was_left(world, player, frozen_clock):
    p = player(world.alice)
    p.run = p.post("/runs", {"scenario": "anxious-back-pain"}).json()
    frozen_clock.advance(seconds=2)  # one message of three is visible
    left = p.run["id"]
    p.start("billing-dispute")
    frozen_clock.advance(minutes=5)
    run = p.get(f"/runs/{left}").json()
    assert run["status"] == "abandoned" and run["outcome"] == "abandoned"
    assert [e["text"] for e in run["entries"]] == ["hi, is anyone there?"]
    assert not run["typing"] and run["next_message_in"] is None and run["scorecard"] is None
    assert not run["may_act"]
