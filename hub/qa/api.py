"""/api/v1/qa/: quality reviews, the rubric and review trends. Endpoints
decode, call one action or query of hub.qa, and answer (docs/qa.md)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Annotated, Literal

from ninja import Query, Router, Schema, Status
from pydantic import Field, StrictInt, StringConstraints

from hub.actions.errors import InvalidInput, NotFound
from hub.api import requests
from hub.api.schemas import ErrorOut, Id, Offset
from hub.lib import access, directory
from hub.models import Practice
from hub.qa import actions, queries, trends
from hub.qa.models import Review, Rubric
from hub.qa.rubrics import active_rubric

router = Router(tags=["qa"])

ERRORS = {status: ErrorOut for status in (400, 401, 403, 404, 409, 422)}
NO_NUL = r"^[^\x00]*$"
ScoreKey = Annotated[str, StringConstraints(min_length=1, max_length=40, pattern=NO_NUL)]
Scores = Annotated[dict[ScoreKey, StrictInt], Field(max_length=40, description="{criterion key: points}")]
Comments = Annotated[str, StringConstraints(max_length=actions.COMMENTS_LENGTH, pattern=NO_NUL)]
DateText = Annotated[str, StringConstraints(max_length=10, pattern=NO_NUL)]


# --- schemas -----------------------------------------------------------------------------


class CriterionIn(Schema):
    key: Annotated[str, StringConstraints(max_length=40, pattern=r"^([a-z][a-z0-9_]*)?$")] = Field(
        "", description="Keep a criterion's key to keep it the same criterion in trends; empty for a new one.")
    label: Annotated[str, StringConstraints(min_length=1, max_length=60, pattern=NO_NUL)]
    description: Annotated[str, StringConstraints(max_length=300, pattern=NO_NUL)] = ""
    max: Annotated[StrictInt, Field(ge=1, le=100)]


class RubricIn(Schema):
    name: Annotated[str, StringConstraints(min_length=1, max_length=100, pattern=NO_NUL)]
    criteria: Annotated[list[CriterionIn], Field(min_length=1, max_length=20)]


class CriterionOut(Schema):
    key: str
    label: str
    description: str
    max: int


class RubricOut(Schema):
    id: int
    name: str
    criteria: list[CriterionOut]
    is_active: bool
    created_at: datetime
    created_by_id: int | None


class ReviewIn(Schema):
    conversation_id: Id
    scores: Scores
    comments: Comments = ""


class ReviewUpdateIn(Schema):
    scores: Scores
    comments: Comments = ""


class ScoreOut(Schema):
    key: str
    label: str
    max: int
    score: int | None


class ReviewOut(Schema):
    id: int
    conversation_id: int
    rubric_id: int
    rubric_name: str
    criteria: list[ScoreOut]
    scores: dict[str, int]
    points: int
    possible: int
    percent: float
    comments: str
    reviewer_id: int | None
    reviewer_name: str | None
    agent_id: int | None
    agent_name: str | None
    created_at: datetime
    updated_at: datetime
    acknowledged_at: datetime | None


class ReviewList(Schema):
    reviews: list[ReviewOut]
    next_offset: int | None


class ReviewQuery(Schema):
    agent_id: Id | None = None
    conversation_id: Id | None = None
    limit: int = Field(50, ge=1, le=200)
    offset: Offset = 0


class TrendQuery(Schema):
    from_: DateText = Field("", alias="from", description="YYYY-MM-DD, practice time zone; 12 weeks before 'to' by default.")
    to: DateText = Field("", description="YYYY-MM-DD, inclusive; today by default.")
    agent: Id | None = None
    department: Id | None = None
    topic: Id | None = None
    channel: Literal["", "voice", "sms", "web", "api"] = ""


class WeekOut(Schema):
    week: date = Field(description="The week's Monday.")
    reviews: int
    average_percent: float | None


class AgentTrendOut(Schema):
    agent_id: int
    name: str
    reviews: int
    average_percent: float | None
    criteria: dict[str, float | None] = Field(description="{criterion key: average percent of its maximum}")
    weeks: list[WeekOut]


class CriterionLabel(Schema):
    key: str
    label: str


class TrendsOut(Schema):
    from_: date = Field(alias="from")
    to: date
    criteria: list[CriterionLabel]
    agents: list[AgentTrendOut]


# --- helpers -------------------------------------------------------------------------------


def _viewer(request) -> access.Viewer:
    viewer = requests.viewer(request)
    if not viewer.is_person:
        raise actions.Forbidden("Quality reviews are for staff members.", code="not_a_person")
    return viewer


def _rubric_out(rubric: Rubric) -> dict:
    return {"id": rubric.pk, "name": rubric.name, "criteria": rubric.criteria, "is_active": rubric.is_active,
            "created_at": rubric.created_at, "created_by_id": rubric.created_by_id}


def _review_out(review: Review) -> dict:
    pid = review.practice_id
    return {
        "id": review.pk, "conversation_id": review.conversation_id, "rubric_id": review.rubric_id,
        "rubric_name": review.rubric.name,
        "criteria": [{"key": c["key"], "label": c["label"], "max": c["max"], "score": review.scores.get(c["key"])}
                     for c in review.rubric.criteria],
        "scores": review.scores, "points": review.points, "possible": review.possible, "percent": review.percent,
        "comments": review.comments, "reviewer_id": review.reviewer_id,
        "reviewer_name": directory.staff_name(pid, review.reviewer_id), "agent_id": review.agent_id,
        "agent_name": directory.staff_name(pid, review.agent_id), "created_at": review.created_at,
        "updated_at": review.updated_at, "acknowledged_at": review.acknowledged_at,
    }


def _visible(viewer: access.Viewer, review_id: int) -> Review:
    found = actions.visible_reviews(viewer).select_related("rubric").filter(pk=review_id).first()
    if found is None:
        raise NotFound("No such review.")
    return found


# --- the rubric ----------------------------------------------------------------------------


@router.get("/qa/rubric", response={200: RubricOut, **ERRORS})
def get_rubric(request):
    """The practice's active rubric: what every new review scores."""
    return _rubric_out(active_rubric(_viewer(request).practice_id))


@router.put("/qa/rubric", response={200: RubricOut, **ERRORS})
def put_rubric(request, body: RubricIn):
    """Supervisors: a new version of the rubric. Earlier reviews keep theirs."""
    rubric, _ = actions.change_rubric(_viewer(request), name=body.name,
                                      criteria=[c.dict() for c in body.criteria], **requests.who(request))
    return _rubric_out(rubric)


# --- reviews -------------------------------------------------------------------------------


@router.get("/qa/reviews", response={200: ReviewList, **ERRORS})
def list_reviews(request, query: Query[ReviewQuery]):
    """Supervisors: the practice's reviews; anyone else: the reviews of
    their own conversations. Newest first."""
    viewer = _viewer(request)
    qs = actions.visible_reviews(viewer).select_related("rubric")
    if query.agent_id is not None:
        qs = qs.filter(agent_id=query.agent_id)
    if query.conversation_id is not None:
        qs = qs.filter(conversation_id=query.conversation_id)
    rows = list(qs.order_by("-created_at", "-pk")[query.offset:query.offset + query.limit + 1])
    return {"reviews": [_review_out(r) for r in rows[:query.limit]],
            "next_offset": query.offset + query.limit if len(rows) > query.limit else None}


@router.post("/qa/reviews", response={201: ReviewOut, **ERRORS})
def create_review(request, body: ReviewIn):
    """Supervisors: review a resolved conversation with the active rubric
    (409 if you already did: change that review instead)."""
    review = actions.create_review(_viewer(request), body.conversation_id, scores=body.scores,
                                   comments=body.comments, **requests.who(request))
    return Status(201, _review_out(review))


@router.get("/qa/reviews/{review_id}", response={200: ReviewOut, **ERRORS})
def get_review(request, review_id: Id):
    return _review_out(_visible(_viewer(request), review_id))


@router.put("/qa/reviews/{review_id}", response={200: ReviewOut, **ERRORS})
def update_review(request, review_id: Id, body: ReviewUpdateIn):
    """Its author changes a review (scored with the rubric it was written
    with); the agent is asked to acknowledge it again."""
    return _review_out(actions.update_review(_viewer(request), review_id, scores=body.scores,
                                             comments=body.comments, **requests.who(request)))


@router.post("/qa/reviews/{review_id}/acknowledge", response={200: ReviewOut, **ERRORS})
def acknowledge_review(request, review_id: Id):
    """The agent reviewed: I have read it."""
    return _review_out(actions.acknowledge(_viewer(request), review_id, **requests.who(request)))


# --- trends ----------------------------------------------------------------------------------


@router.get("/qa/trends", response={200: TrendsOut, **ERRORS}, by_alias=True)
def get_trends(request, query: Query[TrendQuery]):
    """Supervisors: per agent, the number of reviews, the average percent,
    the average of each criterion and the same per week, for reviews
    written from 'from' to 'to'."""
    viewer = _viewer(request)
    actions.require_supervisor(viewer)
    params = {"from": query.from_, "to": query.to, "channel": query.channel,
              **{name: str(getattr(query, name) or "") for name in ("agent", "department", "topic")}}
    try:
        scope = queries.scope_of(Practice.objects.get(pk=viewer.practice_id), params, days=84)
    except queries.BadFilter as bad:
        raise InvalidInput(str(bad)) from None
    result = trends.trends(scope)
    return {"from": scope.start.date(), "to": (scope.end - timedelta(days=1)).date(), "criteria": [{"key": k, "label": label} for k, label in result.criteria],
            "agents": [{"agent_id": a.agent_id, "name": a.name, "reviews": a.reviews,
                        "average_percent": a.average_percent, "criteria": a.criteria,
                        "weeks": [{"week": w.start, "reviews": w.reviews, "average_percent": w.average_percent}
                                  for w in a.weeks]} for a in result.agents]}
