"""The Django admin, for configuring the hub, is for superusers only.

Agents, supervisors and practice admins work in the console; being marked
`is_staff` (or holding model permissions) does not open the admin. Where a
superuser has two-factor sign-in (or it is required for superusers), the
session must have passed it.
"""

from django.contrib import admin
from django.contrib.admin.apps import AdminConfig


class HubAdminSite(admin.AdminSite):
    site_header = "Patient messaging hub: configuration"
    site_title = "Hub configuration"
    index_title = "Configuration"

    def has_permission(self, request):
        from hub.lib import twofactor  # models: not importable while apps load

        user = request.user
        return (user.is_active and user.is_superuser
                and twofactor.pending_step(user, request.session) is None)


class ReadOnlyAdmin(admin.ModelAdmin):
    """For records no one edits: ledgers, reports, the audit trail."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class AuditedAdmin(admin.ModelAdmin):
    """A changed value of any of `audited_fields` is written to the
    practice's audit trail as `audit_action`, with before and after."""

    audited_fields: tuple[str, ...] = ()
    audit_action = ""

    def save_model(self, request, obj, form, change):
        from hub.lib import audit  # models: not importable while apps load

        before = {name: form.initial.get(name) for name in self.audited_fields} if change else None
        super().save_model(request, obj, form, change)
        after = {name: getattr(obj, name) for name in self.audited_fields}
        if before != after:
            audit.record(user_id=request.user.pk, practice_id=obj.practice_id, action=self.audit_action, obj=obj,
                         via="admin", ip=audit.client_ip(request.META), detail={"before": before, "after": after})


class HubAdminConfig(AdminConfig):
    default_site = "hub.admin_site.HubAdminSite"
