from django.db import models

from hub.models.base import PracticeScoped


class ContactPoint(PracticeScoped):
    """An address a patient reaches the practice from: a phone number (E.164,
    shared by SMS and voice), a web-chat visitor, or an external id from a
    custom integration."""

    class Kind(models.TextChoices):
        PHONE = "phone", "Phone"
        WEB = "web", "Web visitor"
        EXTERNAL = "external", "External id"

    patient = models.ForeignKey("hub.Patient", on_delete=models.CASCADE, related_name="contact_points")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    address = models.CharField(max_length=200)
    created_at = models.DateTimeField(auto_now_add=True)
    last_seen_at = models.DateTimeField(null=True, blank=True)
    sms_opted_out = models.BooleanField(default=False, help_text="Current SMS consent; history in ConsentChange.")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["practice", "kind", "address"], name="contact_point_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} contact #{self.pk}"
