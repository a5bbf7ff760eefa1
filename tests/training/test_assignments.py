"""Supervisors assign scenarios (optional due date); an assignment is done
when the agent finishes a run of it after it was assigned; the supervisor
sees each assignment's status."""

from datetime import timedelta

from django.test import Client

from hub.models import AuditEntry
from hub.training.assignments import assignments_for
from hub.training.scenarios import load_scenarios


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def assign(user, scenario, user_ids, due=None):
    body = {"scenario": scenario, "user_ids": user_ids, "due": due.isoformat() if due else None}
    return client_for(user).post("/api/v1/training/assignments", body, content_type="application/json")


def local_today(world, clock):
    return clock.now.astimezone(world.practice.tz).date()


def finish(player, user, slug="chest-pain-red-flag"):
    p = player(user)
    p.start(slug)
    return p.escalate("nurse")


def test_assign_play_and_complete(world, player, frozen_clock):
    due = local_today(world, frozen_clock) + timedelta(days=3)
    response = assign(world.sam, "chest-pain-red-flag", [world.alice.pk, world.bob.pk], due)
    assert response.status_code == 201, response.content
    assert {a["user_name"] for a in response.json()} == {"Alice Adams", "Bob Brown"}
    assert all(a["status"] == "open" and a["due"] == due.isoformat() for a in response.json())

    mine = {s["slug"]: s for s in client_for(world.alice).get("/api/v1/training/scenarios").json()}
    assert mine["chest-pain-red-flag"]["assignment"]["status"] == "open"
    assert mine["billing-dispute"]["assignment"] is None
    hers = client_for(world.alice).get("/api/v1/training/assignments").json()
    assert [a["user_id"] for a in hers] == [world.alice.pk]

    run = finish(player, world.alice)
    statuses = {a.user_id: a for a in assignments_for(world.practice.pk)}
    assert statuses[world.alice.pk].status == "done" and statuses[world.alice.pk].run_id == run["id"]
    assert statuses[world.alice.pk].score == 100
    assert statuses[world.bob.pk].status == "open"
    assert statuses[world.alice.pk].scenario_title == "Chest pain: a red-flag caller"

    frozen_clock.advance(days=4)
    statuses = {a["user_id"]: a for a in client_for(world.sam).get("/api/v1/training/assignments").json()}
    assert statuses[world.bob.pk]["status"] == "overdue" and statuses[world.alice.pk]["status"] == "done"
    finish(player, world.bob)
    statuses = {a.user_id: a.status for a in assignments_for(world.practice.pk)}
    assert statuses[world.bob.pk] == "late"
    assert AuditEntry.objects.filter(action="training.assigned").count() == 2


def test_a_run_finished_before_the_assignment_does_not_complete_it(world, player, frozen_clock):
    finish(player, world.alice)
    frozen_clock.advance(minutes=1)
    assign(world.sam, "chest-pain-red-flag", [world.alice.pk])
    assert [a.status for a in assignments_for(world.practice.pk)] == ["open"]
    p = player(world.alice)
    p.start("chest-pain-red-flag")  # an unfinished run does not complete it either
    assert [a.status for a in assignments_for(world.practice.pk)] == ["open"]


def test_assigning_again_changes_the_due_date_of_the_open_assignment(world, frozen_clock):
    today = local_today(world, frozen_clock)
    assign(world.sam, "billing-dispute", [world.bob.pk], today + timedelta(days=1))
    again = assign(world.sam, "billing-dispute", [world.bob.pk], today + timedelta(days=7)).json()
    everything = assignments_for(world.practice.pk)
    assert len(everything) == 1 and everything[0].id == again[0]["id"]
    assert everything[0].due == today + timedelta(days=7)


def test_withdrawing_an_assignment(world, other_world):
    made = assign(world.sam, "billing-dispute", [world.bob.pk]).json()[0]
    url = f"/api/v1/training/assignments/{made['id']}"
    assert client_for(world.bob).delete(url).status_code == 403
    assert client_for(other_world.sam).delete(url).status_code == 404
    assert client_for(world.sam).delete(url).status_code == 204
    assert assignments_for(world.practice.pk) == []
    assert AuditEntry.objects.filter(action="training.assignment_removed").count() == 1


def test_who_can_be_assigned_what(world, other_world, frozen_clock):
    assert assign(world.alice, "billing-dispute", [world.bob.pk]).status_code == 403
    assert assign(world.sam, "no-such-scenario", [world.bob.pk]).status_code == 404
    assert assign(world.sam, "billing-dispute", [other_world.alice.pk]).status_code == 404
    assert assign(world.sam, "billing-dispute", [world.integration.pk]).status_code == 404
    past = assign(world.sam, "billing-dispute", [world.bob.pk], local_today(world, frozen_clock) - timedelta(days=1))
    assert past.status_code == 400 and past.json()["detail"] == "The due date is in the past."
    assert assign(world.sam, "billing-dispute", []).status_code == 422
    assert assignments_for(world.practice.pk) == []
    assert assignments_for(other_world.practice.pk) == []


def test_the_training_signals_interface(world):
    """What the training-signals page reads: the scenarios (slug, title,
    summary, department, topics, skills) and a practice's assignments."""
    scenario = next(s for s in load_scenarios() if s.slug == "billing-dispute")
    assert (scenario.title, scenario.department, scenario.topics) == ("A billing dispute", "billing",
                                                                      ("bill", "insurance"))
    assert scenario.summary and scenario.skills
    assert load_scenarios() == load_scenarios()  # cached: the same objects until a file changes
    assert load_scenarios()[0] is load_scenarios()[0]
