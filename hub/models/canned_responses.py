from django.db import models

from hub.models.base import PracticeScoped


class CannedResponse(PracticeScoped):
    """A reply agents insert with `/shortcut`. Variables in braces are filled
    in for the conversation: {patient_first_name}, {agent_name},
    {practice_name}."""

    shortcut = models.SlugField(max_length=40)
    title = models.CharField(max_length=100)
    body = models.TextField()
    department = models.ForeignKey("hub.Department", null=True, blank=True, on_delete=models.CASCADE,
                                   help_text="Only for this department; empty: everyone.")

    class Meta:
        ordering = ["shortcut"]
        constraints = [models.UniqueConstraint(fields=["practice", "shortcut"], name="canned_shortcut_unique")]

    def __str__(self) -> str:
        return f"/{self.shortcut}"
