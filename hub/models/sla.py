from django.db import models
from django.db.models import Q

from hub.models.base import PracticeScoped


class SlaPolicy(PracticeScoped):
    """How fast a department answers. The most specific policy applies:
    department and priority, then department, then priority, then the
    practice's default (both empty). An empty target is not measured."""

    name = models.CharField(max_length=100)
    department = models.ForeignKey("hub.Department", null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    priority = models.SmallIntegerField(null=True, blank=True)
    first_response_seconds = models.PositiveIntegerField(null=True, blank=True)
    next_response_seconds = models.PositiveIntegerField(null=True, blank=True)
    resolution_seconds = models.PositiveIntegerField(null=True, blank=True)
    business_hours_only = models.BooleanField(default=False,
                                              help_text="Clocks run only while the department is open.")
    warning_percent = models.PositiveSmallIntegerField(default=75)
    raise_priority_on_breach = models.BooleanField(default=True)
    reassign_on_breach = models.BooleanField(default=False,
                                             help_text="A breached conversation goes back to its queue.")

    class Meta:
        verbose_name = "SLA policy"
        verbose_name_plural = "SLA policies"

    def __str__(self) -> str:
        return self.name


class SlaClock(PracticeScoped):
    """One measured promise for one conversation. The deadline lives here
    (not in a task queue): tasks make it fire on time, the sweep makes it
    fire at all, and a compare-and-set makes it fire once."""

    class Kind(models.TextChoices):
        FIRST_RESPONSE = "first_response", "First response"
        NEXT_RESPONSE = "next_response", "Next response"
        RESOLUTION = "resolution", "Resolution"

    class State(models.TextChoices):
        RUNNING = "running", "Running"
        PAUSED = "paused", "Paused"
        MET = "met", "Met"
        BREACHED = "breached", "Breached"
        CANCELLED = "cancelled", "Cancelled"

    conversation = models.ForeignKey("hub.Conversation", on_delete=models.CASCADE, related_name="sla_clocks")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    state = models.CharField(max_length=16, choices=State.choices, default=State.RUNNING)
    target_seconds = models.PositiveIntegerField()
    business_hours_only = models.BooleanField(default=False)
    warning_percent = models.PositiveSmallIntegerField(default=75)
    started_at = models.DateTimeField()
    warn_at = models.DateTimeField()
    deadline = models.DateTimeField()
    warned_at = models.DateTimeField(null=True, blank=True)
    breached_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    paused_at = models.DateTimeField(null=True, blank=True)
    remaining_seconds = models.FloatField(null=True, blank=True, help_text="Left on the clock while paused.")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["conversation", "kind"], condition=Q(state__in=["running", "paused"]),
                                    name="one_live_sla_clock_per_kind"),
        ]
        indexes = [
            models.Index(fields=["deadline"], condition=Q(state="running", breached_at__isnull=True),
                         name="sla_due_idx"),
            models.Index(fields=["warn_at"], condition=Q(state="running", warned_at__isnull=True),
                         name="sla_warn_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} ({self.state})"
