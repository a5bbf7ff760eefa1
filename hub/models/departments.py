from django.conf import settings
from django.db import models

from hub.models.base import PracticeScoped


class Department(PracticeScoped):
    name = models.CharField(max_length=100)
    slug = models.SlugField(max_length=64)
    ivr_digit = models.CharField(max_length=1, blank=True, default="", help_text="Keypad choice in the phone menu.")
    is_clinical = models.BooleanField(default=False, help_text="Clinical queues receive urgent symptoms.")
    position = models.PositiveSmallIntegerField(default=0)

    class Assignment(models.TextChoices):
        MANUAL = "manual", "Agents pick up"
        ROUND_ROBIN = "round_robin", "Offer in turn (round-robin)"
        LEAST_BUSY = "least_busy", "Offer to the least busy agent"

    assignment = models.CharField(max_length=16, choices=Assignment.choices, default=Assignment.MANUAL)
    offer_timeout_seconds = models.PositiveSmallIntegerField(default=30)
    last_offered_to = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                        related_name="+", help_text="Round-robin position.")
    after_hours_message = models.CharField(
        max_length=300, blank=True,
        default="Thanks for your message. We're closed right now and will reply when we open ({next_opening}). "
                "If this is a medical emergency, call 911.",
        help_text="Sent once when a patient writes while the department is closed; {next_opening} is filled in.",
    )

    class Meta:
        ordering = ["position", "name"]
        constraints = [models.UniqueConstraint(fields=["practice", "slug"], name="department_slug_unique")]

    def __str__(self) -> str:
        return self.name
