from django.conf import settings
from django.db import models
from django.db.models import Q

from hub.models.base import PracticeScoped


class Offer(PracticeScoped):
    """A waiting conversation offered to one agent by automatic assignment.
    Not accepted in time, it goes back to the queue and on to the next."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        ACCEPTED = "accepted", "Accepted"
        DECLINED = "declined", "Declined"
        EXPIRED = "expired", "Expired"
        WITHDRAWN = "withdrawn", "Withdrawn"

    conversation = models.ForeignKey("hub.Conversation", on_delete=models.CASCADE, related_name="offers")
    agent = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="offers")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["conversation"], condition=Q(status="pending"),
                                    name="one_pending_offer_per_conversation"),
        ]
        indexes = [models.Index(fields=["expires_at"], condition=Q(status="pending"), name="offer_due_idx")]
