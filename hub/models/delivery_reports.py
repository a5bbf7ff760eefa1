from django.db import models


class DeliveryReport(models.Model):
    """A provider's status report that arrived before the hub knew the
    message's provider id: Twilio can call back about a text before the
    worker that sent it has stored the SID. Applied, then removed, as soon
    as the id is stored; reports about messages the hub never sent expire."""

    channel = models.CharField(max_length=16)
    provider_id = models.CharField(max_length=128)
    status = models.CharField(max_length=16)
    error_code = models.CharField(max_length=32, blank=True, default="")
    error = models.CharField(max_length=300, blank=True, default="")
    received_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["channel", "provider_id", "status"], name="delivery_report_unique")]
        indexes = [models.Index(fields=["received_at"])]
