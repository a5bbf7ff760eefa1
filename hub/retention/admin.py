"""Retention in the Django admin. Changes made here are audited like the
console's; purge reports and provider deletions are read-only."""

from django.contrib import admin, messages

from hub.admin_site import AuditedAdmin, ReadOnlyAdmin
from hub.lib import audit, clock
from hub.retention import actions
from hub.retention.models import KINDS, LegalHold, ProviderDeletion, PurgeRun, RetentionPolicy


@admin.register(RetentionPolicy)
class RetentionPolicyAdmin(AuditedAdmin):
    list_display = ("practice", "message_days", "attachment_days", "recording_days", "transcript_days", "updated_at")
    readonly_fields = ("updated_at", "updated_by")
    audited_fields = tuple(field for _, field, _ in KINDS)
    audit_action = "retention.policy_changed"

    def save_model(self, request, obj, form, change):
        obj.updated_at, obj.updated_by = clock.now(), request.user
        super().save_model(request, obj, form, change)

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(LegalHold)
class LegalHoldAdmin(admin.ModelAdmin):
    list_display = ("id", "practice", "patient_id", "conversation_id", "placed_at", "placed_by", "released_at")
    list_filter = ("practice",)
    raw_id_fields = ("patient", "conversation")
    actions = ["release"]

    def get_fields(self, request, obj=None):
        if obj is None:
            return ("practice", "patient", "conversation", "reason")
        return ("practice", "patient", "conversation", "reason", "placed_by", "placed_at", "released_by",
                "released_at")

    def get_readonly_fields(self, request, obj=None):
        return () if obj is None else self.get_fields(request, obj)

    def save_model(self, request, obj, form, change):
        if change:
            return
        obj.placed_by, obj.placed_at = request.user, clock.now()
        super().save_model(request, obj, form, change)
        audit.record(user_id=request.user.pk, practice_id=obj.practice_id, action="legal_hold.placed", obj=obj,
                     via="admin", ip=audit.client_ip(request.META), detail=actions.hold_target(obj),
                     patient_id=actions.hold_patient_id(obj))

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description="Release the selected holds")
    def release(self, request, queryset):
        released = 0
        for hold in queryset.filter(released_at__isnull=True):
            try:
                actions.release_hold(hold.practice_id, hold.pk, request.user, via="admin",
                                     ip=audit.client_ip(request.META))
            except actions.AlreadyReleased:
                continue
            released += 1
        messages.success(request, f"{released} hold(s) released.")


@admin.register(PurgeRun)
class PurgeRunAdmin(ReadOnlyAdmin):
    list_display = ("id", "practice", "started_at", "finished_at", "status", "trigger")
    list_filter = ("status", "practice")


@admin.register(ProviderDeletion)
class ProviderDeletionAdmin(ReadOnlyAdmin):
    list_display = ("id", "practice", "kind", "provider_id", "status", "attempts", "error_code", "done_at")
    list_filter = ("status", "kind")
