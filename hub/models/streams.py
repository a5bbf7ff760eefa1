from django.db import models


class StreamCounter(models.Model):
    """The last sequence number handed out on a realtime stream. Incrementing
    it row-locks the counter until commit, so sequence order is commit order
    on each stream: a client that has seen seq N has every seq below N
    available from the database."""

    stream = models.CharField(max_length=64, primary_key=True)
    last_seq = models.BigIntegerField(default=0)


class StreamEntry(models.Model):
    """A published realtime event, kept for replay to clients that reconnect."""

    stream = models.CharField(max_length=64)
    seq = models.BigIntegerField()
    type = models.CharField(max_length=48)
    payload = models.JSONField()
    department_id = models.BigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["stream", "seq"], name="stream_entry_unique")]
        indexes = [models.Index(fields=["created_at"])]
