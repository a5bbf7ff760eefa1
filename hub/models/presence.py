from django.conf import settings
from django.db import models

from hub.models.base import PracticeScoped


class PresenceChange(PracticeScoped):
    """Every change of a staff member's presence, for time-in-state KPIs."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    presence = models.CharField(max_length=16)
    reason = models.CharField(max_length=32, blank=True, default="")
    at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["practice", "at"]), models.Index(fields=["user", "at"])]
