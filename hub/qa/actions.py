"""What changes in quality review: the rubric, reviews, their
acknowledgement, and reading a conversation to review it. Each action checks
who may, works in one transaction and writes its audit row last."""

from __future__ import annotations

from django.db import IntegrityError, transaction

from hub.actions.errors import ActionError, Conflict, InvalidInput, NotFound
from hub.lib import access, audit, clock
from hub.models import Conversation, Event
from hub.qa import rubrics
from hub.qa.models import Review, Rubric

COMMENTS_LENGTH = 4000
TIMELINE_LIMIT = 1000  # events shown on the review page; a longer thread says so


class Forbidden(ActionError):
    status = 403


def require_supervisor(viewer: access.Viewer) -> None:
    if not viewer.may_supervise:
        raise Forbidden("Quality reviews are written by supervisors and practice admins.", code="not_a_supervisor")


def visible_reviews(viewer: access.Viewer):
    """Supervisors see every review in their practice; anyone else the
    reviews of their own conversations."""
    qs = Review.objects.in_practice(viewer.practice_id)
    return qs if viewer.may_supervise else qs.filter(agent_id=viewer.user_id)


def _clean_comments(comments) -> str:
    if not isinstance(comments, str) or "\x00" in comments:
        raise InvalidInput("Comments are text.")
    comments = comments.strip()
    if len(comments) > COMMENTS_LENGTH:
        raise InvalidInput(f"Comments are at most {COMMENTS_LENGTH} characters.")
    return comments


# --- the rubric ------------------------------------------------------------------------


def change_rubric(viewer: access.Viewer, *, name: str, criteria: list, via: str = "console",
                  ip: str | None = None) -> tuple[Rubric, bool]:
    """Make `criteria` the practice's rubric: a new active row, the old one
    kept for the reviews scored with it. Returns (rubric, changed); the same
    name and criteria again change nothing."""
    require_supervisor(viewer)
    name, criteria = rubrics.clean_name(name), rubrics.clean_criteria(criteria)
    try:
        with transaction.atomic():
            rubrics.active_rubric(viewer.practice_id)
            current = Rubric.objects.select_for_update(no_key=True).get(practice_id=viewer.practice_id, is_active=True)
            if current.name == name and current.criteria == criteria:
                return current, False
            Rubric.objects.filter(pk=current.pk).update(is_active=False)
            rubric = Rubric.objects.create(practice_id=viewer.practice_id, name=name, criteria=criteria,
                                           created_by=viewer.user)
            audit.record(user_id=viewer.user_id, practice_id=viewer.practice_id, action="qa.rubric_changed",
                         obj=rubric, via=via, ip=ip,
                         detail={"previous_rubric_id": current.pk,
                                 "criteria": {c["key"]: c["max"] for c in criteria}})
    except (IntegrityError, Rubric.DoesNotExist):  # changed by someone else at the same moment
        raise Conflict("The rubric was changed meanwhile. Reload it and try again.", code="rubric_changed") from None
    return rubric, True


# --- reading a conversation to review it --------------------------------------------------


def _resolved(viewer: access.Viewer, conversation_id: int) -> Conversation:
    try:
        conversation = access.get_conversation(viewer, conversation_id)
    except access.NotVisible:
        raise NotFound("No such conversation.") from None
    if conversation.status != Conversation.Status.RESOLVED:
        raise Conflict("Only resolved conversations are reviewed; this one is open.", code="not_resolved")
    return conversation


def open_for_review(viewer: access.Viewer, conversation_id: int, *, via: str = "console",
                    ip: str | None = None) -> tuple[Conversation, list[Event], bool]:
    """A resolved conversation and its timeline, for a supervisor reviewing
    it: (conversation, events oldest first, whether more were left out).
    Audited as a read of the patient's data."""
    require_supervisor(viewer)
    conversation = _resolved(viewer, conversation_id)
    events = list(conversation.events.select_related("author").order_by("seq")[:TIMELINE_LIMIT + 1])
    audit.record(user_id=viewer.user_id, practice_id=viewer.practice_id, action="qa.conversation_viewed",
                 obj=conversation, via=via, ip=ip)
    return conversation, events[:TIMELINE_LIMIT], len(events) > TIMELINE_LIMIT


# --- reviews ------------------------------------------------------------------------------


def _review_audit(viewer, action: str, review: Review, via: str, ip: str | None) -> None:
    audit.record(user_id=viewer.user_id, practice_id=viewer.practice_id, action=action, obj=review, via=via, ip=ip,
                 patient_id=review.conversation.patient_id,
                 detail={"conversation_id": review.conversation_id, "agent_id": review.agent_id,
                         "points": review.points, "possible": review.possible, "percent": review.percent})


def create_review(viewer: access.Viewer, conversation_id: int, *, scores: dict, comments: str = "",
                  via: str = "console", ip: str | None = None) -> Review:
    """Score a resolved conversation with the practice's active rubric. The
    agent is whoever held it when it was resolved; nobody reviews their own
    conversation, and each reviewer writes one review per conversation."""
    require_supervisor(viewer)
    comments = _clean_comments(comments)
    with transaction.atomic():
        conversation = _resolved(viewer, conversation_id)
        if conversation.assignee_id is None:
            raise Conflict("Nobody is recorded as having handled this conversation.", code="no_agent")
        if conversation.assignee_id == viewer.user_id:
            raise Forbidden("You handled this conversation: someone else reviews it.", code="own_conversation")
        if Review.objects.filter(conversation=conversation, reviewer_id=viewer.user_id).exists():
            raise Conflict("You have reviewed this conversation already; change that review instead.",
                           code="already_reviewed")
        rubric = rubrics.active_rubric(viewer.practice_id)
        clean, points, possible, percent = rubrics.score(rubric, scores)
        now = clock.now()
        try:
            with transaction.atomic():
                review = Review.objects.create(
                    practice_id=viewer.practice_id, conversation=conversation, rubric=rubric,
                    reviewer_id=viewer.user_id, agent_id=conversation.assignee_id, scores=clean, points=points,
                    possible=possible, percent=percent, comments=comments, created_at=now, updated_at=now)
        except IntegrityError:  # the same reviewer, twice at once
            raise Conflict("You have reviewed this conversation already; change that review instead.",
                           code="already_reviewed") from None
        _review_audit(viewer, "qa.review_created", review, via, ip)
    return review


def _locked_review(viewer: access.Viewer, review_id: int) -> Review:
    try:
        return (visible_reviews(viewer).select_related("rubric", "conversation").select_for_update(no_key=True, of=("self",))
                .get(pk=review_id))
    except (Review.DoesNotExist, ValueError, TypeError):
        raise NotFound("No such review.") from None


def update_review(viewer: access.Viewer, review_id: int, *, scores: dict, comments: str = "",
                  via: str = "console", ip: str | None = None) -> Review:
    """Its author changes a review, scored against the rubric it was written
    with. A changed review is unread again: its acknowledgement is cleared."""
    require_supervisor(viewer)
    comments = _clean_comments(comments)
    with transaction.atomic():
        review = _locked_review(viewer, review_id)
        if review.reviewer_id != viewer.user_id:
            raise Forbidden("Only its author changes a review.", code="not_author")
        clean, points, possible, percent = rubrics.score(review.rubric, scores)
        if clean == review.scores and comments == review.comments:
            return review
        review.scores, review.points, review.possible, review.percent = clean, points, possible, percent
        review.comments, review.updated_at, review.acknowledged_at = comments, clock.now(), None
        review.save()
        _review_audit(viewer, "qa.review_updated", review, via, ip)
    return review


def acknowledge(viewer: access.Viewer, review_id: int, *, via: str = "console", ip: str | None = None) -> Review:
    """The agent reviewed marks the review read (once; again after a change)."""
    with transaction.atomic():
        review = _locked_review(viewer, review_id)
        if review.agent_id != viewer.user_id:
            raise Forbidden("Only the person reviewed acknowledges a review.", code="not_your_review")
        if review.acknowledged_at is None:
            review.acknowledged_at = clock.now()
            review.save(update_fields=["acknowledged_at"])
            audit.record(user_id=viewer.user_id, practice_id=viewer.practice_id, action="qa.review_acknowledged",
                         obj=review, via=via, ip=ip, detail={"conversation_id": review.conversation_id})
    return review
