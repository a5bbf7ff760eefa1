"""Trends per agent on a small known set of reviews: counts, averages, each
criterion (across two rubric versions) and the weeks."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from tests.qa.conftest import SCORES, api, handled, signed_in

RANGE = {"from": "2025-03-03", "to": "2025-03-16"}  # two weeks, Monday to Sunday


@pytest.fixture
def reviewed(world, frozen_clock):
    """Alice: 100% and 55% in the week of 3 March, 80% and (on a new rubric)
    75% in the week of 10 March. Bob: 60% in the week of 10 March."""
    sam = api(world.sam)

    def review(agent, at, scores):
        frozen_clock.set(at)
        conversation = handled(world, agent, topic="bill" if agent == world.bob else "")
        response = sam("post", "/qa/reviews", {"conversation_id": conversation.pk, "scores": scores})
        assert response.status_code == 201, response.content

    review(world.alice, datetime(2025, 3, 4, 15, tzinfo=UTC), dict.fromkeys(SCORES, 4))
    review(world.alice, datetime(2025, 3, 5, 15, tzinfo=UTC), {**dict.fromkeys(SCORES, 2), "greeting": 3})
    review(world.alice, datetime(2025, 3, 11, 15, tzinfo=UTC), SCORES)
    review(world.bob, datetime(2025, 3, 12, 15, tzinfo=UTC), {**SCORES, "greeting": 0})
    assert sam("put", "/qa/rubric", {"name": "Short", "criteria": [
        {"key": "greeting", "label": "Warm welcome", "max": 8}, {"key": "empathy", "label": "Empathy", "max": 4},
    ]}).status_code == 200
    review(world.alice, datetime(2025, 3, 13, 15, tzinfo=UTC), {"greeting": 6, "empathy": 3})
    # Outside the range: not counted.
    review(world.alice, datetime(2025, 3, 20, 15, tzinfo=UTC), {"greeting": 0, "empathy": 0})


def test_trends_per_agent_from_the_api(world, reviewed):
    response = api(world.sam)("get", "/qa/trends?from=2025-03-03&to=2025-03-16")
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["from"], body["to"]) == ("2025-03-03", "2025-03-16")
    assert [(c["key"], c["label"]) for c in body["criteria"]] == [
        ("greeting", "Warm welcome"), ("empathy", "Empathy"), ("accuracy", "Accuracy"),
        ("compliance", "Compliance"), ("resolution", "Resolution")]
    agents = {a["name"]: a for a in body["agents"]}
    alice, bob = agents["Alice Adams"], agents["Bob Brown"]
    assert (alice["reviews"], alice["average_percent"]) == (4, 77.5)
    # Shares of each criterion's maximum: greeting 4/4, 3/4, 4/4 and 6/8.
    assert alice["criteria"] == {"greeting": 87.5, "empathy": 75.0, "accuracy": 83.3, "compliance": 66.7,
                                 "resolution": 75.0}
    assert alice["weeks"] == [{"week": "2025-03-03", "reviews": 2, "average_percent": 77.5},
                              {"week": "2025-03-10", "reviews": 2, "average_percent": 77.5}]
    assert (bob["reviews"], bob["average_percent"], bob["criteria"]["greeting"]) == (1, 60.0, 0.0)
    assert bob["weeks"][0] == {"week": "2025-03-03", "reviews": 0, "average_percent": None}

    only_bob = api(world.sam)("get", f"/qa/trends?from=2025-03-03&to=2025-03-16&agent={world.bob.pk}").json()
    assert [a["name"] for a in only_bob["agents"]] == ["Bob Brown"]


def test_the_trends_page_has_the_table_and_the_chart_series(world, reviewed):
    response = signed_in(world.sam).get("/console/qa/trends/", RANGE)
    assert response.status_code == 200
    html = response.content.decode()
    boot = json.loads(html.split('id="qa-trends-boot" type="application/json">')[1].split("</script>")[0])
    assert boot["chart"]["labels"] == ["2025-03-03", "2025-03-10"]
    assert {d["label"]: d["data"] for d in boot["chart"]["datasets"]} == {"Alice Adams": [77.5, 77.5],
                                                                         "Bob Brown": [None, 60.0]}
    assert "vendor/chartjs/chart.umd.min.js" in html and "console/qa-trends.js" in html
    assert 'id="trend-agents"' in html and "<td class=\"num\">87.5%</td>" in html
    assert "<script>" not in html  # no inline scripts under the CSP


def test_trends_are_for_supervisors(world):
    assert api(world.alice)("get", "/qa/trends").status_code == 403
    assert signed_in(world.alice).get("/console/qa/trends/").status_code == 403
    assert api(world.sam)("get", "/qa/trends?from=2025-03-16&to=2025-03-03").status_code == 400
