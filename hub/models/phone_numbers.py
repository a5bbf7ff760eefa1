from django.db import models

from hub.models.base import PracticeScoped


class PhoneNumber(PracticeScoped):
    """A number the practice owns at its provider. Texts and calls to it
    belong to the practice; its texts go out from it."""

    number = models.CharField(max_length=20, unique=True, help_text="E.164, e.g. +15550100100.")
    label = models.CharField(max_length=100, blank=True, default="")
    sms = models.BooleanField(default=True)
    voice = models.BooleanField(default=True)

    class Meta:
        ordering = ["pk"]

    def __str__(self) -> str:
        return self.label or self.number
