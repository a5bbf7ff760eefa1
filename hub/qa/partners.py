"""The knowledge base's and role-play practice's functions that training
signals use, imported when called: either app may be missing from an
installation, and then its suggestions and assignments are simply none.
Their records are turned into the hub.qa's own here, so that their field
names stay at this edge."""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from datetime import date, datetime

from hub.actions.errors import ActionError

ARTICLE_SEARCH = "hub.knowledge.search"
ARTICLE_ASSIGN = "hub.knowledge.actions"
SCENARIOS = "hub.training.scenarios"
SCENARIO_ASSIGN = "hub.training.assignments"


class Unavailable(ActionError):
    status = 404

    def __init__(self, what: str):
        super().__init__(f"{what} are not available in this hub.", code="unavailable")


@dataclass(frozen=True)
class Assignment:
    """Training assigned to one person, as the signals page shows it."""

    title: str
    assignee: str
    assigned_at: datetime
    due: date | None
    completed_at: datetime | None
    overdue: bool


def _function(module_name: str, name: str):
    """module_name.name, or None when that module is not installed."""
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as missing:
        if missing.name and (module_name == missing.name or module_name.startswith(missing.name + ".")):
            return None
        raise
    return getattr(module, name, None)


def search_articles(practice_id: int, query: str, limit: int = 10) -> list:
    """Knowledge-base articles for `query` (each with .id .slug .title .url)."""
    search = _function(ARTICLE_SEARCH, "search_articles")
    return list(search(practice_id, query, limit=limit) or []) if search else []


def load_scenarios() -> list:
    """Role-play scenarios (each with .slug .title .department .topics .skills)."""
    load = _function(SCENARIOS, "load_scenarios")
    return list(load() or []) if load else []


def assign_article(viewer, article_id: int, user_ids: list[int], due: date | None = None):
    assign = _function(ARTICLE_ASSIGN, "assign_article")
    if assign is None:
        raise Unavailable("Knowledge-base articles")
    return assign(viewer, article_id, user_ids, due=due)


def assign_scenario(viewer, slug: str, user_ids: list[int], due: date | None = None):
    assign = _function(SCENARIO_ASSIGN, "assign_scenario")
    if assign is None:
        raise Unavailable("Role-play scenarios")
    return assign(viewer, slug, user_ids, due=due)


def article_assignments(practice_id: int) -> list[Assignment]:
    found = _function(ARTICLE_ASSIGN, "assignments_for")
    return [Assignment(title=a.article_title, assignee=a.assignee_name, assigned_at=a.assigned_at, due=a.due,
                       completed_at=a.completed_at, overdue=a.overdue)
            for a in (found(practice_id) if found else [])]


def scenario_assignments(practice_id: int) -> list[Assignment]:
    found = _function(SCENARIO_ASSIGN, "assignments_for")
    return [Assignment(title=a.scenario_title, assignee=a.user_name, assigned_at=a.assigned_at, due=a.due,
                       completed_at=a.completed_at, overdue=a.status == "overdue")
            for a in (found(practice_id) if found else [])]
