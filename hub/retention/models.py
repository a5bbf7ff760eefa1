"""Retention policies, legal holds and the report of every purge.

Nothing here holds patient data: policies are numbers of days, holds name a
patient or conversation by id (their reason is written by a practice admin),
and a purge run records ids, cutoffs and counts only."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q

MIN_DAYS = 30
MAX_DAYS = 36500
DEFAULT_DAYS = 2190  # six years

# What a policy governs, in the order the page, the command and the report
# show them: (kind, policy field, label).
KINDS = (
    ("messages", "message_days", "Messages"),
    ("attachments", "attachment_days", "Attachments"),
    ("recordings", "recording_days", "Call recordings"),
    ("transcripts", "transcript_days", "Voicemail transcripts"),
)


def _days_field(verbose_name: str, help_text: str) -> models.PositiveIntegerField:
    return models.PositiveIntegerField(
        verbose_name, null=True, blank=True, default=DEFAULT_DAYS,
        validators=[MinValueValidator(MIN_DAYS), MaxValueValidator(MAX_DAYS)],
        help_text=f"{help_text} Whole days, {MIN_DAYS} to {MAX_DAYS}; empty keeps them forever.",
    )


class RetentionPolicy(models.Model):
    """How long one practice keeps each kind of content. A practice without
    a row is purged by the defaults (six years for everything)."""

    practice = models.OneToOneField("hub.Practice", on_delete=models.CASCADE, related_name="retention_policy")
    message_days = _days_field("messages (days)", "Message text, notes and the content of timeline lines.")
    attachment_days = _days_field("attachments (days)", "Files sent or received in messages, and their names.")
    recording_days = _days_field("call recordings (days)", "Voicemail recordings, here and at Twilio.")
    transcript_days = _days_field("transcripts (days)", "Voicemail transcripts.")
    updated_at = models.DateTimeField(null=True, blank=True)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")

    class Meta:
        verbose_name_plural = "retention policies"
        constraints = [
            models.CheckConstraint(
                condition=Q(**{f"{field}__isnull": True}) | Q(**{f"{field}__gte": MIN_DAYS, f"{field}__lte": MAX_DAYS}),
                name=f"retention_{field}_range",
            )
            for _, field, _ in KINDS
        ]

    def __str__(self) -> str:
        return f"Retention policy of practice #{self.practice_id}"

    def days(self) -> dict[str, int | None]:
        return {kind: getattr(self, field) for kind, field, _ in KINDS}

    def cutoffs(self, now: datetime) -> dict[str, datetime | None]:
        """Per kind, the moment before which content is purged (None: kept forever)."""
        return {kind: None if days is None else now - timedelta(days=days) for kind, days in self.days().items()}


class LegalHold(models.Model):
    """Stops every purge of one patient's data (all their conversations) or
    of one conversation, until released. Holds are never deleted."""

    practice = models.ForeignKey("hub.Practice", on_delete=models.CASCADE, related_name="+")
    patient = models.ForeignKey("hub.Patient", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    conversation = models.ForeignKey("hub.Conversation", null=True, blank=True, on_delete=models.PROTECT,
                                     related_name="+")
    reason = models.TextField(help_text="Why the data must be kept (a matter, a request); required.")
    placed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    placed_at = models.DateTimeField()
    released_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="+")
    released_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=(Q(patient__isnull=False, conversation__isnull=True)
                           | Q(patient__isnull=True, conversation__isnull=False)),
                name="legal_hold_one_target",
            ),
            models.CheckConstraint(condition=~Q(reason=""), name="legal_hold_reason_required"),
            models.CheckConstraint(
                condition=Q(released_at__isnull=True, released_by__isnull=True)
                | Q(released_at__isnull=False, released_by__isnull=False),
                name="legal_hold_release_complete",
            ),
        ]
        indexes = [models.Index(fields=["practice", "released_at"])]

    def __str__(self) -> str:
        return f"Legal hold #{self.pk} on {self.target_label}"

    def clean(self):
        from django.core.exceptions import ValidationError

        if (self.patient_id is None) == (self.conversation_id is None):
            raise ValidationError("Hold either a patient or a conversation (exactly one).")
        target = self.patient if self.patient_id is not None else self.conversation
        if self.practice_id is not None and target.practice_id != self.practice_id:
            raise ValidationError("The patient or conversation belongs to another practice.")

    @property
    def active(self) -> bool:
        return self.released_at is None

    @property
    def target_label(self) -> str:
        if self.patient_id is not None:
            return f"patient #{self.patient_id}"
        return f"conversation #{self.conversation_id}"


class PurgeRun(models.Model):
    """The report of one purge of one practice: when, the cutoffs it used,
    how much it removed and how much a legal hold kept. Ids and counts only,
    never patient data. Each purged event also carries this run's id in its
    data (`purge_run`), so the per-item record is the timeline itself."""

    class Status(models.TextChoices):
        RUNNING = "running", "Running"
        OK = "ok", "Finished"
        FAILED = "failed", "Failed"

    practice = models.ForeignKey("hub.Practice", on_delete=models.CASCADE, related_name="+")
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.RUNNING)
    trigger = models.CharField(max_length=16, default="schedule", help_text="schedule or command")
    cutoffs = models.JSONField(default=dict, blank=True, help_text="Per kind: the cutoff used (ISO time), or null.")
    purged = models.JSONField(default=dict, blank=True, help_text="Per kind: how many items were purged.")
    held = models.JSONField(default=dict, blank=True, help_text="Per kind: how many were kept by a legal hold.")
    error = models.CharField(max_length=200, blank=True, default="", help_text="What failed (no patient data).")

    class Meta:
        indexes = [models.Index(fields=["practice", "started_at"])]

    def __str__(self) -> str:
        return f"Purge run #{self.pk} ({self.status})"


class ProviderDeletion(models.Model):
    """A copy the provider holds (a call recording at Twilio) that a purge
    asked to delete. Written in the purge's transaction, carried out after
    it commits; one that fails is retried by the next run."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        DONE = "done", "Deleted"
        FAILED = "failed", "Refused by the provider"

    practice = models.ForeignKey("hub.Practice", on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=16, default="recording")
    channel = models.CharField(max_length=16, default="voice")
    provider_id = models.CharField(max_length=64)
    event_id = models.BigIntegerField(help_text="The timeline event the copy belonged to.")
    run = models.ForeignKey(PurgeRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    error_code = models.CharField(max_length=32, blank=True, default="")
    created_at = models.DateTimeField()
    done_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["channel", "kind", "provider_id"],
                                               name="provider_deletion_unique")]
        indexes = [models.Index(fields=["practice", "status"])]

    def __str__(self) -> str:
        return f"Deletion of {self.kind} {self.provider_id} ({self.status})"
