"""Practice runs: start one, act in it, read it, and a supervisor's review.

Rules kept here:
- A run never leaves hub.training: no conversation, event or patient row
  is written and no channel is called; the patient is the scenario.
- Everyone who is a person may practise; a run is theirs alone to play.
  Agents see only their own runs; supervisors (and practice admins) see
  their practice's runs and score finished ones with the practice's rubric
  (hub.qa), never their own. Another practice's run does not exist (404).
- A person has at most one run in progress: starting another abandons it.
- A run is played on the scenario version it started on; if the file has
  changed since, the run cannot go on (409) and is started again.
- The clock is `hub.lib.clock`: response times are measured from the
  moment each patient message became visible.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from django.db import IntegrityError, transaction

from hub.actions.errors import Conflict, InvalidInput, NotFound
from hub.lib import access, audit, clock
from hub.qa.rubrics import active_rubric, score
from hub.training import assignments, engine, scorecard
from hub.training.intents import classify
from hub.training.models import PracticeRun
from hub.training.permissions import NotAllowed, require_person, require_supervisor
from hub.training.scenarios import DEPARTMENTS, ESCALATIONS, Action, Scenario, get_scenario

MAX_REPLY = 2000
MAX_COMMENT = 2000
MAX_ACTIONS = 200


def _state(run: PracticeRun) -> engine.PlayState:
    return engine.PlayState(node=run.node, transcript=list(run.transcript), verified_at=run.verified_at,
                            ended=run.status != PracticeRun.Status.IN_PROGRESS, outcome=run.outcome,
                            need_met=run.need_met, summary=run.summary)


def _store(run: PracticeRun, state: engine.PlayState) -> None:
    run.node, run.transcript, run.verified_at = state.node, state.transcript, state.verified_at
    run.outcome, run.need_met, run.summary = state.outcome, state.need_met, state.summary


def start_run(viewer: access.Viewer, slug: str) -> PracticeRun:
    """A new run of a scenario for the viewer; any run they had in progress
    is abandoned."""
    require_person(viewer)
    scenario = get_scenario(slug)
    if scenario is None:
        raise NotFound("No such scenario.")
    now = clock.now()
    try:
        with transaction.atomic():
            PracticeRun.objects.in_practice(viewer.practice_id).filter(
                user_id=viewer.user_id, status=PracticeRun.Status.IN_PROGRESS,
            ).update(status=PracticeRun.Status.ABANDONED, ended_at=now, outcome="abandoned")
            run = PracticeRun(practice_id=viewer.practice_id, user_id=viewer.user_id, scenario_slug=scenario.slug,
                              scenario_title=scenario.title, scenario_version=scenario.version, started_at=now)
            _store(run, engine.begin(scenario, now))
            run.save(force_insert=True)
    except IntegrityError:  # another tab started a run at the same moment
        raise Conflict("Another practice run was just started in another window.") from None
    return run


def _action(kind: str, text: str, department: str, to: str) -> Action:
    if kind == "reply":
        text = text.strip()
        if not text:
            raise InvalidInput("Write a reply first.")
        if len(text) > MAX_REPLY:
            raise InvalidInput(f"A reply is at most {MAX_REPLY} characters.")
        return Action(kind="reply", text=text, intents=tuple(classify(text)))
    if kind == "transfer":
        if department not in DEPARTMENTS:
            raise InvalidInput(f"Choose a department to transfer to ({', '.join(DEPARTMENTS)}).")
        return Action(kind="transfer", department=department)
    if kind == "escalate":
        if to not in ESCALATIONS:
            raise InvalidInput(f"Choose how to escalate ({', '.join(ESCALATIONS)}).")
        return Action(kind="escalate", to=to)
    if kind == "resolve":
        return Action(kind="resolve")
    raise InvalidInput("The action is reply, transfer, escalate or resolve.")


def _own_run(viewer: access.Viewer, run_id: int, *, for_update: bool = False) -> PracticeRun:
    query = PracticeRun.objects.in_practice(viewer.practice_id).filter(pk=run_id, user_id=viewer.user_id)
    found = (query.select_for_update(no_key=True) if for_update else query).first()
    if found is None:
        raise NotFound("No such practice run.")
    return found


def _playable(run: PracticeRun) -> Scenario:
    if run.status != PracticeRun.Status.IN_PROGRESS:
        raise Conflict("This practice run has ended.", code="ended")
    scenario = get_scenario(run.scenario_slug)
    if scenario is None or scenario.version != run.scenario_version:
        raise Conflict("This scenario has changed since the run started: start it again.", code="scenario_changed")
    if sum(1 for e in run.transcript if e["kind"] == "agent") >= MAX_ACTIONS:
        raise Conflict(f"A practice run takes at most {MAX_ACTIONS} actions: resolve or start again.")
    return scenario


def act(viewer: access.Viewer, run_id: int, *, kind: str, text: str = "", department: str = "",
        to: str = "") -> PracticeRun:
    """The agent's next action in their run. When the run reaches its end
    the scorecard is computed and the assignments it completes are marked."""
    require_person(viewer)
    action = _action(kind, text, department, to)
    with transaction.atomic():
        run = _own_run(viewer, run_id, for_update=True)
        scenario = _playable(run)
        now = clock.now()
        state = engine.act(scenario, _state(run), action, now)
        _store(run, state)
        if state.ended:
            run.status, run.ended_at = PracticeRun.Status.FINISHED, now
            run.scorecard = scorecard.build(scenario, state)
            run.score = run.scorecard["score"]
        run.save()
        if state.ended:
            assignments.complete_for(run)
    return run


def get_run(viewer: access.Viewer, run_id: int) -> PracticeRun:
    """A run the viewer may see: their own, or (supervisors) any of their
    practice's."""
    require_person(viewer)
    query = PracticeRun.objects.in_practice(viewer.practice_id).select_related("rubric")
    if not viewer.may_supervise:
        query = query.filter(user_id=viewer.user_id)
    found = query.filter(pk=run_id).first()
    if found is None:
        raise NotFound("No such practice run.")
    return found


def list_runs(viewer: access.Viewer, *, team: bool = False, limit: int = 50) -> list[PracticeRun]:
    """The viewer's runs, newest first; with `team` (supervisors), the
    finished runs of the rest of the practice, to review."""
    require_person(viewer)
    query = PracticeRun.objects.in_practice(viewer.practice_id)
    if team:
        require_supervisor(viewer)
        query = (query.filter(status=PracticeRun.Status.FINISHED).exclude(user_id=viewer.user_id)
                 .order_by("-ended_at", "-pk"))
    else:
        query = query.filter(user_id=viewer.user_id).order_by("-started_at", "-pk")
    return list(query[:limit])


@dataclass(frozen=True)
class Progress:
    """A person's record on one scenario."""

    runs: int = 0
    best_score: int | None = None
    last_score: int | None = None
    in_progress_run_id: int | None = None


def progress(viewer: access.Viewer) -> dict[str, Progress]:
    """The viewer's finished runs and best and last scores, and their run in
    progress, per scenario slug."""
    require_person(viewer)
    rows = (PracticeRun.objects.in_practice(viewer.practice_id).filter(user_id=viewer.user_id)
            .exclude(status=PracticeRun.Status.ABANDONED).order_by("ended_at", "pk")
            .values_list("scenario_slug", "status", "score", "pk"))
    found: dict[str, Progress] = {}
    for slug, status, points, pk in rows:
        mine = found.get(slug, Progress())
        if status == PracticeRun.Status.IN_PROGRESS:
            found[slug] = replace(mine, in_progress_run_id=pk)
        else:
            best = points if mine.best_score is None else max(mine.best_score, points)
            found[slug] = replace(mine, runs=mine.runs + 1, best_score=best, last_score=points)
    return found


def may_review(viewer: access.Viewer, run: PracticeRun) -> bool:
    return (viewer.may_supervise and run.user_id != viewer.user_id and run.practice_id == viewer.practice_id
            and run.status == PracticeRun.Status.FINISHED)


def review_run(viewer: access.Viewer, run_id: int, scores: dict, comment: str = "", *, via: str = "console",
               ip: str | None = None) -> PracticeRun:
    """A supervisor scores a finished run of one of their practice's agents
    against the practice's active rubric. Scoring again replaces it."""
    require_supervisor(viewer)
    comment = comment.strip()
    if len(comment) > MAX_COMMENT:
        raise InvalidInput(f"A comment is at most {MAX_COMMENT} characters.")
    with transaction.atomic():
        found = PracticeRun.objects.in_practice(viewer.practice_id).select_for_update(no_key=True).filter(pk=run_id).first()
        if found is None:
            raise NotFound("No such practice run.")
        if found.user_id == viewer.user_id:
            raise NotAllowed("Another supervisor scores your own practice runs.")
        if found.status != PracticeRun.Status.FINISHED:
            raise Conflict("Only a finished practice run can be scored.")
        rubric = active_rubric(viewer.practice_id)
        clean, points, possible, percent = score(rubric, scores)
        found.rubric, found.review_scores, found.review_comment = rubric, clean, comment
        found.review_points, found.review_possible, found.review_percent = points, possible, percent
        found.reviewed_by_id, found.reviewed_at = viewer.user_id, clock.now()
        found.save()
        audit.record(user_id=viewer.user_id, practice_id=viewer.practice_id, action="training.run_reviewed",
                     obj=found, via=via, ip=ip,
                     detail={"agent": found.user_id, "scenario": found.scenario_slug, "percent": percent})
    return get_run(viewer, run_id)
