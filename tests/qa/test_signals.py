"""Training signals: an agent who transfers far more than the practice is
listed, with articles and scenarios from the knowledge base and practice
apps, and assigning them shows on the page. The history is played through
the hub's own actions and rolled up by the KPI module."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from hub.lib import access
from hub.models import Topic
from hub.qa import partners
from kpi import rollup
from tests.qa.conftest import handled, signed_in

NOW = datetime(2025, 3, 12, 18, tzinfo=UTC)
RANGE = {"from": "2025-03-01", "to": "2025-03-12"}


@pytest.fixture
def history(world, frozen_clock):
    """Alice picks up six conversations and transfers four to Billing, where
    Bob resolves them as bill questions; Bob handles six bill questions
    himself. Practice transfer rate 4/12; Alice 4/6, Bob 0/10."""
    frozen_clock.set(NOW)
    bill = Topic.objects.get(practice=world.practice, slug="bill")
    for n in range(6):
        if n < 4:
            handled(world, world.alice, transfer_to=world.billing, finisher=world.bob, resolved_as=bill)
        else:
            handled(world, world.alice)
        handled(world, world.bob, topic="bill")
    rollup.rebuild()
    frozen_clock.advance(minutes=30)
    return bill


@pytest.fixture
def article(world):
    from hub.knowledge.actions import Draft, save_article

    return save_article(access.viewer_for(world.sam), None, Draft(
        title="Explaining a bill", category="insurance", body="Walk the patient through each line of the bill."))


def _billing_scenarios() -> list[str]:
    return [s.title for s in partners.load_scenarios() if "bill" in s.topics or s.department == "billing"]


def test_an_agent_who_transfers_more_than_the_practice_is_listed_with_suggestions(world, history, article):
    response = signed_in(world.sam).get("/console/qa/signals/", RANGE)
    assert response.status_code == 200
    found = response.context["signals"]
    assert [s.name for s in found.agents] == ["Alice Adams"]
    alice = found.agents[0]
    assert alice.key == world.alice.pk and alice.weak_topics == ["Bill question"]
    figures = dict((label, cell.text) for label, cell in alice.figures)
    assert figures["Conversations"] == "6" and figures["Transfer rate"] == "66.7%"
    assert [a.title for a in alice.articles] == ["Explaining a bill"]
    assert _billing_scenarios() and [s.title for s in alice.scenarios] == _billing_scenarios()
    assert [t.name for t in found.topics] == ["Bill question"]
    html = response.content.decode()
    assert "Practice over this range: transfer rate <strong>33.3%</strong>" in html
    assert f'value="article:{article.pk}"' in html and "Assign to Alice Adams" in html


def test_assigning_from_a_signal_shows_in_the_progress(world, history, article):
    client = signed_in(world.sam)
    slug = next(s.slug for s in partners.load_scenarios() if s.department == "billing")
    response = client.post("/console/qa/signals/assign", {
        **RANGE, "item": [f"article:{article.pk}", f"scenario:{slug}"], "user": [str(world.alice.pk)],
        "due": "2025-03-20"})
    assert response.status_code == 302
    assert response["Location"] == "/console/qa/signals/?from=2025-03-01&to=2025-03-12"
    page = client.get(response["Location"])
    assert "Assigned 2 items to 1 person, due 2025-03-20." in page.content.decode()
    progress = {p.title: p for p in page.context["progress"]}
    articles, scenarios = progress["Knowledge-base articles"], progress["Role-play scenarios"]
    assert (articles.assigned, articles.completed, articles.overdue) == (1, 0, 0)
    assert (scenarios.assigned, scenarios.rows[0].assignee) == (1, "Alice Adams")

    refused = client.post("/console/qa/signals/assign", {**RANGE, "user": [str(world.alice.pk)]})
    assert "Tick at least one article or scenario" in client.get(refused["Location"]).content.decode()
    assert client.post("/console/qa/signals/assign", {"item": "article:1"}).status_code == 302
    assert signed_in(world.alice).post("/console/qa/signals/assign", {"item": "article:1"}).status_code == 403


def test_without_the_knowledge_and_practice_apps_the_page_shows_none(world, history, monkeypatch):
    for name in ("ARTICLE_SEARCH", "ARTICLE_ASSIGN", "SCENARIOS", "SCENARIO_ASSIGN"):
        monkeypatch.setattr(partners, name, "hub.not_installed_here")
    response = signed_in(world.sam).get("/console/qa/signals/", RANGE)
    assert response.status_code == 200
    alice = response.context["signals"].agents[0]
    assert alice.suggestions == [] and "None." in response.content.decode()
    assert [p.assigned for p in response.context["progress"]] == [0, 0]


def test_signals_are_for_supervisors(world):
    assert signed_in(world.alice).get("/console/qa/signals/").status_code == 403
    assert signed_in(world.sam).get("/console/qa/signals/", {"to": "nonsense"}).status_code == 400
