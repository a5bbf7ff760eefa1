from django.db import models

from hub.models.base import PracticeScoped


class Attachment(PracticeScoped):
    """A file on a timeline event: an MMS picture, a PDF from web chat. The
    file is fetched and checked by a task; until then it is pending. It is
    only ever served to staff who may see the conversation."""

    class Status(models.TextChoices):
        PENDING = "pending", "Being fetched"
        STORED = "stored", "Stored"
        REJECTED = "rejected", "Rejected"
        FAILED = "failed", "Could not be fetched"

    event = models.ForeignKey("hub.Event", on_delete=models.CASCADE, related_name="attachments")
    position = models.PositiveSmallIntegerField(default=0)
    content_type = models.CharField(max_length=100, blank=True, default="")
    size = models.PositiveIntegerField(null=True, blank=True)
    filename = models.CharField(max_length=200, blank=True, default="")
    source_url = models.URLField(max_length=1000, blank=True, default="", help_text="Where the provider holds it.")
    file = models.FileField(upload_to="attachments/%Y/%m/", blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    reason = models.CharField(max_length=200, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["event", "position"]

    def __str__(self) -> str:
        return f"Attachment #{self.pk} ({self.content_type or 'unknown type'})"
