from django.conf import settings
from django.db import models

from hub.models.base import PracticeScoped


class AgentProfile(PracticeScoped):
    """A staff member of one practice: their role, departments and live state."""

    class Role(models.TextChoices):
        AGENT = "agent", "Agent"
        SUPERVISOR = "supervisor", "Supervisor"
        ADMIN = "admin", "Practice admin"
        INTEGRATION = "integration", "Integration (API)"

    class Presence(models.TextChoices):
        AVAILABLE = "available", "Available"
        BUSY = "busy", "Busy"
        AWAY = "away", "Away"
        OFFLINE = "offline", "Offline"

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="agent")
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.AGENT)
    departments = models.ManyToManyField("hub.Department", blank=True, related_name="agents")
    capacity = models.PositiveSmallIntegerField(default=4, help_text="Most conversations worked at once.")
    presence = models.CharField(max_length=16, choices=Presence.choices, default=Presence.OFFLINE)
    presence_changed_at = models.DateTimeField(null=True, blank=True)
    voice_endpoint = models.CharField(
        max_length=64, blank=True, default="",
        help_text="Where calls picked up in the console ring: a phone number (+1555...) or client:identity.",
    )

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        return self.user.get_full_name() or self.user.get_username()

    @property
    def sees_all_departments(self) -> bool:
        return self.role in (self.Role.SUPERVISOR, self.Role.ADMIN, self.Role.INTEGRATION)
