"""Playing a scenario: what happens when the agent acts, as pure functions
over a run's state (no database, no clock of its own), so that a whole run
can be reasoned about and tested from a transcript.

Timing: each patient message becomes visible `delay` seconds after the one
before it, the first counted from the moment the node was entered (the
start of the run, or the agent's action). A node entered while earlier
messages are still being "typed" queues behind them. Messages carry the
moment they become visible; the server shows only those already visible,
and response times are measured from those moments.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from hub.training.scenarios import Action, End, Node, Scenario

# Flags an agent entry can carry.
DISCLOSED_UNVERIFIED = "disclosed_unverified"

IMPLICIT_OUTCOME = {"transfer": "transferred", "escalate": "escalated", "resolve": "resolved"}


def stamp(moment: datetime) -> str:
    return moment.isoformat()


def moment(text: str) -> datetime:
    return datetime.fromisoformat(text)


@dataclass
class PlayState:
    """A run as the engine sees it."""

    node: str
    transcript: list[dict] = field(default_factory=list)
    verified_at: datetime | None = None
    ended: bool = False
    outcome: str = ""
    need_met: bool | None = None
    summary: str = ""

    def is_verified(self, at: datetime) -> bool:
        return self.verified_at is not None and self.verified_at <= at


def begin(scenario: Scenario, now: datetime) -> PlayState:
    """A new run at the start node; its messages start arriving now."""
    state = PlayState(node=scenario.start)
    _enter(state, scenario.nodes[scenario.start], now)
    return state


def act(scenario: Scenario, state: PlayState, action: Action, now: datetime) -> PlayState:
    """Record the agent's action and follow the first rule of the current
    node that matches it. A reply no rule matches leaves the patient silent
    on the same node; a transfer, escalation or resolve no rule matches ends
    the run there, with the patient's need not met."""
    if state.ended:
        raise ValueError("the run has ended")
    node = scenario.nodes[state.node]
    verified = state.is_verified(now)
    entry = {"kind": "agent", "action": action.kind, "at": stamp(now), "node": node.id}
    if action.kind == "reply":
        entry.update(text=action.text, intents=list(action.intents))
    elif action.kind == "transfer":
        entry["department"] = action.department
    elif action.kind == "escalate":
        entry["to"] = action.to
    if scenario.requires_verification and "discloses" in action.intents and not verified:
        entry["flags"] = [DISCLOSED_UNVERIFIED]
    rule = next((r for r in node.rules if r.applies(action, verified)), None)
    if rule is not None and rule.feedback:
        entry["feedback"] = rule.feedback
    state.transcript.append(entry)
    if rule is not None:
        _enter(state, scenario.nodes[rule.to], now)
    elif action.kind != "reply":
        _finish(state, End(outcome=IMPLICIT_OUTCOME[action.kind], need_met=False,
                           summary="The patient's conversation ended here without what they needed."))
    return state


def action_of(entry: dict) -> Action:
    """The action an agent entry of the transcript records."""
    return Action(kind=entry["action"], text=entry.get("text", ""), department=entry.get("department", ""),
                  to=entry.get("to", ""), intents=tuple(entry.get("intents", ())))


def _enter(state: PlayState, node: Node, now: datetime) -> None:
    state.node = node.id
    at = max([now, *(moment(e["at"]) for e in state.transcript if e["kind"] == "patient")])
    for message in node.patient:
        at += timedelta(seconds=message.delay)
        state.transcript.append({"kind": "patient", "node": node.id, "text": message.text, "at": stamp(at)})
    if node.verifies and state.verified_at is None:
        state.verified_at = at
        state.transcript.append({"kind": "system", "node": node.id, "event": "verified", "at": stamp(at)})
    if node.end is not None:
        _finish(state, node.end)


def _finish(state: PlayState, end: End) -> None:
    state.ended = True
    state.outcome, state.need_met, state.summary = end.outcome, end.need_met, end.summary


# --- what is visible when ------------------------------------------------------------

def in_order(transcript: list[dict]) -> list[dict]:
    """Entries by the moment they happen(ed); entries of the same moment in
    the order they were recorded (a patient message entered by an action
    comes after it)."""
    return sorted(transcript, key=lambda e: moment(e["at"]))


def visible(transcript: list[dict], now: datetime) -> list[dict]:
    """The entries visible at `now`, in order."""
    return [e for e in in_order(transcript) if moment(e["at"]) <= now]


def next_visible_at(transcript: list[dict], now: datetime) -> datetime | None:
    """When the next patient message appears (None: none is pending)."""
    pending = [moment(e["at"]) for e in transcript if e["kind"] == "patient" and moment(e["at"]) > now]
    return min(pending, default=None)


def waiting_since(transcript: list[dict], now: datetime) -> datetime | None:
    """When the earliest patient message the agent has not yet answered
    became visible (None: nothing is waiting for them)."""
    since = None
    for entry in visible(transcript, now):
        if entry["kind"] == "agent":
            since = None
        elif entry["kind"] == "patient" and since is None:
            since = moment(entry["at"])
    return since
