import secrets

from django.db import models

from hub.models.base import PracticeScoped


def _new_secret() -> str:
    return secrets.token_urlsafe(32)


class ApiInbox(PracticeScoped):
    """A custom channel: an integration posts inbound messages to the REST API
    and receives the practice's replies at its webhook (or polls for them)."""

    name = models.CharField(max_length=100, default="API")
    webhook_url = models.URLField(blank=True, default="", help_text="Replies are POSTed here; empty: the integration polls.")
    secret = models.CharField(max_length=64, default=_new_secret, help_text="Signs webhook bodies (X-Hub-Signature).")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["practice"], name="one_api_inbox_per_practice")]
        verbose_name = "API inbox"

    def __str__(self) -> str:
        return self.name


class SandboxMessage(models.Model):
    """A text the sandbox SMS backend "sent": what Twilio would hold."""

    sid = models.CharField(max_length=34, unique=True)
    to = models.CharField(max_length=20)
    from_number = models.CharField(max_length=20, blank=True, default="")
    messaging_service_sid = models.CharField(max_length=34, blank=True, default="")
    body = models.TextField()
    status = models.CharField(max_length=16, default="queued")
    status_callback = models.URLField(max_length=500)
    created_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["to", "created_at"])]

    def __str__(self) -> str:
        return self.sid


class SandboxCallCommand(models.Model):
    """What the hub asked Twilio to do with a call, in sandbox mode; the
    simulate_call command carries it out."""

    call_sid = models.CharField(max_length=34, db_index=True)
    action = models.CharField(max_length=16)
    url = models.URLField(max_length=500, blank=True, default="")
    done = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
