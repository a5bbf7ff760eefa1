"""/api/v1/training/: role-play practice for the console's practice page.
Views decode, call one action in hub.training, and answer."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from ninja import Query, Router, Schema, Status
from pydantic import Field, StringConstraints

from hub.api.requests import viewer as _viewer, who as _who
from hub.api.schemas import ErrorOut, Id
from hub.lib import access, clock, directory
from hub.qa.api import CriterionOut
from hub.qa.rubrics import active_rubric
from hub.training import actions, assignments, engine
from hub.training.models import PracticeRun
from hub.training.scenarios import get_scenario, load_scenarios
from hub.training.scorecard import action_label

router = Router(tags=["training"])

ERRORS = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut}

Slug = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[a-z0-9-]+$")]
FreeText = Annotated[str, StringConstraints(max_length=2000, pattern=r"^[^\x00]*$")]


# --- schemas -----------------------------------------------------------------------

class ScenarioOut(Schema):
    slug: str
    title: str
    summary: str
    channel: str
    channel_label: str
    department: str
    department_label: str
    topics: list[str]
    skills: list[str]
    persona_name: str
    target_response_seconds: int
    assignment: assignments.ScenarioAssignmentStatus | None = Field(description="Your open assignment of it (or the last one done)")
    runs: int = Field(description="Your finished runs of it")
    best_score: int | None
    last_score: int | None
    in_progress_run_id: int | None


class RunScenarioOut(Schema):
    slug: str
    title: str
    summary: str
    channel: str
    channel_label: str
    department_label: str
    persona_name: str
    persona_about: str = Field(description="Shown once the run has ended")
    target_response_seconds: int


class EntryOut(Schema):
    kind: str = Field(description="patient, agent or system")
    at: datetime
    text: str
    action: str | None = Field(description="reply, transfer, escalate or resolve (agent entries)")
    label: str
    intents: list[str] = Field(description="Once the run has ended: what the reply was read as")
    flags: list[str] = Field(description="Once the run has ended: e.g. disclosed_unverified")
    feedback: str = Field(description="Once the run has ended: the scenario's coaching note")


class ResponseOut(Schema):
    target_seconds: int
    count: int
    within_target: int
    first_seconds: float | None
    average_seconds: float | None
    slowest_seconds: float | None
    ok: bool
    points: int


class RoutingOut(Schema):
    ok: bool
    expected: list[str]
    taken: list[str]
    within_seconds: int | None
    took_seconds: float | None
    detail: str
    points: int


class MissOut(Schema):
    at: datetime
    text: str


class ComplianceOut(Schema):
    applies: bool
    ok: bool
    verified: bool
    misses: list[MissOut]
    detail: str
    points: int


class ResolutionOut(Schema):
    ok: bool
    outcome: str
    summary: str
    points: int


class FeedbackOut(Schema):
    at: datetime
    action: str
    text: str
    feedback: str


class ScorecardOut(Schema):
    score: int
    response: ResponseOut
    routing: RoutingOut
    compliance: ComplianceOut
    resolution: ResolutionOut
    feedback: list[FeedbackOut]


class RunRubricOut(Schema):
    id: int
    name: str
    criteria: list[CriterionOut]


class ScoredCriterionOut(CriterionOut):
    score: int | None


class RunReviewOut(Schema):
    rubric_id: int
    rubric_name: str
    criteria: list[ScoredCriterionOut]
    points: int
    possible: int
    percent: float
    comment: str
    reviewer_name: str
    reviewed_at: datetime


class RunOut(Schema):
    id: int
    scenario: RunScenarioOut
    user_id: int
    user_name: str
    status: str = Field(description="in_progress, finished or abandoned")
    outcome: str
    started_at: datetime
    ended_at: datetime | None
    now: datetime = Field(description="The server's clock, to time the page's counters")
    entries: list[EntryOut] = Field(description="What is visible now, in order")
    typing: bool = Field(description="A patient message is on its way")
    next_message_in: float | None = Field(description="Seconds until the next patient message is visible")
    waiting_since: datetime | None = Field(description="When the earliest unanswered patient message appeared")
    complete: bool = Field(description="Ended, with every message visible: the scorecard is ready")
    scorecard: ScorecardOut | None
    score: int | None
    review: RunReviewOut | None
    rubric: RunRubricOut | None = Field(description="To score it with, when you may review this run")
    may_act: bool
    may_review: bool


class RunSummaryOut(Schema):
    id: int
    scenario_slug: str
    scenario_title: str
    user_id: int
    user_name: str
    status: str
    outcome: str
    started_at: datetime
    ended_at: datetime | None
    score: int | None
    reviewed: bool
    review_percent: float | None


class StartIn(Schema):
    scenario: Slug


class ActIn(Schema):
    kind: Literal["reply", "transfer", "escalate", "resolve"]
    text: FreeText = Field("", description="The reply (kind reply)")
    department: Literal["scheduling", "billing", "intake", "nurse"] | None = Field(
        None, description="Where to transfer (kind transfer)")
    to: Literal["nurse", "911"] | None = Field(
        None, description="Urgent to the nurse line, or 911 advice (kind escalate)")


class RunReviewIn(Schema):
    scores: dict[Annotated[str, StringConstraints(max_length=64)], int] = Field(
        description="Points per rubric criterion key")
    comment: FreeText = ""


class ScenarioAssignIn(Schema):
    scenario: Slug
    user_ids: list[Id] = Field(min_length=1, max_length=assignments.MAX_USERS)
    due: date | None = None


class RunsQuery(Schema):
    team: bool = Field(False, description="Supervisors: the practice's finished runs instead of your own")
    limit: int = Field(50, ge=1, le=200)


# --- presenting ------------------------------------------------------------------------



def _name(practice_id: int, user_id: int | None) -> str:
    return directory.staff_name(practice_id, user_id) or ""


def _entry(entry: dict, ended: bool) -> dict:
    agent = entry["kind"] == "agent"
    return {
        "kind": entry["kind"], "at": entry["at"], "text": entry.get("text", ""),
        "action": entry.get("action") if agent else None,
        "label": action_label(entry) if agent else ("Identity verified" if entry.get("event") == "verified" else ""),
        "intents": entry.get("intents", []) if ended else [],
        "flags": entry.get("flags", []) if ended else [],
        "feedback": entry.get("feedback", "") if ended else "",
    }


def _scenario_out(run: PracticeRun, ended: bool) -> dict:
    scenario = get_scenario(run.scenario_slug)
    if scenario is None:  # the file is gone: the run keeps its title
        return {"slug": run.scenario_slug, "title": run.scenario_title, "summary": "", "channel": "",
                "channel_label": "", "department_label": "", "persona_name": "", "persona_about": "",
                "target_response_seconds": 0}
    return {"slug": scenario.slug, "title": run.scenario_title, "summary": scenario.summary,
            "channel": scenario.channel, "channel_label": scenario.channel_label,
            "department_label": scenario.department_label, "persona_name": scenario.persona.name,
            "persona_about": scenario.persona.about if ended else "",
            "target_response_seconds": scenario.target_response_seconds}


def _review_out(run: PracticeRun) -> dict | None:
    if run.reviewed_at is None:
        return None
    scores = run.review_scores or {}
    return {"rubric_id": run.rubric_id, "rubric_name": run.rubric.name,
            "criteria": [{**c, "description": c.get("description", ""), "score": scores.get(c["key"])}
                         for c in run.rubric.criteria],
            "points": run.review_points, "possible": run.review_possible, "percent": run.review_percent,
            "comment": run.review_comment, "reviewer_name": _name(run.practice_id, run.reviewed_by_id), "reviewed_at": run.reviewed_at}


def _rubric_out(viewer: access.Viewer, run: PracticeRun) -> dict | None:
    if not actions.may_review(viewer, run):
        return None
    rubric = active_rubric(viewer.practice_id)
    return {"id": rubric.pk, "name": rubric.name,
            "criteria": [{**c, "description": c.get("description", "")} for c in rubric.criteria]}


def _run_out(viewer: access.Viewer, run: PracticeRun) -> dict:
    now = clock.now()
    ended = run.status != PracticeRun.Status.IN_PROGRESS
    abandoned = run.status == PracticeRun.Status.ABANDONED
    # An abandoned run stops where it was left: the patient says no more.
    horizon = run.ended_at if abandoned else now
    upcoming = None if abandoned else engine.next_visible_at(run.transcript, now)
    complete = run.status == PracticeRun.Status.FINISHED and upcoming is None
    return {
        "id": run.pk, "scenario": _scenario_out(run, ended), "user_id": run.user_id,
        "user_name": _name(run.practice_id, run.user_id), "status": run.status, "outcome": run.outcome,
        "started_at": run.started_at, "ended_at": run.ended_at, "now": now,
        "entries": [_entry(e, complete) for e in engine.visible(run.transcript, horizon)],
        "typing": upcoming is not None,
        "next_message_in": round((upcoming - now).total_seconds(), 3) if upcoming else None,
        "waiting_since": None if ended else engine.waiting_since(run.transcript, now),
        "complete": complete, "scorecard": run.scorecard if complete else None,
        "score": run.score if complete else None, "review": _review_out(run), "rubric": _rubric_out(viewer, run),
        "may_act": not ended and run.user_id == viewer.user_id, "may_review": actions.may_review(viewer, run),
    }


def _summary_out(run: PracticeRun) -> dict:
    return {"id": run.pk, "scenario_slug": run.scenario_slug, "scenario_title": run.scenario_title,
            "user_id": run.user_id, "user_name": _name(run.practice_id, run.user_id), "status": run.status, "outcome": run.outcome,
            "started_at": run.started_at, "ended_at": run.ended_at, "score": run.score,
            "reviewed": run.reviewed_at is not None, "review_percent": run.review_percent}


def _scenarios_out(viewer: access.Viewer) -> list[dict]:
    progress = actions.progress(viewer)
    assigned = assignments.mine(viewer)
    found = []
    for scenario in load_scenarios():
        mine = progress.get(scenario.slug, actions.Progress())
        found.append({
            "slug": scenario.slug, "title": scenario.title, "summary": scenario.summary, "channel": scenario.channel,
            "channel_label": scenario.channel_label, "department": scenario.department,
            "department_label": scenario.department_label, "topics": list(scenario.topics),
            "skills": list(scenario.skills), "persona_name": scenario.persona.name,
            "target_response_seconds": scenario.target_response_seconds,
            "assignment": assigned.get(scenario.slug), "runs": mine.runs, "best_score": mine.best_score,
            "last_score": mine.last_score, "in_progress_run_id": mine.in_progress_run_id,
        })
    return found


# --- endpoints --------------------------------------------------------------------------

@router.get("/training/scenarios", response={200: list[ScenarioOut], **ERRORS})
def list_scenarios(request):
    """The scenarios, with your assignment and past scores for each."""
    return _scenarios_out(_viewer(request))


@router.get("/training/runs", response={200: list[RunSummaryOut], **ERRORS})
def list_runs(request, query: Query[RunsQuery]):
    """Your practice runs, newest first; supervisors can ask for the team's finished runs."""
    viewer = _viewer(request)
    return [_summary_out(r) for r in actions.list_runs(viewer, team=query.team, limit=query.limit)]


@router.post("/training/runs", response={201: RunOut, **ERRORS})
def start_run(request, body: StartIn):
    """Start a scenario (a run you had in progress is abandoned)."""
    viewer = _viewer(request)
    return Status(201, _run_out(viewer, actions.start_run(viewer, body.scenario)))


@router.get("/training/runs/{run_id}", response={200: RunOut, **ERRORS})
def get_run(request, run_id: Id):
    """A run as it stands now: the messages visible so far, and once it is
    complete its scorecard (and the supervisor's review)."""
    viewer = _viewer(request)
    return _run_out(viewer, actions.get_run(viewer, run_id))


@router.post("/training/runs/{run_id}/actions", response={200: RunOut, **ERRORS})
def act(request, run_id: Id, body: ActIn):
    """Reply, transfer, escalate or resolve in your run."""
    viewer = _viewer(request)
    run = actions.act(viewer, run_id, kind=body.kind, text=body.text, department=body.department or "",
                      to=body.to or "")
    return _run_out(viewer, actions.get_run(viewer, run.pk))


@router.post("/training/runs/{run_id}/review", response={200: RunOut, **ERRORS})
def review_run(request, run_id: Id, body: RunReviewIn):
    """Supervisors: score a finished run of one of your agents with the practice's rubric."""
    viewer = _viewer(request)
    return _run_out(viewer, actions.review_run(viewer, run_id, body.scores, body.comment, **_who(request)))


@router.get("/training/assignments", response={200: list[assignments.ScenarioAssignmentStatus], **ERRORS})
def list_assignments(request):
    """Supervisors: every assignment of the practice and where it stands; agents: their own."""
    return assignments.assignments_of(_viewer(request))


@router.post("/training/assignments", response={201: list[assignments.ScenarioAssignmentStatus], **ERRORS})
def assign(request, body: ScenarioAssignIn):
    """Supervisors: assign a scenario to staff members, with an optional due date."""
    viewer = _viewer(request)
    return Status(201, assignments.assign_scenario(viewer, body.scenario, body.user_ids, body.due, **_who(request)))


@router.delete("/training/assignments/{assignment_id}", response={204: None, **ERRORS})
def remove_assignment(request, assignment_id: Id):
    """Supervisors: withdraw an assignment."""
    assignments.remove_assignment(_viewer(request), assignment_id, **_who(request))
    return Status(204, None)
