from django.db import models

from hub.models.base import PracticeScoped


class Department(PracticeScoped):
    name = models.CharField(max_length=100)
    slug = models.SlugField(max_length=64)
    ivr_digit = models.CharField(max_length=1, blank=True, default="", help_text="Keypad choice in the phone menu.")
    is_clinical = models.BooleanField(default=False, help_text="Clinical queues receive urgent symptoms.")
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "name"]
        constraints = [models.UniqueConstraint(fields=["practice", "slug"], name="department_slug_unique")]

    def __str__(self) -> str:
        return self.name
