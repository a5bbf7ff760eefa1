"""Facts the KPIs are computed from.

Every row here is derived from the timeline (hub.Event), the SLA clocks and
the presence ledger by `kpi.derive`, one patient at a time, and can be
thrown away and rebuilt (`manage.py kpi_rebuild`). Nothing here is counted
up or down: a fact is recomputed whole from the events behind it, so it
cannot drift from them. docs/kpi.md defines each field and metric.
"""

from django.conf import settings
from django.db import models

from hub.models.base import PracticeScoped


class Episode(PracticeScoped):
    """One piece of work with a patient: a conversation from its start, or
    from the patient writing again after it was resolved (a reopen), until
    it is resolved."""

    conversation = models.ForeignKey("hub.Conversation", on_delete=models.CASCADE, related_name="+", db_index=False)
    patient = models.ForeignKey("hub.Patient", on_delete=models.CASCADE, related_name="+")
    number = models.PositiveSmallIntegerField(help_text="1 for the conversation's start, 2 after the first reopen, ...")
    opened_at = models.DateTimeField()
    opened_by = models.CharField(max_length=8, help_text="patient, or staff (a conversation no inbound started)")
    channel = models.CharField(max_length=16, help_text="Channel of the episode's first inbound contact.")
    first_department = models.ForeignKey("hub.Department", null=True, on_delete=models.SET_NULL, related_name="+")
    department = models.ForeignKey("hub.Department", null=True, on_delete=models.SET_NULL, related_name="+",
                                   help_text="Where it ended (or is now).")
    topic = models.ForeignKey("hub.Topic", null=True, on_delete=models.SET_NULL, related_name="+")
    first_response_at = models.DateTimeField(null=True)
    first_response_seconds = models.FloatField(null=True, help_text="Business seconds, opened to first response.")
    replies = models.PositiveIntegerField(default=0, help_text="Patient waits that ended with a response.")
    reply_seconds = models.FloatField(default=0, help_text="Their business seconds, summed.")
    transfers = models.PositiveIntegerField(default=0)
    resolved_at = models.DateTimeField(null=True)
    resolution_seconds = models.FloatField(null=True)
    disposition = models.CharField(max_length=32, blank=True, default="")
    resolver = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    recontact_at = models.DateTimeField(null=True, help_text="The patient's next contact needing a response, "
                                                                "after this was resolved.")
    handle_seconds = models.FloatField(default=0, help_text="Time in an agent's hands (not snoozed).")
    sla_met = models.PositiveSmallIntegerField(default=0)
    sla_breached = models.PositiveSmallIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["conversation", "number"], name="kpi_episode_unique")]
        indexes = [models.Index(fields=["practice", "opened_at"]), models.Index(fields=["practice", "resolved_at"])]


class Contact(PracticeScoped):
    """One inbound contact: a phone call, or a chat/text episode the patient
    opened with a message. Volume, speed of answer, abandonment and service
    level count these."""

    class Outcome(models.TextChoices):
        ANSWERED = "answered", "Answered"
        ABANDONED = "abandoned", "Abandoned while waiting"
        VOICEMAIL = "voicemail", "Left a voicemail"
        CALLBACK = "callback", "Asked for a call-back"
        MISSED = "missed", "Hung up before the queue"
        FAILED = "failed", "Failed"
        CLOSED = "closed", "Resolved without a response"
        WAITING = "waiting", "Still waiting"

    episode = models.ForeignKey(Episode, on_delete=models.CASCADE, related_name="contacts")
    patient = models.ForeignKey("hub.Patient", on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=64, help_text="call:<CallSid> or episode:<id>")
    channel = models.CharField(max_length=16)
    department = models.ForeignKey("hub.Department", null=True, on_delete=models.SET_NULL, related_name="+")
    topic = models.ForeignKey("hub.Topic", null=True, on_delete=models.SET_NULL, related_name="+")
    offered_at = models.DateTimeField()
    queued = models.BooleanField(default=True, help_text="Reached a queue (a call that got past the menu).")
    outcome = models.CharField(max_length=16, choices=Outcome.choices)
    answered_at = models.DateTimeField(null=True)
    wait_seconds = models.FloatField(null=True, help_text="Until answered or abandoned: hold time for calls, "
                                                          "business seconds for messages.")
    agent = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+",
                              help_text="Who answered.")
    talk_seconds = models.FloatField(null=True)

    class Meta:
        indexes = [models.Index(fields=["practice", "offered_at"])]


class AgentEpisode(PracticeScoped):
    """One agent's part in one episode."""

    episode = models.ForeignKey(Episode, on_delete=models.CASCADE, related_name="agents")
    patient = models.ForeignKey("hub.Patient", on_delete=models.CASCADE, related_name="+")
    agent = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    first_at = models.DateTimeField(help_text="When they first held or answered it.")
    held_seconds = models.FloatField(default=0)
    replies = models.PositiveIntegerField(default=0)
    transfers = models.PositiveSmallIntegerField(default=0, help_text="Transfers they made.")
    resolved = models.BooleanField(default=False)

    class Meta:
        indexes = [models.Index(fields=["practice", "first_at"]), models.Index(fields=["agent", "first_at"])]


class AgentSpan(PracticeScoped):
    """A stretch of time an agent held a conversation or talked on a call."""

    class Kind(models.TextChoices):
        HOLDING = "holding", "Holding a conversation"
        TALKING = "talking", "On a call"

    episode = models.ForeignKey(Episode, on_delete=models.CASCADE, related_name="spans")
    patient = models.ForeignKey("hub.Patient", on_delete=models.CASCADE, related_name="+")
    agent = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=8, choices=Kind.choices)
    start = models.DateTimeField()
    end = models.DateTimeField(null=True, help_text="Empty while it lasts.")

    class Meta:
        indexes = [models.Index(fields=["practice", "start"])]


class RollupState(models.Model):
    """How far the incremental rollup has read the timeline."""

    name = models.CharField(max_length=32, unique=True)
    last_event_id = models.BigIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)


class Shift(PracticeScoped):
    """When an agent is scheduled to work, week by week: what the staffing
    forecast compares its need against."""

    class Weekday(models.IntegerChoices):
        MONDAY = 0, "Monday"
        TUESDAY = 1, "Tuesday"
        WEDNESDAY = 2, "Wednesday"
        THURSDAY = 3, "Thursday"
        FRIDAY = 4, "Friday"
        SATURDAY = 5, "Saturday"
        SUNDAY = 6, "Sunday"

    agent = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="shifts")
    weekday = models.PositiveSmallIntegerField(choices=Weekday.choices)
    starts = models.TimeField(help_text="Local time (the practice's time zone).")
    ends = models.TimeField()

    class Meta:
        ordering = ["weekday", "starts"]
        constraints = [models.CheckConstraint(condition=models.Q(ends__gt=models.F("starts")),
                                              name="kpi_shift_ends_after_start")]

    def __str__(self) -> str:
        return f"{self.get_weekday_display()} {self.starts:%H:%M}-{self.ends:%H:%M}"
