"""Role-play scenarios: YAML files read, validated and cached.

A scenario is data (docs/training.md says how to write one): who the
patient is, what they say, and a graph of nodes. At each node the patient
sends their messages, then the agent acts; the node's rules, tried in
order, say where the conversation goes for that action. End nodes say how
it ended. Loading checks everything a run relies on (every target exists,
every node is reachable and can reach an end, every matcher names a real
intent, department or escalation) and refuses the file with an error that
names it and the problem, so a bad scenario fails `manage.py check`, never
a run.
"""

from __future__ import annotations

import hashlib
import re
import threading
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import NoReturn

import yaml
from django.conf import settings

from hub.training.intents import INTENTS

DEFAULT_DIR = Path(__file__).resolve().parent / "scenarios"

# The departments scenarios are written against, by slug (a practice's own
# department of the same slug is the one meant).
DEPARTMENTS = {"scheduling": "Scheduling", "billing": "Billing", "intake": "New Patient Intake", "nurse": "Nurse Line"}
ESCALATIONS = {"911": "Advise 911 (emergency)", "nurse": "Urgent to the nurse line"}
CHANNELS = {"sms": "SMS", "chat": "Web chat", "voice": "Phone call (transcript)"}
OUTCOMES = ("resolved", "escalated", "transferred", "unresolved")
ACTION_KINDS = ("reply", "transfer", "escalate", "resolve")

SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
MAX_TEXT = 1000
MAX_DELAY = 120


class ScenarioError(ValueError):
    """A scenario file that cannot be used; the message names the file."""


# --- what an agent does, and what a rule matches ------------------------------

@dataclass(frozen=True)
class Action:
    """One agent action: a reply (with its intents), a transfer to a
    department, an escalation (nurse line or 911 advice) or resolving."""

    kind: str
    text: str = ""
    department: str = ""
    to: str = ""
    intents: tuple[str, ...] = ()

    @property
    def qualifiers(self) -> frozenset[str]:
        if self.kind == "reply":
            return frozenset(self.intents)
        if self.kind == "transfer":
            return frozenset({self.department})
        if self.kind == "escalate":
            return frozenset({self.to})
        return frozenset()


@dataclass(frozen=True)
class Matcher:
    """`reply`, `reply:<intent>`, `transfer`, `transfer:<department>`,
    `escalate`, `escalate:<nurse|911>`, `resolve`, or `any`."""

    kind: str
    qualifier: str = ""

    @classmethod
    def parse(cls, text: object) -> Matcher:
        if not isinstance(text, str):
            raise ValueError(f"a matcher is a text such as 'reply:empathy', not {text!r}")
        kind, _, qualifier = text.strip().partition(":")
        allowed = {"reply": INTENTS, "transfer": tuple(DEPARTMENTS), "escalate": tuple(ESCALATIONS),
                   "resolve": (), "any": ()}
        if kind not in allowed:
            raise ValueError(f"unknown action {kind!r} in {text!r} (use one of {', '.join(allowed)})")
        if qualifier and qualifier not in allowed[kind]:
            choices = ", ".join(allowed[kind]) or "nothing after the colon"
            raise ValueError(f"{text!r}: {qualifier!r} is not known here (use {choices})")
        return cls(kind, qualifier)

    def matches(self, action: Action) -> bool:
        if self.kind == "any":
            return True
        return self.kind == action.kind and (not self.qualifier or self.qualifier in action.qualifiers)

    @property
    def label(self) -> str:
        if self.kind == "transfer" and self.qualifier:
            return f"Transfer to {DEPARTMENTS[self.qualifier]}"
        if self.kind == "escalate" and self.qualifier:
            return ESCALATIONS[self.qualifier]
        if self.kind == "reply" and self.qualifier:
            return "A reply with " + self.qualifier.replace("_", " ")
        return {"reply": "Any reply", "transfer": "Any transfer", "escalate": "Any escalation",
                "resolve": "Resolve", "any": "Anything"}[self.kind]


# --- the scenario --------------------------------------------------------------

@dataclass(frozen=True)
class PatientMessage:
    text: str
    delay: float


@dataclass(frozen=True)
class Rule:
    when: tuple[Matcher, ...]
    to: str
    verified: bool | None = None
    feedback: str = ""

    def applies(self, action: Action, verified: bool) -> bool:
        if self.verified is not None and self.verified != verified:
            return False
        return any(m.matches(action) for m in self.when)


@dataclass(frozen=True)
class End:
    outcome: str
    need_met: bool
    summary: str


@dataclass(frozen=True)
class Node:
    id: str
    patient: tuple[PatientMessage, ...]
    rules: tuple[Rule, ...] = ()
    verifies: bool = False
    end: End | None = None


@dataclass(frozen=True)
class Persona:
    name: str
    about: str
    age: int | None = None


@dataclass(frozen=True)
class Routing:
    expected: tuple[Matcher, ...]
    within_seconds: int | None = None


@dataclass(frozen=True)
class Scenario:
    slug: str
    title: str
    summary: str
    channel: str
    department: str
    topics: tuple[str, ...]
    skills: tuple[str, ...]
    persona: Persona
    target_response_seconds: int
    requires_verification: bool
    routing: Routing
    start: str
    nodes: dict[str, Node] = field(repr=False)
    version: str = ""

    @property
    def department_label(self) -> str:
        return DEPARTMENTS[self.department]

    @property
    def channel_label(self) -> str:
        return CHANNELS[self.channel]


# --- reading and checking a file -------------------------------------------------

class _Reader:
    """Checks one mapping at a time, naming where a problem is."""

    def __init__(self, source: str):
        self.source = source

    def fail(self, where: str, problem: str) -> NoReturn:
        raise ScenarioError(f"{self.source}: {where}: {problem}" if where else f"{self.source}: {problem}")

    def mapping(self, value, where: str, *, required: set[str], optional: set[str] = frozenset()) -> dict:
        if not isinstance(value, dict):
            self.fail(where, "must be a mapping (key: value lines)")
        missing = sorted(required - set(value))
        if missing:
            self.fail(where, f"missing {', '.join(missing)}")
        unknown = sorted(str(k) for k in set(value) - required - set(optional))
        if unknown:
            allowed = ", ".join(sorted(required | set(optional)))
            self.fail(where, f"unknown key {', '.join(unknown)} (allowed: {allowed})")
        return value

    def text(self, value, where: str, *, max_length: int = MAX_TEXT, empty: bool = False) -> str:
        if not isinstance(value, str) or (not empty and not value.strip()):
            self.fail(where, "must be a non-empty text")
        if len(value) > max_length:
            self.fail(where, f"is longer than {max_length} characters")
        return value.strip()

    def slug(self, value, where: str) -> str:
        if not isinstance(value, str) or not SLUG.match(value):
            self.fail(where, f"{value!r} is not a slug (lower-case letters, digits and dashes)")
        return value

    def choice(self, value, where: str, choices) -> str:
        if value not in choices:
            self.fail(where, f"{value!r} is not one of {', '.join(choices)}")
        return value

    def number(self, value, where: str, low: float, high: float, *, integer: bool = False):
        kinds = (int,) if integer else (int, float)
        if isinstance(value, bool) or not isinstance(value, kinds) or not low <= value <= high:
            self.fail(where, f"must be a {'whole ' if integer else ''}number from {low} to {high}")
        return value

    def boolean(self, value, where: str) -> bool:
        if not isinstance(value, bool):
            self.fail(where, "must be true or false")
        return value

    def texts(self, value, where: str, *, slugs: bool = False) -> tuple[str, ...]:
        if not isinstance(value, list) or not value:
            self.fail(where, "must be a non-empty list")
        read = self.slug if slugs else (lambda v, w: self.text(v, w, max_length=100))
        return tuple(read(item, f"{where}[{i}]") for i, item in enumerate(value))

    def matchers(self, value, where: str) -> tuple[Matcher, ...]:
        items = value if isinstance(value, list) else [value]
        if not items:
            self.fail(where, "must name at least one action")
        found = []
        for item in items:
            try:
                found.append(Matcher.parse(item))
            except ValueError as exc:
                self.fail(where, str(exc))
        return tuple(found)


def parse_scenario(text: str | bytes, source: str) -> Scenario:
    """One scenario from YAML text; `source` names it in errors."""
    reader = _Reader(source)
    raw = text.encode() if isinstance(text, str) else text
    try:
        data = yaml.safe_load(raw)
    except yaml.YAMLError as exc:
        reader.fail("", f"not valid YAML ({exc})")
    data = reader.mapping(data, "", required={
        "slug", "title", "summary", "channel", "department", "topics", "skills", "persona", "start", "nodes",
        "routing"}, optional={"target_response_seconds", "requires_verification"})
    persona = reader.mapping(data["persona"], "persona", required={"name", "about"}, optional={"age"})
    routing = reader.mapping(data["routing"], "routing", required={"expected"}, optional={"within_seconds"})
    within = routing.get("within_seconds")
    scenario = Scenario(
        slug=reader.slug(data["slug"], "slug"),
        title=reader.text(data["title"], "title", max_length=120),
        summary=reader.text(data["summary"], "summary"),
        channel=reader.choice(data["channel"], "channel", tuple(CHANNELS)),
        department=reader.choice(data["department"], "department", tuple(DEPARTMENTS)),
        topics=reader.texts(data["topics"], "topics", slugs=True),
        skills=reader.texts(data["skills"], "skills"),
        persona=Persona(name=reader.text(persona["name"], "persona.name", max_length=100),
                        about=reader.text(persona["about"], "persona.about"),
                        age=reader.number(persona["age"], "persona.age", 0, 120, integer=True)
                        if "age" in persona else None),
        target_response_seconds=reader.number(data.get("target_response_seconds", 30), "target_response_seconds",
                                              1, 600, integer=True),
        requires_verification=reader.boolean(data.get("requires_verification", False), "requires_verification"),
        routing=Routing(expected=reader.matchers(routing["expected"], "routing.expected"),
                        within_seconds=None if within is None
                        else reader.number(within, "routing.within_seconds", 1, 3600, integer=True)),
        start=reader.text(data["start"], "start", max_length=64),
        nodes=_nodes(reader, data["nodes"]),
        version=hashlib.sha256(raw).hexdigest()[:16],
    )
    _check_graph(reader, scenario)
    return scenario


def _nodes(reader: _Reader, raw) -> dict[str, Node]:
    if not isinstance(raw, dict) or not raw:
        reader.fail("nodes", "must be a mapping of node name: node")
    return {reader.slug(node_id, f"nodes.{node_id}"): _node(reader, str(node_id), value)
            for node_id, value in raw.items()}


def _node(reader: _Reader, node_id: str, raw) -> Node:
    where = f"nodes.{node_id}"
    data = reader.mapping(raw, where, required=set(), optional={"patient", "then", "end", "verifies"})
    messages = data.get("patient", [])
    if not isinstance(messages, list):
        reader.fail(f"{where}.patient", "must be a list of messages")
    patient = []
    for i, item in enumerate(messages):
        spot = f"{where}.patient[{i}]"
        message = reader.mapping(item, spot, required={"text"}, optional={"delay"})
        patient.append(PatientMessage(text=reader.text(message["text"], f"{spot}.text"),
                                      delay=float(reader.number(message.get("delay", 2), f"{spot}.delay", 0,
                                                                MAX_DELAY))))
    verifies = reader.boolean(data.get("verifies", False), f"{where}.verifies")
    if "end" in data:
        if "then" in data:
            reader.fail(where, "an end node has no 'then' rules")
        end = reader.mapping(data["end"], f"{where}.end", required={"outcome", "need_met", "summary"})
        return Node(node_id, tuple(patient), verifies=verifies, end=End(
            outcome=reader.choice(end["outcome"], f"{where}.end.outcome", OUTCOMES),
            need_met=reader.boolean(end["need_met"], f"{where}.end.need_met"),
            summary=reader.text(end["summary"], f"{where}.end.summary")))
    rules = data.get("then")
    if not isinstance(rules, list) or not rules:
        reader.fail(where, "needs 'then' rules (a list) or an 'end'")
    return Node(node_id, tuple(patient), rules=tuple(_rule(reader, f"{where}.then[{i}]", r)
                                                     for i, r in enumerate(rules)),
                verifies=verifies)


def _rule(reader: _Reader, where: str, raw) -> Rule:
    data = reader.mapping(raw, where, required={"if", "to"}, optional={"verified", "feedback"})
    verified = data.get("verified")
    return Rule(
        when=reader.matchers(data["if"], f"{where}.if"),
        to=reader.slug(data["to"], f"{where}.to"),
        verified=None if verified is None else reader.boolean(verified, f"{where}.verified"),
        feedback=reader.text(data["feedback"], f"{where}.feedback") if "feedback" in data else "",
    )


def _check_graph(reader: _Reader, scenario: Scenario) -> None:
    nodes = scenario.nodes
    if scenario.start not in nodes:
        reader.fail("start", f"there is no node {scenario.start!r}")
    if not nodes[scenario.start].patient:
        reader.fail(f"nodes.{scenario.start}", "the start node must have patient messages")
    for node in nodes.values():
        for i, rule in enumerate(node.rules):
            if rule.to not in nodes:
                reader.fail(f"nodes.{node.id}.then[{i}].to", f"there is no node {rule.to!r}")
    reached, queue = {scenario.start}, deque([scenario.start])
    while queue:
        for rule in nodes[queue.popleft()].rules:
            if rule.to not in reached:
                reached.add(rule.to)
                queue.append(rule.to)
    unreachable = sorted(set(nodes) - reached)
    if unreachable:
        reader.fail("nodes", f"not reachable from the start: {', '.join(unreachable)}")
    finishing = {n.id for n in nodes.values() if n.end is not None}
    if not finishing:
        reader.fail("nodes", "there is no end node")
    grew = True
    while grew:
        more = {n.id for n in nodes.values() if n.id not in finishing and any(r.to in finishing for r in n.rules)}
        finishing |= more
        grew = bool(more)
    trapped = sorted(set(nodes) - finishing)
    if trapped:
        reader.fail("nodes", f"no path to an end node from: {', '.join(trapped)}")


# --- the loaded set ----------------------------------------------------------------

_lock = threading.Lock()
_cache: dict[Path, tuple[tuple, list[Scenario]]] = {}


def scenario_dir() -> Path:
    """Where scenarios are read from: settings.TRAINING_SCENARIO_DIR, or the
    ones the hub ships (hub/training/scenarios/)."""
    configured = getattr(settings, "TRAINING_SCENARIO_DIR", None)
    return Path(configured) if configured else DEFAULT_DIR


def load_directory(directory: Path) -> list[Scenario]:
    """Every *.yaml of a directory, checked, by title. Each file's slug must
    be its file name."""
    found = []
    for path in sorted(directory.glob("*.yaml")):
        scenario = parse_scenario(path.read_bytes(), path.name)
        if scenario.slug != path.stem:
            raise ScenarioError(f"{path.name}: slug: {scenario.slug!r} must be the file name ({path.stem!r})")
        found.append(scenario)
    return sorted(found, key=lambda s: (s.title.lower(), s.slug))


def load_scenarios() -> list[Scenario]:
    """The scenarios, read again only when a file changed (so a writer sees
    an edit on the next page load)."""
    directory = scenario_dir()
    stamp = tuple((p.name, p.stat().st_mtime_ns, p.stat().st_size) for p in sorted(directory.glob("*.yaml")))
    with _lock:
        cached = _cache.get(directory)
        if cached is not None and cached[0] == stamp:
            return list(cached[1])
    loaded = load_directory(directory)
    with _lock:
        _cache[directory] = (stamp, loaded)
    return list(loaded)


def get_scenario(slug: str) -> Scenario | None:
    return next((s for s in load_scenarios() if s.slug == slug), None)
