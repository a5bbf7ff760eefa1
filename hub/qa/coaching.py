"""Training signals: the agents and topics whose transfer rate is above, or
first-contact resolution below, the practice's (kpi.metrics.training, as
the KPI dashboard ranks them), each with knowledge-base articles and
role-play scenarios to suggest, and how assigned training is going."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import date

from django.conf import settings
from django.db import transaction

from hub.actions.errors import InvalidInput
from hub.lib import access
from hub.models import AgentProfile, Topic
from hub.qa import partners
from hub.qa.actions import require_supervisor
from kpi import display, metrics, tables
from kpi.metrics import Scope

ITEM = re.compile(r"(article):([0-9]{1,18})|(scenario):([a-z0-9]+(?:-[a-z0-9]+)*)")
MAX_ITEMS, MAX_PEOPLE = 20, 100
WEAKEST_TOPICS = 2  # an agent's suggestions come from their weakest topics
ARTICLES_PER_TOPIC = 3
MAX_ARTICLES = 5
MAX_SCENARIOS = 4
FIGURES = ("Conversations", "Transfer rate", "First-contact resolution", "Gap to practice")


@dataclass(frozen=True)
class Suggestion:
    kind: str  # "article" or "scenario"
    ref: str  # the article's id or the scenario's slug
    title: str
    url: str = ""
    detail: str = ""

    @property
    def value(self) -> str:
        """How an Assign form names it."""
        return f"{self.kind}:{self.ref}"


@dataclass
class Signal:
    kind: str  # "agent" or "topic"
    key: int
    name: str
    cells: list  # kpi.display.Cell: conversations, transfer rate, first-contact resolution, gap
    recipients: list[int]  # who an assignment goes to unless the supervisor picks others
    weak_topics: list[str] = field(default_factory=list)
    suggestions: list[Suggestion] = field(default_factory=list)

    @property
    def figures(self) -> list[tuple[str, object]]:
        return list(zip(FIGURES, self.cells, strict=True))

    @property
    def articles(self) -> list[Suggestion]:
        return [s for s in self.suggestions if s.kind == "article"]

    @property
    def scenarios(self) -> list[Suggestion]:
        return [s for s in self.suggestions if s.kind == "scenario"]


@dataclass
class Signals:
    practice: dict  # the practice's transfer_rate and first_contact_resolution
    minimum: int
    agents: list[Signal]
    topics: list[Signal]


def _practice_rates(*ranked: tables.Table) -> dict:
    """The practice's rates, which every ranked row carries."""
    for table in ranked:
        if table.rows:
            col = {c: i for i, c in enumerate(table.columns)}
            row = table.rows[0]
            return {"transfer_rate": row[col["practice_transfer_rate"]],
                    "first_contact_resolution": row[col["practice_first_contact_resolution"]]}
    return {"transfer_rate": None, "first_contact_resolution": None}


def _flagged(table: tables.Table, practice: dict) -> list[tuple[int, str, list]]:
    """(id, name, display cells) of the rows worse than the practice."""
    col = {c: i for i, c in enumerate(table.columns)}
    shown = display.training_table(table, practice).rows
    return [(row[col["id"]], row[col["name"]], cells[1:]) for row, cells in zip(table.rows, shown, strict=True)
            if row[col["score"]] and row[col["id"]] is not None]


def _weakest_topics(scope: Scope, agent_id: int, topics: dict[int, Topic]) -> list[Topic]:
    """The topics on which this agent's conversations fall furthest below the practice."""
    ranked = metrics.training(replace(scope, agent_id=agent_id), minimum=1)["topics"]
    return [topics[r["key"]] for r in ranked if r["score"] > 0 and r["key"] in topics][:WEAKEST_TOPICS]


def _articles(practice_id: int, about: list[Topic]) -> list[Suggestion]:
    """Articles matching any word of each topic's name ("Bill question":
    bill or question), best first; a whole name is often no article's words."""
    found: dict[int, Suggestion] = {}
    for topic in about:
        query = " or ".join(topic.name.split())
        for hit in partners.search_articles(practice_id, query, limit=ARTICLES_PER_TOPIC):
            found.setdefault(hit.id, Suggestion("article", str(hit.id), hit.title, hit.url))
    return list(found.values())[:MAX_ARTICLES]


def _scenarios(scenarios: list, about: list[Topic]) -> list[Suggestion]:
    """Scenarios on these topics first, then those of their departments
    (named by slug or name)."""
    slugs = {t.slug for t in about}
    departments = {n.casefold() for t in about for n in (t.department.slug, t.department.name)}
    on_topic = [s for s in scenarios if slugs & set(s.topics or ())]
    taken = {s.slug for s in on_topic}
    in_department = [s for s in scenarios
                     if s.slug not in taken and str(s.department or "").casefold() in departments]
    return [Suggestion("scenario", s.slug, s.title, detail=", ".join(s.skills or ()))
            for s in (on_topic + in_department)[:MAX_SCENARIOS]]


def signals(scope: Scope) -> Signals:
    topics_table, agents_table = tables.training(scope)
    practice = _practice_rates(topics_table, agents_table)
    topics = {t.pk: t for t in Topic.objects.in_practice(scope.practice_id).select_related("department")}
    scenarios = partners.load_scenarios()
    agents_of: dict[int, list[int]] = {}
    for profile in (AgentProfile.objects.in_practice(scope.practice_id).filter(role=AgentProfile.Role.AGENT)
                    .prefetch_related("departments")):
        for department in profile.departments.all():
            agents_of.setdefault(department.pk, []).append(profile.user_id)

    def suggest(signal: Signal, about: list[Topic]) -> Signal:
        signal.suggestions = _articles(scope.practice_id, about) + _scenarios(scenarios, about)
        return signal

    agent_signals = []
    for agent_id, name, cells in _flagged(agents_table, practice):
        weakest = _weakest_topics(scope, agent_id, topics)
        agent_signals.append(suggest(Signal("agent", agent_id, name, cells, [agent_id],
                                            weak_topics=[t.name for t in weakest]), weakest))
    topic_signals = []
    for topic_id, name, cells in _flagged(topics_table, practice):
        topic = topics.get(topic_id)
        if topic is not None:
            topic_signals.append(suggest(Signal("topic", topic_id, name, cells,
                                                agents_of.get(topic.department_id, [])), [topic]))
    return Signals(practice=practice, minimum=settings.KPI["training_minimum"], agents=agent_signals,
                   topics=topic_signals)


# --- assigning, and how assigned training is going --------------------------------------------


def _items(items: list[str]) -> list[tuple[str, str]]:
    if not items:
        raise InvalidInput("Tick at least one article or scenario to assign.")
    if len(items) > MAX_ITEMS:
        raise InvalidInput(f"Assign at most {MAX_ITEMS} articles and scenarios at once.")
    parsed = []
    for item in items:
        match = ITEM.fullmatch(item) if isinstance(item, str) and len(item) <= 100 else None
        if match is None:
            raise InvalidInput("That is not an article or a scenario to assign.")
        parsed.append((match[1], match[2]) if match[1] else (match[3], match[4]))
    return parsed


def _people(user_ids: list[str]) -> list[int]:
    if not user_ids:
        raise InvalidInput("Choose who to assign the training to.")
    if len(user_ids) > MAX_PEOPLE or not all(isinstance(u, str) and u.isascii() and u.isdigit() and len(u) <= 18
                                             for u in user_ids):
        raise InvalidInput("Choose people of your practice to assign the training to.")
    return sorted({int(u) for u in user_ids})


def _due(text: str) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidInput("The due date is a date, YYYY-MM-DD.") from None


def assign(viewer: access.Viewer, *, items: list[str], user_ids: list[str], due: str = "") -> str:
    """Assign articles ("article:<id>") and scenarios ("scenario:<slug>") to
    people, all or none, through the knowledge base and practice apps (which
    check the people, the date and the items). Returns what was done, in words."""
    require_supervisor(viewer)
    wanted, people, by = _items(items), _people(user_ids), _due(due)
    with transaction.atomic():
        for kind, ref in wanted:
            if kind == "article":
                partners.assign_article(viewer, int(ref), people, due=by)
            else:
                partners.assign_scenario(viewer, ref, people, due=by)
    things = f"{len(wanted)} item{'s' if len(wanted) != 1 else ''}"
    return f"Assigned {things} to {len(people)} {'people' if len(people) != 1 else 'person'}" + (
        f", due {by.isoformat()}." if by else ".")


@dataclass
class Progress:
    """Assigned training of one kind: how many, completed, overdue, and each."""

    title: str
    rows: list[partners.Assignment]

    @property
    def assigned(self) -> int:
        return len(self.rows)

    @property
    def completed(self) -> int:
        return sum(1 for r in self.rows if r.completed_at is not None)

    @property
    def overdue(self) -> int:
        return sum(1 for r in self.rows if r.overdue)


def progress(practice_id: int) -> list[Progress]:
    return [Progress("Knowledge-base articles", partners.article_assignments(practice_id)),
            Progress("Role-play scenarios", partners.scenario_assignments(practice_id))]
