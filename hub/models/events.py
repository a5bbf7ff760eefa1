from django.conf import settings
from django.db import models
from django.db.models import Q

from hub.models.base import PracticeScoped


class Event(PracticeScoped):
    """One entry on a patient's timeline. Append-only: the only fields that
    change after insert are an outbound message's delivery state."""

    class Kind(models.TextChoices):
        MESSAGE = "message", "Message"
        CALL = "call", "Call"
        NOTE = "note", "Internal note"
        ASSIGNMENT = "assignment", "Assignment"
        TRANSFER = "transfer", "Transfer"
        STATUS = "status", "Status change"
        SYSTEM = "system", "System notice"

    class Direction(models.TextChoices):
        IN = "in", "From patient"
        OUT = "out", "To patient"
        INTERNAL = "internal", "Internal"

    class Delivery(models.TextChoices):
        PENDING = "pending", "Pending"
        QUEUED = "queued", "Queued"
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        DELIVERED = "delivered", "Delivered"
        READ = "read", "Read"
        UNDELIVERED = "undelivered", "Undelivered"
        FAILED = "failed", "Failed"

    # Each event insert maintains every index on this table: the foreign
    # keys below are covered by the composite indexes in Meta, so they get
    # no index of their own.
    practice = models.ForeignKey("hub.Practice", on_delete=models.CASCADE, related_name="+", db_index=False)
    conversation = models.ForeignKey("hub.Conversation", on_delete=models.CASCADE, related_name="events",
                                     db_index=False)
    patient = models.ForeignKey("hub.Patient", on_delete=models.CASCADE, related_name="events", db_index=False)
    seq = models.PositiveIntegerField(help_text="Position in the conversation, from 1.")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    channel = models.CharField(max_length=16, help_text="sms, voice, web, api or internal.")
    direction = models.CharField(max_length=8, choices=Direction.choices)
    body = models.TextField(blank=True, default="")
    data = models.JSONField(default=dict, blank=True)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    provider_id = models.CharField(max_length=128, null=True, blank=True)
    created_at = models.DateTimeField()
    # Outbound delivery. Status only moves forward (hub.lib.delivery).
    delivery_status = models.CharField(max_length=16, choices=Delivery.choices, blank=True, default="")
    delivery_attempts = models.PositiveSmallIntegerField(default=0)
    delivery_attempted_at = models.DateTimeField(null=True, blank=True)
    delivery_error = models.CharField(max_length=300, blank=True, default="")
    delivery_error_code = models.CharField(max_length=32, blank=True, default="")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["conversation", "seq"], name="event_seq_unique"),
            models.UniqueConstraint(
                fields=["practice", "channel", "provider_id"],
                condition=Q(provider_id__isnull=False),
                name="event_provider_id_unique",
            ),
        ]
        indexes = [
            models.Index(fields=["patient", "created_at"]),
            models.Index(fields=["practice", "created_at"]),
            models.Index(fields=["delivery_status"], condition=Q(delivery_status="pending"), name="event_pending_idx"),
        ]

    def __str__(self) -> str:
        return f"Event #{self.pk} ({self.kind})"
