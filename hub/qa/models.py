"""Quality review: the practice's scoring rubric and the reviews
supervisors write of real conversations (docs/qa.md)."""

from django.conf import settings
from django.db import models

from hub.models.base import PracticeScoped


class Rubric(models.Model):
    """How a practice scores an agent's handling of a conversation (or of a
    role-play run). `criteria` is a list of {"key", "label", "description",
    "max"}; each criterion is scored 0..max. One rubric per practice is
    active; a changed rubric is a new row, so old scores keep their meaning."""

    practice = models.ForeignKey("hub.Practice", on_delete=models.CASCADE, related_name="+")
    name = models.CharField(max_length=100, default="Conversation quality")
    criteria = models.JSONField()
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["practice"], condition=models.Q(is_active=True),
                                               name="qa_one_active_rubric")]

    def __str__(self) -> str:
        return f"{self.name} (practice #{self.practice_id})"


class Review(PracticeScoped):
    """A supervisor's scores and coaching comments on one resolved
    conversation, against the rubric active when it was written. `agent` is
    who held the conversation when it was resolved. One per conversation and
    reviewer; only its author changes it."""

    conversation = models.ForeignKey("hub.Conversation", on_delete=models.CASCADE, related_name="+")
    rubric = models.ForeignKey(Rubric, on_delete=models.PROTECT, related_name="reviews")
    reviewer = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    agent = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    scores = models.JSONField(help_text="{criterion key: points}")
    points = models.PositiveIntegerField()
    possible = models.PositiveIntegerField()
    percent = models.FloatField()
    comments = models.TextField(blank=True, default="")
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    acknowledged_at = models.DateTimeField(null=True, blank=True,
                                           help_text="When the agent marked it read; cleared when it changes.")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["conversation", "reviewer"], name="qa_one_review_per_reviewer")]
        indexes = [models.Index(fields=["practice", "created_at"]), models.Index(fields=["agent", "created_at"])]

    def __str__(self) -> str:
        return f"Review #{self.pk} of conversation #{self.conversation_id}"
