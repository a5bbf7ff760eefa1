"""Scenarios supervisors assign to agents, and where each assignment stands.

An assignment is completed by the first run of its scenario the agent
finishes after it was assigned (`complete_for`, called when a run ends).
Assigning a scenario the agent already has open changes its due date
rather than adding a second one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from django.db import IntegrityError, transaction

from hub.actions.errors import InvalidInput, NotFound
from hub.lib import access, audit, clock, directory
from hub.models import AgentProfile, Practice
from hub.training.models import Assignment, PracticeRun
from hub.training.permissions import require_person, require_supervisor
from hub.training.scenarios import get_scenario, load_scenarios

MAX_USERS = 100


@dataclass(frozen=True)
class ScenarioAssignmentStatus:
    """One assignment as supervisors and agents see it. `status` is open,
    overdue (past its due date), done, or late (done after its due date)."""

    id: int
    scenario_slug: str
    scenario_title: str
    user_id: int
    user_name: str
    assigned_by_name: str
    assigned_at: datetime
    due: date | None
    status: str
    completed_at: datetime | None
    run_id: int | None
    score: int | None


def _status(assignment: Assignment, today: date, practice: Practice) -> str:
    if assignment.completed_at is None:
        return "overdue" if assignment.due is not None and today > assignment.due else "open"
    done_on = assignment.completed_at.astimezone(practice.tz).date()
    return "late" if assignment.due is not None and done_on > assignment.due else "done"


def _today(practice: Practice) -> date:
    return clock.now().astimezone(practice.tz).date()


def _statuses(assignments, practice: Practice) -> list[ScenarioAssignmentStatus]:
    titles = {s.slug: s.title for s in load_scenarios()}
    today = _today(practice)
    return [ScenarioAssignmentStatus(
        id=a.pk, scenario_slug=a.scenario_slug, scenario_title=titles.get(a.scenario_slug, a.scenario_slug),
        user_id=a.user_id, user_name=directory.staff_name(practice.pk, a.user_id) or "",
        assigned_by_name=directory.staff_name(practice.pk, a.assigned_by_id) or "",
        assigned_at=a.assigned_at, due=a.due, status=_status(a, today, practice), completed_at=a.completed_at,
        run_id=a.completed_run_id, score=a.completed_run.score if a.completed_run_id else None,
    ) for a in assignments]


def _query(practice_id: int):
    return (Assignment.objects.in_practice(practice_id).select_related("completed_run")
            .order_by("-assigned_at", "-pk"))


def assignments_for(practice_id: int) -> list[ScenarioAssignmentStatus]:
    """Every assignment of a practice with its status, newest first."""
    practice = Practice.objects.get(pk=practice_id)
    return _statuses(_query(practice_id), practice)


def assignments_of(viewer: access.Viewer) -> list[ScenarioAssignmentStatus]:
    """What the viewer sees: supervisors the whole practice's assignments,
    everyone else their own."""
    require_person(viewer)
    practice = Practice.objects.get(pk=viewer.practice_id)
    query = _query(viewer.practice_id)
    if not viewer.may_supervise:
        query = query.filter(user_id=viewer.user_id)
    return _statuses(query, practice)


def mine(viewer: access.Viewer) -> dict[str, ScenarioAssignmentStatus]:
    """The viewer's own assignment per scenario slug: the open one, else the
    one done last."""
    require_person(viewer)
    practice = Practice.objects.get(pk=viewer.practice_id)
    found: dict[str, ScenarioAssignmentStatus] = {}
    for item in reversed(_statuses(_query(viewer.practice_id).filter(user_id=viewer.user_id), practice)):
        if item.scenario_slug not in found or item.completed_at is None:
            found[item.scenario_slug] = item
    return found


def assign_scenario(viewer: access.Viewer, slug: str, user_ids: list[int], due: date | None = None, *,
                    via: str = "console", ip: str | None = None) -> list[ScenarioAssignmentStatus]:
    """Assign a scenario to staff members of the supervisor's practice (an
    open assignment of the same scenario gets the new due date)."""
    require_supervisor(viewer)
    scenario = get_scenario(slug)
    if scenario is None:
        raise NotFound("No such scenario.")
    practice = Practice.objects.get(pk=viewer.practice_id)
    if due is not None and due < _today(practice):
        raise InvalidInput("The due date is in the past.")
    wanted = sorted(set(user_ids))
    if not wanted or len(wanted) > MAX_USERS:
        raise InvalidInput(f"Choose 1 to {MAX_USERS} people.")
    found = set(AgentProfile.objects.in_practice(viewer.practice_id).exclude(role=AgentProfile.Role.INTEGRATION)
                .filter(user_id__in=wanted).values_list("user_id", flat=True))
    missing = [str(u) for u in wanted if u not in found]
    if missing:
        raise NotFound(f"No such staff member: {', '.join(missing)}.")
    now = clock.now()
    with transaction.atomic():
        made = [_assign_one(viewer, slug, user_id, due, now) for user_id in wanted]
        for assignment in made:
            audit.record(user_id=viewer.user_id, practice_id=viewer.practice_id, action="training.assigned",
                         obj=assignment, via=via, ip=ip,
                         detail={"scenario": slug, "agent": assignment.user_id,
                                 "due": due.isoformat() if due else None})
    return _statuses(_query(viewer.practice_id).filter(pk__in=[a.pk for a in made]), practice)


def _assign_one(viewer: access.Viewer, slug: str, user_id: int, due: date | None, now: datetime) -> Assignment:
    open_one = Assignment.objects.in_practice(viewer.practice_id).select_for_update(no_key=True).filter(
        user_id=user_id, scenario_slug=slug, completed_at__isnull=True).first()
    if open_one is None:
        try:
            with transaction.atomic():
                return Assignment.objects.create(practice_id=viewer.practice_id, scenario_slug=slug, user_id=user_id,
                                                 assigned_by_id=viewer.user_id, assigned_at=now, due=due)
        except IntegrityError:  # assigned meanwhile by someone else
            open_one = Assignment.objects.select_for_update(no_key=True).get(user_id=user_id, scenario_slug=slug,
                                                                  completed_at__isnull=True)
    open_one.due, open_one.assigned_by_id = due, viewer.user_id
    open_one.save(update_fields=["due", "assigned_by"])
    return open_one


def remove_assignment(viewer: access.Viewer, assignment_id: int, *, via: str = "console",
                      ip: str | None = None) -> None:
    require_supervisor(viewer)
    with transaction.atomic():
        found = Assignment.objects.in_practice(viewer.practice_id).select_for_update(no_key=True).filter(pk=assignment_id).first()
        if found is None:
            raise NotFound("No such assignment.")
        detail = {"scenario": found.scenario_slug, "agent": found.user_id}
        found.delete()
        audit.record(user_id=viewer.user_id, practice_id=viewer.practice_id, action="training.assignment_removed",
                     obj=("assignment", assignment_id), via=via, ip=ip, detail=detail)


def complete_for(run: PracticeRun) -> int:
    """Mark the open assignments a just-finished run completes; in the
    run's transaction. Returns how many."""
    return Assignment.objects.in_practice(run.practice_id).filter(
        user_id=run.user_id, scenario_slug=run.scenario_slug, completed_at__isnull=True,
        assigned_at__lte=run.ended_at,
    ).update(completed_run=run, completed_at=run.ended_at)
