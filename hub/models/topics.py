from django.db import models

from hub.models.base import PracticeScoped


class Topic(PracticeScoped):
    """Why the patient is in touch ("Appointment request", "Bill question");
    each topic belongs to the department that handles it."""

    name = models.CharField(max_length=100)
    slug = models.SlugField(max_length=64)
    department = models.ForeignKey("hub.Department", on_delete=models.CASCADE, related_name="topics")
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "name"]
        constraints = [models.UniqueConstraint(fields=["practice", "slug"], name="topic_slug_unique")]

    def __str__(self) -> str:
        return self.name
