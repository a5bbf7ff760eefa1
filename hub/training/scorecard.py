"""The automatic scorecard of a finished run, from its transcript alone.

Four checks, 25 points each (docs/training.md):
- response times: each agent action that answers patient messages is
  timed from the moment the earliest of them became visible; the share of
  those within the scenario's target earns the points;
- routing and escalation: at least one action the scenario expects (e.g.
  escalating to 911 advice), within its time limit if it has one, and no
  transfer or escalation it does not expect;
- identity before details: no reply that discloses a detail before the
  patient was verified (for scenarios that require verification);
- resolution: the run ended with the patient's need met.
"""

from __future__ import annotations

from statistics import mean

from hub.training.engine import DISCLOSED_UNVERIFIED, PlayState, action_of, in_order, moment
from hub.training.scenarios import DEPARTMENTS, ESCALATIONS, Scenario

POINTS_PER_CHECK = 25


def response_times(transcript: list[dict]) -> list[float]:
    """Seconds from the earliest unanswered visible patient message to the
    agent action that followed, for every action that answered something."""
    times, since = [], None
    for entry in in_order(transcript):
        if entry["kind"] == "patient" and since is None:
            since = moment(entry["at"])
        elif entry["kind"] == "agent":
            if since is not None:
                times.append(round((moment(entry["at"]) - since).total_seconds(), 1))
            since = None
    return times


def _response(scenario: Scenario, transcript: list[dict]) -> dict:
    times = response_times(transcript)
    target = scenario.target_response_seconds
    within = sum(1 for t in times if t <= target)
    return {
        "target_seconds": target,
        "count": len(times),
        "within_target": within,
        "first_seconds": times[0] if times else None,
        "average_seconds": round(mean(times), 1) if times else None,
        "slowest_seconds": max(times) if times else None,
        "ok": bool(times) and within == len(times),
        "points": round(POINTS_PER_CHECK * within / len(times)) if times else 0,
    }


def action_label(entry: dict) -> str:
    """How an agent action reads on the scorecard."""
    kind = entry["action"]
    if kind == "transfer":
        return f"Transfer to {DEPARTMENTS.get(entry.get('department', ''), entry.get('department', ''))}"
    if kind == "escalate":
        return ESCALATIONS.get(entry.get("to", ""), "Escalate")
    if kind == "resolve":
        return "Resolve"
    return "Reply"


def _routing_label(entry: dict, expected) -> str:
    """A routing action; a reply by the expectation it met ("A reply with
    emergency advice")."""
    if entry["action"] != "reply":
        return action_label(entry)
    return next(m.label for m in expected if m.matches(action_of(entry)))


def _routing(scenario: Scenario, transcript: list[dict]) -> dict:
    expected = scenario.routing.expected
    agent = [e for e in transcript if e["kind"] == "agent"]
    started = min((moment(e["at"]) for e in transcript if e["kind"] == "patient"), default=None)
    hits = [e for e in agent if any(m.matches(action_of(e)) for m in expected)]
    wrong = [e for e in agent if e["action"] in ("transfer", "escalate") and e not in hits]
    took = round((moment(hits[0]["at"]) - started).total_seconds(), 1) if hits and started else None
    limit = scenario.routing.within_seconds
    too_slow = limit is not None and took is not None and took > limit
    if wrong:
        detail = f"{action_label(wrong[0])} was not the right route for this patient."
    elif not hits:
        detail = "The patient was not routed the way this scenario needs."
    elif too_slow:
        detail = f"Routed correctly, but after {took:g} seconds (the limit is {limit})."
    else:
        detail = "Routed correctly."
    ok = bool(hits) and not wrong and not too_slow
    return {
        "ok": ok,
        "expected": [m.label for m in expected],
        "taken": [_routing_label(e, expected) for e in agent if e["action"] != "reply" or e in hits],
        "within_seconds": limit,
        "took_seconds": took,
        "detail": detail,
        "points": POINTS_PER_CHECK if ok else 0,
    }


def _compliance(scenario: Scenario, state: PlayState) -> dict:
    misses = [{"at": e["at"], "text": e.get("text", "")} for e in state.transcript
              if e["kind"] == "agent" and DISCLOSED_UNVERIFIED in e.get("flags", ())]
    applies = scenario.requires_verification
    ok = not misses
    if not applies:
        detail = "This scenario needs no identity check."
    elif misses:
        detail = "Details were disclosed before the patient's identity was verified."
    elif state.verified_at is not None:
        detail = "Identity was verified before any detail was disclosed."
    else:
        detail = "No detail was disclosed (the patient was never verified)."
    return {"applies": applies, "ok": ok, "verified": state.verified_at is not None, "misses": misses,
            "detail": detail, "points": POINTS_PER_CHECK if ok else 0}


def build(scenario: Scenario, state: PlayState) -> dict:
    """The scorecard of a finished run."""
    response = _response(scenario, state.transcript)
    routing = _routing(scenario, state.transcript)
    compliance = _compliance(scenario, state)
    resolution = {"ok": bool(state.need_met), "outcome": state.outcome, "summary": state.summary,
                  "points": POINTS_PER_CHECK if state.need_met else 0}
    feedback = [{"at": e["at"], "action": action_label(e), "text": e.get("text", ""), "feedback": e["feedback"]}
                for e in state.transcript if e["kind"] == "agent" and e.get("feedback")]
    score = response["points"] + routing["points"] + compliance["points"] + resolution["points"]
    return {"score": score, "response": response, "routing": routing, "compliance": compliance,
            "resolution": resolution, "feedback": feedback}
