"""Role-play practice: an agent's runs of a scenario and the scenarios
supervisors assign. Nothing here is patient data: personas and their
messages are fiction from the scenario files."""

from django.conf import settings
from django.db import models

from hub.models.base import PracticeScoped


class PracticeRun(PracticeScoped):
    """One agent playing one scenario. The transcript holds every patient
    message (with the moment it becomes visible), every agent action (with
    its moment, intents and flags) and system marks, as JSON; the automatic
    scorecard is computed when the run ends and kept with it, so it never
    changes when the scenario file does. A supervisor's rubric scores are
    stored here too."""

    class Status(models.TextChoices):
        IN_PROGRESS = "in_progress", "In progress"
        FINISHED = "finished", "Finished"
        ABANDONED = "abandoned", "Abandoned"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    scenario_slug = models.SlugField(max_length=64)
    scenario_title = models.CharField(max_length=120)
    scenario_version = models.CharField(max_length=64, help_text="Hash of the scenario file the run was played on.")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.IN_PROGRESS)
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)
    node = models.CharField(max_length=64, help_text="The scenario node the run is at.")
    verified_at = models.DateTimeField(null=True, blank=True,
                                       help_text="When the simulated patient's identity was verified.")
    transcript = models.JSONField(default=list)
    outcome = models.CharField(max_length=16, blank=True, default="")
    need_met = models.BooleanField(null=True, blank=True)
    summary = models.TextField(blank=True, default="")
    scorecard = models.JSONField(null=True, blank=True)
    score = models.PositiveSmallIntegerField(null=True, blank=True, help_text="The scorecard's overall score, 0-100.")

    # The supervisor's review against the practice's rubric (hub.qa).
    rubric = models.ForeignKey("qa.Rubric", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    review_scores = models.JSONField(null=True, blank=True)
    review_points = models.PositiveSmallIntegerField(null=True, blank=True)
    review_possible = models.PositiveSmallIntegerField(null=True, blank=True)
    review_percent = models.FloatField(null=True, blank=True)
    review_comment = models.TextField(blank=True, default="")
    reviewed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+")
    reviewed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["practice", "user", "scenario_slug"]),
                   models.Index(fields=["practice", "status", "ended_at"])]
        constraints = [models.UniqueConstraint(fields=["user"], condition=models.Q(status="in_progress"),
                                               name="training_one_run_in_progress")]

    def __str__(self) -> str:
        return f"{self.scenario_slug} run #{self.pk}"


class Assignment(PracticeScoped):
    """A scenario a supervisor asked an agent to practise. Completed by the
    first run of it the agent finishes after it was assigned."""

    scenario_slug = models.SlugField(max_length=64)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    assigned_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    assigned_at = models.DateTimeField()
    due = models.DateField(null=True, blank=True)
    completed_run = models.ForeignKey(PracticeRun, null=True, blank=True, on_delete=models.SET_NULL,
                                      related_name="+")
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "scenario_slug"],
                                               condition=models.Q(completed_at__isnull=True),
                                               name="training_one_open_assignment")]

    def __str__(self) -> str:
        return f"{self.scenario_slug} for user #{self.user_id}"
