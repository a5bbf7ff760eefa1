from django.conf import settings
from django.db import models
from django.db.models import Q

from hub.lib.audit_chain import GENESIS_HASH


class AppendOnly(Exception):
    """An audit row may only be inserted; it is never changed or removed."""


class AuditQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise AppendOnly("audit rows are append-only")

    def delete(self):
        raise AppendOnly("audit rows are append-only")

    update.queryset_only = True
    delete.queryset_only = True


class AuditEntry(models.Model):
    """Who read or changed what patient data, when, from where. Rows are only
    ever inserted (`hub.lib.audit.record`): each practice's rows form a hash
    chain (`sequence`, `prev_hash`, `hash`; rows without a practice form the
    system chain) that `manage.py verify_audit` re-checks. See docs/audit.md."""

    practice = models.ForeignKey("hub.Practice", null=True, on_delete=models.PROTECT, related_name="+")
    sequence = models.BigIntegerField(help_text="Position in the practice's chain, from 1.")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    action = models.CharField(max_length=64)
    object_type = models.CharField(max_length=32)
    object_id = models.CharField(max_length=64)
    # Not a foreign key on purpose: purging a patient's data must neither be
    # blocked by nor change the record of who saw it.
    patient_id = models.BigIntegerField(null=True, blank=True,
                                        help_text="The patient whose data was read or changed, if any.")
    ip = models.GenericIPAddressField(null=True, blank=True)
    via = models.CharField(max_length=16, help_text="console, api, socket, dashboard, system")
    detail = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField()
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)

    objects = AuditQuerySet.as_manager()

    class Meta:
        indexes = [
            models.Index(fields=["practice", "created_at"]),
            models.Index(fields=["object_type", "object_id"]),
            models.Index(fields=["practice", "patient_id", "sequence"], condition=Q(patient_id__isnull=False),
                         name="audit_patient_idx"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["practice", "sequence"], condition=Q(practice__isnull=False),
                                    name="audit_practice_sequence_unique"),
            models.UniqueConstraint(fields=["sequence"], condition=Q(practice__isnull=True),
                                    name="audit_system_sequence_unique"),
        ]
        verbose_name_plural = "audit entries"

    def __str__(self) -> str:
        return f"{self.action} {self.object_type}:{self.object_id}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise AppendOnly("audit rows are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnly("audit rows are append-only")


class AuditChainHead(models.Model):
    """The end of one audit chain: the last sequence and hash written. The
    writer locks this row, so a chain never forks; each practice has its own,
    so practices never wait for each other. `chain` is the practice id, 0 for
    the system chain."""

    chain = models.BigIntegerField(primary_key=True)
    sequence = models.BigIntegerField(default=0)
    hash = models.CharField(max_length=64, default=GENESIS_HASH)

    def __str__(self) -> str:
        return f"audit chain {self.chain} at {self.sequence}"
