from django.conf import settings
from django.db import models
from django.db.models import Q

from hub.models.base import PracticeScoped


class Conversation(PracticeScoped):
    """A thread of work with one patient. A patient has at most one open
    conversation (enforced by a partial unique index); their timeline is every
    event across all their conversations."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Waiting"
        ASSIGNED = "assigned", "Assigned"
        SNOOZED = "snoozed", "Snoozed"
        RESOLVED = "resolved", "Resolved"

    class Priority(models.IntegerChoices):
        LOW = -1, "Low"
        NORMAL = 0, "Normal"
        HIGH = 1, "High"
        URGENT = 2, "Urgent"

    # Covered by the composite indexes in Meta (every inbound event updates
    # this row, and each index is maintained on every non-HOT update).
    practice = models.ForeignKey("hub.Practice", on_delete=models.CASCADE, related_name="+", db_index=False)
    patient = models.ForeignKey("hub.Patient", on_delete=models.CASCADE, related_name="conversations")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    department = models.ForeignKey("hub.Department", on_delete=models.PROTECT, related_name="conversations")
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
        related_name="assigned_conversations", db_index=False,
    )
    topic = models.ForeignKey("hub.Topic", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    priority = models.SmallIntegerField(choices=Priority.choices, default=Priority.NORMAL)
    urgent = models.BooleanField(default=False)
    channel = models.CharField(max_length=16, help_text="Channel of the patient's latest inbound contact.")
    disposition = models.CharField(max_length=32, blank=True, default="")
    created_at = models.DateTimeField()
    waiting_since = models.DateTimeField(null=True, blank=True, help_text="When the patient began waiting for a reply.")
    first_response_at = models.DateTimeField(null=True, blank=True)
    last_activity_at = models.DateTimeField()
    snoozed_until = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    last_event_seq = models.PositiveIntegerField(default=0)
    agent_read_seq = models.PositiveIntegerField(default=0, help_text="Staff have seen the thread up to here.")
    routing_reason = models.CharField(max_length=200, blank=True, default="")
    needs_callback = models.BooleanField(default=False, help_text="A missed or abandoned call, a voicemail.")
    # The SLA clock that matters now (the soonest deadline), kept here so the
    # queue and the stream show it without another query.
    sla_kind = models.CharField(max_length=16, blank=True, default="")
    sla_state = models.CharField(max_length=16, blank=True, default="", help_text="running, warning, breached, paused")
    sla_deadline = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["patient"], condition=~Q(status="resolved"), name="one_open_conversation_per_patient"
            ),
        ]
        indexes = [
            models.Index(fields=["practice", "status", "department"]),
            models.Index(fields=["assignee", "status"]),
            models.Index(fields=["practice", "created_at"]),
        ]

    def __str__(self) -> str:
        return f"Conversation #{self.pk}"

    @property
    def is_open(self) -> bool:
        return self.status != self.Status.RESOLVED
