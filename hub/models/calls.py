from django.conf import settings
from django.db import models

from hub.models.base import PracticeScoped


class Call(PracticeScoped):
    """One phone call, from ringing to hanging up. Its story is told on the
    conversation's timeline by Events; this row holds the state those
    events come from. Status only moves forward (hub.lib.delivery-like
    ranks in hub.actions.calls)."""

    class Status(models.TextChoices):
        RINGING = "ringing", "Ringing"
        IN_MENU = "in_menu", "In the phone menu"
        QUEUED = "queued", "On hold"
        IN_PROGRESS = "in_progress", "Talking"
        VOICEMAIL = "voicemail", "Leaving a voicemail"
        COMPLETED = "completed", "Ended"
        ABANDONED = "abandoned", "Hung up on hold"
        MISSED = "missed", "Missed"
        FAILED = "failed", "Failed"

    conversation = models.ForeignKey("hub.Conversation", on_delete=models.CASCADE, related_name="calls")
    call_sid = models.CharField(max_length=34, unique=True)
    direction = models.CharField(max_length=16, default="inbound")
    from_number = models.CharField(max_length=20)
    to_number = models.CharField(max_length=20)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.RINGING)
    department = models.ForeignKey("hub.Department", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    menu_attempts = models.PositiveSmallIntegerField(default=0)
    queue_name = models.CharField(max_length=64, blank=True, default="")
    queue_sid = models.CharField(max_length=34, blank=True, default="")
    leave_intent = models.CharField(max_length=16, blank=True, default="", help_text="voicemail or callback")
    started_at = models.DateTimeField()
    enqueued_at = models.DateTimeField(null=True, blank=True)
    dequeued_at = models.DateTimeField(null=True, blank=True)
    queue_seconds = models.PositiveIntegerField(null=True, blank=True)
    answered_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+")
    answered_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    duration_seconds = models.PositiveIntegerField(null=True, blank=True, help_text="Twilio's CallDuration.")
    talk_seconds = models.PositiveIntegerField(null=True, blank=True)
    recording_sid = models.CharField(max_length=34, blank=True, default="")

    class Meta:
        indexes = [models.Index(fields=["practice", "status"]), models.Index(fields=["practice", "started_at"])]

    def __str__(self) -> str:
        return f"Call {self.call_sid} ({self.status})"
