from django.conf import settings
from django.db import models

from hub.models.base import PracticeScoped


class ConsentChange(PracticeScoped):
    """The ledger of a contact point's consent to be texted: every opt-out
    and opt-in, when, and why. The current state is kept on the contact
    point; this is its history, as carriers require."""

    class Source(models.TextChoices):
        KEYWORD = "keyword", "Keyword from the patient"
        PROVIDER = "provider", "Reported by the provider"
        WIDGET = "widget", "Web chat consent"
        STAFF = "staff", "Recorded by staff"

    contact_point = models.ForeignKey("hub.ContactPoint", on_delete=models.CASCADE, related_name="consent_changes")
    channel = models.CharField(max_length=16, default="sms")
    opted_in = models.BooleanField()
    source = models.CharField(max_length=16, choices=Source.choices)
    detail = models.CharField(max_length=100, blank=True, default="", help_text="The keyword or provider code.")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["created_at", "pk"]
        indexes = [models.Index(fields=["contact_point", "created_at"])]

    def __str__(self) -> str:
        return f"{'opt-in' if self.opted_in else 'opt-out'} ({self.source})"
