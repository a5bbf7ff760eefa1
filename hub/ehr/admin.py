"""The EHR connection in the Django admin (changes audited); links and
identity checks are read-only records."""

from django.contrib import admin
from django.db import models

from hub.admin_site import AuditedAdmin, ReadOnlyAdmin
from hub.ehr.models import EhrConnection, EhrLink, IdentityCheck


@admin.register(EhrConnection)
class EhrConnectionAdmin(AuditedAdmin):
    list_display = ("practice", "label", "base_url", "auth", "enabled")
    audited_fields = ("label", "base_url", "auth", "client_id", "scope", "token_url", "key_id", "secret_env",
                      "timeout_seconds", "enabled")
    audit_action = "ehr.connection_changed"
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}  # FHIR servers speak TLS


@admin.register(EhrLink)
class EhrLinkAdmin(ReadOnlyAdmin):
    list_display = ("patient_id", "ehr_patient_id", "linked_by", "linked_at")
    list_filter = ("practice",)


@admin.register(IdentityCheck)
class IdentityCheckAdmin(ReadOnlyAdmin):
    list_display = ("conversation_id", "method", "verified_by", "verified_at", "failed_attempts")
    list_filter = ("practice", "method")
    exclude = ("code_hash",)
