"""The EHR connection in the Django admin (changes audited); links and
identity checks are read-only records."""

from django.contrib import admin

from hub.admin_site import ReadOnlyAdmin
from hub.ehr.models import EhrConnection, EhrLink, IdentityCheck
from hub.lib import audit

AUDITED = ("label", "base_url", "auth", "client_id", "scope", "token_url", "key_id", "secret_env",
           "timeout_seconds", "enabled")


@admin.register(EhrConnection)
class EhrConnectionAdmin(admin.ModelAdmin):
    list_display = ("practice", "label", "base_url", "auth", "enabled")

    def save_model(self, request, obj, form, change):
        before = {name: form.initial.get(name) for name in AUDITED} if change else None
        super().save_model(request, obj, form, change)
        after = {name: getattr(obj, name) for name in AUDITED}
        if before != after:
            audit.record(user_id=request.user.pk, practice_id=obj.practice_id, action="ehr.connection_changed",
                         obj=obj, via="admin", ip=audit.client_ip(request.META),
                         detail={"before": before, "after": after})


@admin.register(EhrLink)
class EhrLinkAdmin(ReadOnlyAdmin):
    list_display = ("patient_id", "ehr_patient_id", "linked_by", "linked_at")
    list_filter = ("practice",)


@admin.register(IdentityCheck)
class IdentityCheckAdmin(ReadOnlyAdmin):
    list_display = ("conversation_id", "method", "verified_by", "verified_at", "failed_attempts")
    list_filter = ("practice", "method")
    exclude = ("code_hash",)
